use super::*;

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
fn a_backend_that_is_not_running_breaks_no_rule_but_is_looked_at_and_fails_its_own_item() {
    let stopped = serde_json::json!([
        container("backend-aws", "exited", "/usr/local/bin/gunicorn app:app"),
        container("db", "running", "postgres")
    ]);
    let out = outputs(&[(Probe::Containers, ok(&stopped.to_string()))]);
    let verdict = status(CheckId::NoReload, &out);
    // A deploy's preflight stops only on a failure: a stopped backend can be deployed.
    assert_eq!(verdict.status, CheckStatus::Warn, "{}", verdict.note);
    assert!(verdict.note.contains("not running"), "{}", verdict.note);
    assert_eq!(
        status(CheckId::ServicesRunning, &out).status,
        CheckStatus::Fail
    );
}

#[test]
fn running_containers_whose_processes_cannot_be_read_are_no_pass() {
    // `/proc` mounted with hidepid: the probe's sections are there, and empty.
    let hidden = outputs(&[(Probe::Processes, ok("== cgroups\n== processes\n"))]);
    let verdict = status(CheckId::NoReload, &hidden);
    assert_eq!(verdict.status, CheckStatus::Warn, "{}", verdict.note);
    assert!(verdict.note.contains("hidepid"), "{}", verdict.note);
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
fn reload_set_through_the_environment_fails_and_gunicorn_behind_a_script_passes() {
    let with_env = |key: &str, value: &str| {
        let config = serde_json::json!({"name": "atp", "services": {
            "backend-aws": {"profiles": ["aws"], "command": ["gunicorn", "app:app"],
                            "environment": {key: value}},
            "db": {"profiles": ["aws"]}}});
        outputs(&[(Probe::ComposeConfig, ok(&config.to_string()))])
    };
    for (key, value) in [
        ("GUNICORN_CMD_ARGS", "--workers 2 --reload"),
        ("UVICORN_RELOAD", "True"),
    ] {
        let verdict = status(CheckId::NoReload, &with_env(key, value));
        assert_eq!(verdict.status, CheckStatus::Fail, "{key}: {}", verdict.note);
        assert!(verdict.note.contains(key), "{}", verdict.note);
    }
    let verdict = status(CheckId::NoReload, &with_env("UVICORN_RELOAD", "false"));
    assert_eq!(verdict.status, CheckStatus::Pass, "{}", verdict.note);

    let script = serde_json::json!([
        container("backend-aws", "running", "/app/start.sh"),
        container("db", "running", "postgres")
    ]);
    let gunicorn = "== cgroups\n31 backend-aws0000000000\n== processes\n   31 /usr/local/bin/gunicorn app:app --workers 2\n";
    let out = outputs(&[
        (Probe::Containers, ok(&script.to_string())),
        (Probe::Processes, ok(gunicorn)),
    ]);
    let verdict = status(CheckId::NoReload, &out);
    assert_eq!(verdict.status, CheckStatus::Pass, "{}", verdict.note);
    let only_db = "== cgroups\n32 db0000000000\n== processes\n   32 postgres\n";
    let nothing = outputs(&[
        (Probe::Containers, ok(&script.to_string())),
        (Probe::Processes, ok(only_db)),
    ]);
    assert_eq!(
        status(CheckId::NoReload, &nothing).status,
        CheckStatus::Fail
    );
    // Set by the image's ENV, which the config never shows: the container's own
    // environment says it (and none of its other values is quoted).
    let mut imaged = container("backend-aws", "running", "/usr/local/bin/gunicorn");
    imaged["Config"]["Env"] = serde_json::json!([
        "GUNICORN_CMD_ARGS=--reload",
        "DATABASE_URL=postgresql://u:fake-pw@db/atp"
    ]);
    let listed = serde_json::json!([imaged, container("db", "running", "postgres")]);
    let out = outputs(&[
        (Probe::Containers, ok(&listed.to_string())),
        (Probe::Processes, ok(gunicorn)),
    ]);
    let verdict = status(CheckId::NoReload, &out);
    assert_eq!(verdict.status, CheckStatus::Fail, "{}", verdict.note);
    assert!(
        verdict
            .note
            .contains("atp-backend-aws-1 has GUNICORN_CMD_ARGS=--reload")
            && !verdict.note.contains("fake-pw"),
        "{}",
        verdict.note
    );
}
