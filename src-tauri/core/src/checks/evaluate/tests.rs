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
        (Probe::Processes, ok("== cgroups\n== processes\n")),
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
fn reload_in_the_compose_config_or_a_process_fails_and_is_quoted() {
    let out = outputs(&[(
        Probe::ComposeConfig,
        ok(&config("uvicorn app:app --reload")),
    )]);
    let verdict = status(CheckId::NoReload, &out);
    assert_eq!(verdict.status, CheckStatus::Fail);
    assert!(
        verdict.note.contains("uvicorn app:app --reload"),
        "{}",
        verdict.note
    );

    let process = "== cgroups\n31 backend-aws0000000000\n== processes\n   31 python -m uvicorn app --reload\n";
    let verdict = status(
        CheckId::NoReload,
        &outputs(&[(Probe::Processes, ok(process))]),
    );
    assert_eq!(verdict.status, CheckStatus::Fail);
    assert!(
        verdict.note.contains("process 31 in atp-backend-aws-1"),
        "{}",
        verdict.note
    );
}

#[test]
fn a_processes_probe_that_listed_nothing_is_no_pass() {
    // What mawk left when a process ended between the glob and the read: nothing.
    for probe in [
        ok(""),
        ProbeOutput {
            stdout: String::new(),
            stderr: "awk: not found".into(),
            exit_code: Some(127),
        },
    ] {
        let verdict = status(CheckId::NoReload, &outputs(&[(Probe::Processes, probe)]));
        assert_eq!(verdict.status, CheckStatus::Fail, "{}", verdict.note);
        assert!(
            verdict.note.contains("processes could not be listed"),
            "{}",
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
