use super::*;

const DIR: &str = "/home/ubuntu/atp";

fn ok(stdout: &str) -> ProbeOutput {
    ProbeOutput {
        stdout: stdout.into(),
        stderr: String::new(),
        exit_code: Some(0),
    }
}

fn config(backend_command: &str) -> String {
    serde_json::json!({
        "name": "atp",
        "services": {
            "backend-aws": {"profiles": ["aws"], "command": backend_command.split(' ').collect::<Vec<_>>(),
                            "environment": {"DATABASE_URL": "[redacted]", "API_KEY": "[redacted]"}},
            "db": {"profiles": ["aws"], "environment": {"DATABASE_URL": "[redacted]", "API_KEY": "[redacted]"}}
        }
    })
    .to_string()
}

fn container(service: &str, state: &str, process: &str) -> serde_json::Value {
    serde_json::json!({
        "Id": format!("{service}0000000000"), "Name": format!("/atp-{service}-1"), "Path": process, "Args": [],
        "Image": "sha256:aaa", "State": {"Status": state, "ExitCode": 0},
        "HostConfig": {"RestartPolicy": {"Name": "unless-stopped"}},
        "Config": {"Image": format!("reg/{service}:lab"), "Labels": {
            "com.docker.compose.project": "atp", "com.docker.compose.service": service,
            "com.docker.compose.oneoff": "False"}}
    })
}

/// The engine's list of running containers, with one that publishes `ip:port`.
fn publisher(name: &str, service: &str, ip: &str, port: u16) -> String {
    serde_json::json!([{"Id": "x", "Names": [format!("/{name}")],
        "Labels": {"com.docker.compose.project.working_dir": DIR, "com.docker.compose.service": service},
        "Ports": [{"IP": ip, "PrivatePort": port, "PublicPort": port, "Type": "tcp"}]}])
    .to_string()
}

fn outputs(extra: &[(Probe, ProbeOutput)]) -> Outputs {
    let containers = serde_json::json!([
        container("backend-aws", "running", "/usr/local/bin/gunicorn app:app"),
        container("db", "running", "postgres")
    ]);
    let mut probes: BTreeMap<Probe, ProbeOutput> = [
        (
            Probe::ComposeConfig,
            ok(&config("gunicorn app:app --workers 2")),
        ),
        (Probe::Containers, ok(&containers.to_string())),
        (
            Probe::Processes,
            ok("== cgroups\n31 backend-aws0000000000\n32 db0000000000\n== processes\n   31 /usr/local/bin/gunicorn app:app --workers 2\n   32 postgres\n"),
        ),
        (
            Probe::Listeners,
            ok("LISTEN 0 4096 127.0.0.1:8002 0.0.0.0:*\n"),
        ),
        (
            Probe::Publishers,
            ok(&publisher(
                "atp-backend-aws-1",
                "backend-aws",
                "127.0.0.1",
                8002,
            )),
        ),
        (
            Probe::Systemd,
            ok("== systemd not running\n== unit files\n"),
        ),
        (Probe::EnvStat, ok("600 ubuntu ubuntu 120\n")),
        (
            Probe::EnvRead,
            ok("DATABASE_URL=[redacted]\nAPI_KEY=[redacted]\n"),
        ),
        (Probe::EnvTemplate, ok("DATABASE_URL=\nAPI_KEY=\n")),
    ]
    .into_iter()
    .collect();
    probes.extend(extra.iter().cloned());
    Outputs::new(probes)
}

fn status(id: CheckId, out: &Outputs) -> Verdict {
    evaluate(id, out, &Policy::builtin(), DIR)
}

#[test]
fn a_clean_host_passes_the_guardrails_and_env() {
    let out = outputs(&[]);
    for id in [
        CheckId::NoReload,
        CheckId::NoSystemdMix,
        CheckId::AwsProfileOnly,
        CheckId::ComposeOnly,
        CheckId::EnvConfigured,
        CheckId::ServicesRunning,
    ] {
        let verdict = status(id, &out);
        assert_eq!(
            verdict.status,
            CheckStatus::Pass,
            "{id:?}: {}",
            verdict.note
        );
    }
}

#[test]
fn a_unit_file_a_stray_listener_and_a_foreign_container_each_fail() {
    let systemd =
        ok("== systemd not running\n== unit files\n/etc/systemd/system/backend-aws.service\n");
    let verdict = status(
        CheckId::NoSystemdMix,
        &outputs(&[(Probe::Systemd, systemd)]),
    );
    assert_eq!(verdict.status, CheckStatus::Fail);
    assert!(verdict
        .note
        .contains("/etc/systemd/system/backend-aws.service"));
    // Found by its name and by naming the project dir: listed once.
    let twice = ok("== systemd running\n== unit files\n/run/systemd/transient/backend.service\n/run/systemd/transient/backend.service\n== running units\nssh.service\n");
    let verdict = status(CheckId::NoSystemdMix, &outputs(&[(Probe::Systemd, twice)]));
    assert_eq!(verdict.status, CheckStatus::Fail);
    assert_eq!(
        verdict.note.matches("transient/backend.service").count(),
        1,
        "{}",
        verdict.note
    );
    // A unit running under a service's name, whatever file (or none) defined it.
    let rogue = ok("== systemd running\n== unit files\n== running units\nssh.service\nmarket-updater.service\n");
    let verdict = status(CheckId::NoSystemdMix, &outputs(&[(Probe::Systemd, rogue)]));
    assert_eq!(verdict.status, CheckStatus::Fail);
    assert!(
        verdict.note.contains("market-updater.service"),
        "{}",
        verdict.note
    );
    let quiet =
        ok("== systemd running\n== unit files\n== running units\nssh.service\ndocker.service\n");
    let verdict = status(CheckId::NoSystemdMix, &outputs(&[(Probe::Systemd, quiet)]));
    assert_eq!(verdict.status, CheckStatus::Pass, "{}", verdict.note);

    let listeners =
        ok("LISTEN 0 4096 127.0.0.1:8002 0.0.0.0:*\nLISTEN 0 5 0.0.0.0:3000 0.0.0.0:*\n");
    let verdict = status(
        CheckId::ComposeOnly,
        &outputs(&[(Probe::Listeners, listeners)]),
    );
    assert_eq!(verdict.status, CheckStatus::Fail);
    assert!(verdict.note.contains("0.0.0.0:3000"), "{}", verdict.note);

    let containers = serde_json::json!([
        container("backend-aws", "running", "gunicorn"),
        container("worker-dev", "running", "sh")
    ]);
    let verdict = status(
        CheckId::AwsProfileOnly,
        &outputs(&[(Probe::Containers, ok(&containers.to_string()))]),
    );
    assert_eq!(verdict.status, CheckStatus::Fail);
    assert!(verdict.note.contains("worker-dev"), "{}", verdict.note);
}

#[test]
fn env_fails_on_loose_mode_and_on_a_missing_key() {
    let verdict = status(
        CheckId::EnvConfigured,
        &outputs(&[(Probe::EnvStat, ok("644 ubuntu ubuntu 9\n"))]),
    );
    assert_eq!(verdict.status, CheckStatus::Fail);
    assert!(verdict.note.contains("mode 644"));

    let verdict = status(
        CheckId::EnvConfigured,
        &outputs(&[(Probe::EnvRead, ok("DATABASE_URL=[redacted]\n"))]),
    );
    assert_eq!(verdict.status, CheckStatus::Fail);
    assert!(verdict.note.contains("API_KEY"), "{}", verdict.note);
}

#[test]
fn env_fails_on_a_pasted_line_by_its_number_alone_and_reads_an_example_of_bare_names() {
    let pasted = "ghp_FAKEfakeFAKE0123456789";
    let verdict = status(
        CheckId::EnvConfigured,
        &outputs(&[(
            Probe::EnvRead,
            ok(&format!(
                "DATABASE_URL=[redacted]\n{pasted}\nAPI_KEY=[redacted]\n"
            )),
        )]),
    );
    assert_eq!(verdict.status, CheckStatus::Fail);
    assert!(
        verdict.note.contains("(line 2)") && !verdict.note.contains(pasted),
        "{}",
        verdict.note
    );

    // An example file that lists names alone, lower-case ones too.
    let verdict = status(
        CheckId::EnvConfigured,
        &outputs(&[(
            Probe::EnvTemplate,
            ok("DATABASE_URL\nAPI_KEY\nsecretkeybase\nOptional (leave empty):\n"),
        )]),
    );
    assert_eq!(verdict.status, CheckStatus::Fail);
    assert!(
        verdict.note.contains("lacks 1 key(s)") && verdict.note.contains("secretkeybase"),
        "{}",
        verdict.note
    );
}

#[test]
fn code_logs_and_updates_are_read_from_their_probes() {
    let head = "1111111111111111111111111111111111111111";
    let other = "2222222222222222222222222222222222222222";
    let out = outputs(&[
        (Probe::GitHead, ok(&format!("{head}\n"))),
        (Probe::GitRemoteHead, ok(&format!("{other}\trefs/heads/main\n"))),
        (Probe::GitStatus, ok("")),
        (Probe::Logs, ok("== backend-aws\nok\nERROR db down\n== frontend-aws\nready\n")),
        (Probe::ComposeDryRun, ok(" DRY-RUN MODE -  Container atp-db-1  Running\n DRY-RUN MODE -  Container atp-backend-aws-1  Recreate\n")),
    ]);
    let verdict = status(CheckId::CodeDeployed, &out);
    assert_eq!(verdict.status, CheckStatus::Fail);
    assert!(verdict.note.contains("111111111111") && verdict.note.contains("222222222222"));
    let verdict = status(CheckId::LogsClean, &out);
    assert_eq!(verdict.status, CheckStatus::Fail);
    assert!(verdict.note.contains("ERROR db down"));
    let verdict = status(CheckId::ServicesUpdated, &out);
    assert_eq!(verdict.status, CheckStatus::Fail);
    assert!(
        verdict.note.contains("atp-backend-aws-1 Recreate"),
        "{}",
        verdict.note
    );
}

#[test]
fn waiting_for_a_healthy_dependency_is_no_pending_change() {
    let plan = |lines: &str| outputs(&[(Probe::ComposeDryRun, ok(lines))]);
    let waits = " DRY-RUN MODE -  Container atp-db-1  Running\n DRY-RUN MODE -  Container atp-backend-aws-1  Running\n DRY-RUN MODE -  Container atp-db-1  Waiting\n DRY-RUN MODE -  Container atp-db-1  Healthy\n DRY-RUN MODE -  Container atp-job-1  Waiting\n DRY-RUN MODE -  Container atp-job-1  Exited\n";
    let verdict = status(CheckId::ServicesUpdated, &plan(waits));
    assert_eq!(verdict.status, CheckStatus::Pass, "{}", verdict.note);
    let failed_dependency = format!("{waits} DRY-RUN MODE -  Container atp-db-1  Error\n");
    let verdict = status(CheckId::ServicesUpdated, &plan(&failed_dependency));
    assert_eq!(verdict.status, CheckStatus::Fail, "{}", verdict.note);
    let started = " DRY-RUN MODE -  Container atp-db-1  Running\n DRY-RUN MODE -  Container atp-backend-aws-1  Healthy\n";
    let verdict = status(CheckId::ServicesUpdated, &plan(started));
    assert_eq!(verdict.status, CheckStatus::Fail, "{}", verdict.note);
}

#[test]
fn a_policy_service_that_exited_cleanly_was_stopped_but_a_job_may_end() {
    let stopped = |service: &str| {
        let mut db = container(service, "exited", "postgres");
        db["HostConfig"]["RestartPolicy"]["Name"] = "no".into();
        let all = serde_json::json!([container("backend-aws", "running", "gunicorn app:app"), db]);
        let config = serde_json::json!({"name": "atp", "services": {
            "backend-aws": {"profiles": ["aws"], "command": ["gunicorn", "app:app"]},
            service: {"profiles": ["aws"]}}});
        outputs(&[
            (Probe::Containers, ok(&all.to_string())),
            (Probe::ComposeConfig, ok(&config.to_string())),
        ])
    };
    let verdict = status(CheckId::ServicesRunning, &stopped("db"));
    assert_eq!(verdict.status, CheckStatus::Fail, "{}", verdict.note);
    assert!(verdict.note.contains("db is exited"), "{}", verdict.note);
    let verdict = status(CheckId::ServicesRunning, &stopped("seed-job"));
    assert_eq!(verdict.status, CheckStatus::Pass, "{}", verdict.note);
    assert!(
        verdict.note.contains("ended well: seed-job"),
        "{}",
        verdict.note
    );
}

#[test]
fn a_banner_line_in_a_log_does_not_hide_the_lines_after_it_and_an_unread_log_is_said() {
    let logs = |text: &str| outputs(&[(Probe::Logs, ok(text))]);
    let banner = "== backend-aws\n== Running migrations ==\nERROR migration 7 failed\n== frontend-aws\nready\n";
    let verdict = status(CheckId::LogsClean, &logs(banner));
    assert_eq!(verdict.status, CheckStatus::Fail, "{}", verdict.note);
    assert!(
        verdict.note.contains("migration 7 failed"),
        "{}",
        verdict.note
    );
    let unread = status(CheckId::LogsClean, &logs("== frontend-aws\nready\n"));
    assert_eq!(unread.status, CheckStatus::Warn, "{}", unread.note);
    assert!(
        unread.note.contains("backend-aws (its logs were not read)"),
        "{}",
        unread.note
    );
}

#[test]
fn the_logs_read_are_the_policys_logged_services() {
    let mut policy = Policy::builtin();
    policy.services = vec!["api".into(), "web".into()];
    policy.migration_service = "api".into();
    policy.logged_services = vec!["web".into(), "api".into()];
    let probe = Probe::Logs.command(&policy, DIR).render();
    assert!(probe.ends_with(" 200 web api"), "{probe}");
    let logs = |text: &str| outputs(&[(Probe::Logs, ok(text))]);
    let judge = |text: &str| evaluate(CheckId::LogsClean, &logs(text), &policy, DIR);
    let clean = judge("== web\nready\n== api\nstarted\n");
    assert_eq!(clean.status, CheckStatus::Pass, "{}", clean.note);
    assert!(clean.note.ends_with("of web and api."), "{}", clean.note);
    let failing = judge("== web\nready\n== api\nTraceback (most recent call last)\n");
    assert_eq!(failing.status, CheckStatus::Fail, "{}", failing.note);
    assert!(
        failing.note.contains("api: \"Traceback"),
        "{}",
        failing.note
    );
    // The built-in names are not looked for: their sections are just lines of `api`.
    let other = judge("== web\nready\n== api\n== backend-aws\nERROR x\n");
    assert_eq!(other.status, CheckStatus::Fail, "{}", other.note);
}

#[test]
fn an_image_pinned_by_digest_or_named_without_a_tag_is_found() {
    let mut backend = container("backend-aws", "running", "gunicorn app:app");
    backend["Config"]["Image"] = "reg/backend@sha256:abc".into();
    let mut db = container("db", "running", "postgres");
    db["Config"]["Image"] = "docker.io/library/postgres".into();
    let images = [
        serde_json::json!({"Id": "sha256:aaa", "RepoTags": ["reg/backend:lab"], "RepoDigests": ["reg/backend@sha256:abc"]}),
        serde_json::json!({"Id": "sha256:aaa", "RepoTags": ["postgres:latest"], "RepoDigests": []}),
    ]
    .map(|i| i.to_string())
    .join("\n");
    let out = outputs(&[
        (
            Probe::Containers,
            ok(&serde_json::json!([backend, db]).to_string()),
        ),
        (Probe::Images, ok(&images)),
    ]);
    let verdict = status(CheckId::ImagesPulled, &out);
    assert_eq!(verdict.status, CheckStatus::Pass, "{}", verdict.note);
    assert!(
        verdict.note.contains("backend-aws sha256:abc"),
        "{}",
        verdict.note
    );
}

#[test]
fn an_override_file_outside_git_fails_code_deployed_and_other_untracked_files_do_not() {
    let head = "1111111111111111111111111111111111111111";
    let with_status = |status: &str| {
        outputs(&[
            (Probe::GitHead, ok(&format!("{head}\n"))),
            (
                Probe::GitRemoteHead,
                ok(&format!("{head}\trefs/heads/main\n")),
            ),
            (Probe::GitStatus, ok(status)),
        ])
    };
    let clean = status(
        CheckId::CodeDeployed,
        &with_status("!! .env.aws\n?? logs/\n!! node_modules/\nwarning: could not open directory 'data/pg/': Permission denied\n"),
    );
    assert_eq!(clean.status, CheckStatus::Pass, "{}", clean.note);
    for line in [
        "?? docker-compose.override.yml\n",
        "!! compose.override.yaml\n",
    ] {
        let verdict = status(CheckId::CodeDeployed, &with_status(line));
        assert_eq!(verdict.status, CheckStatus::Fail, "{line}");
        assert!(verdict.note.contains("override"), "{}", verdict.note);
    }
    let tracked = status(CheckId::CodeDeployed, &with_status(" M backend/app.py\n"));
    assert_eq!(tracked.status, CheckStatus::Fail);
}

#[test]
fn migrations_not_listed_are_not_nothing_to_apply() {
    let listing = |stderr: &str, exit_code: Option<i64>| {
        let out = ProbeOutput {
            stdout: String::new(),
            stderr: stderr.into(),
            exit_code,
        };
        status(CheckId::Migrations, &outputs(&[(Probe::Migrations, out)]))
    };
    let listed = status(
        CheckId::Migrations,
        &outputs(&[(Probe::Migrations, ok("apply_migration_001.py\n"))]),
    );
    assert_eq!(listed.status, CheckStatus::Manual, "{}", listed.note);
    // No scripts directory (said by the probe, in no host's language): not known to be
    // nothing to apply (the project may keep them elsewhere), so a person ticks it.
    let none = status(
        CheckId::Migrations,
        &outputs(&[(Probe::Migrations, ok("== no directory\n"))]),
    );
    assert_eq!(none.status, CheckStatus::Manual, "{}", none.note);
    assert!(none.note.contains("No scripts directory"), "{}", none.note);
    assert!(none.note.contains("migration_glob"), "{}", none.note);
    // An empty one is.
    let empty = status(
        CheckId::Migrations,
        &outputs(&[(Probe::Migrations, ok(""))]),
    );
    assert_eq!(empty.status, CheckStatus::Na, "{}", empty.note);
    // A host's own words for it are not how it is told.
    let localized = listing("ls: Datei oder Verzeichnis nicht gefunden\n", Some(2));
    assert_eq!(localized.status, CheckStatus::Fail, "{}", localized.note);
    // The project directory gone, or no answer in time: unknown, so it fails.
    let gone = listing("sh: 1: cd: can't cd to /home/ubuntu/atp\n", Some(2));
    assert_eq!(gone.status, CheckStatus::Fail, "{}", gone.note);
    assert!(gone.note.contains("could not be listed"), "{}", gone.note);
    let late = listing("", None);
    assert_eq!(late.status, CheckStatus::Fail, "{}", late.note);
}

/// The no-reload rule's cases.
mod no_reload;
