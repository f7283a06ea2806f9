use super::*;
use crate::checklist::CheckStatus;

/// A host whose `.env.aws` holds `ENVIRONMENT=aws`: a word the host prints everywhere.
fn ran_on_a_host_with_a_common_value() -> (BTreeMap<Probe, Ran>, BTreeMap<usize, CommandOutput>) {
    let config = serde_json::json!({"name": "atp", "services": {
            "backend-aws": {"profiles": ["aws"], "environment": {"ENVIRONMENT": "aws"}}}});
    let containers = serde_json::json!([{
            "Id": "b0", "Name": "/atp-backend-aws-1", "Path": "gunicorn", "Args": [],
            "Image": "sha256:aaa", "State": {"Status": "running", "ExitCode": 0},
            "HostConfig": {"RestartPolicy": {"Name": "unless-stopped"}},
            "Config": {"Image": "reg/backend:lab", "Labels": {
                "com.docker.compose.project": "atp", "com.docker.compose.service": "backend-aws",
                "com.docker.compose.oneoff": "False"}}}]);
    let outputs = [
        (
            Probe::EnvRead,
            "ENVIRONMENT=aws\nDB_PASSWORD=pa\"ss123\n".to_string(),
        ),
        (Probe::ComposeConfig, config.to_string()),
        (Probe::Containers, containers.to_string()),
    ];
    let mut ran = BTreeMap::new();
    let mut batches = BTreeMap::new();
    for (index, (probe, stdout)) in outputs.into_iter().enumerate() {
        batches.insert(
            index,
            CommandOutput {
                command: format!("probe {index}"),
                stdout: stdout.clone(),
                stderr: String::new(),
                exit_code: Some(0),
                started_at: String::new(),
                duration_ms: 1,
            },
        );
        let part = Ran {
            batch: index,
            stdout,
            stderr: String::new(),
            exit_code: Some(0),
        };
        ran.insert(probe, part);
    }
    (ran, batches)
}

#[test]
fn an_env_file_that_is_there_but_was_not_read_withholds_every_output() {
    let ran = |stdout: &str, exit_code: Option<i64>| Ran {
        batch: 0,
        stdout: stdout.into(),
        stderr: String::new(),
        exit_code,
    };
    let said = "DATABASE_URL=postgresql://trader:Xq7-fake@db/atp";
    let read = ran(
        "DATABASE_URL=postgresql://trader:Xq7-fake@db/atp\n",
        Some(0),
    );
    let there = ran("600 ubuntu ubuntu 120\n", Some(0));
    let redacted = env_redactor(&read, Some(&there)).redact(said);
    assert!(!redacted.contains("Xq7-fake"), "{redacted}");
    // Timed out, or refused: the values are unknown, so nothing is shown.
    for (read, stat) in [
        (ran("", None), Some(ran("", None))),
        (
            ran("cat: .env.aws: Permission denied\n", Some(1)),
            Some(there.clone()),
        ),
        (ran("", None), None),
        // The project directory not entered (another login, a home of mode 750): the
        // file may well be there.
        (
            ran("", Some(2)),
            Some(ran("sh: 1: cd: can't cd to /home/ubuntu/atp\n", Some(2))),
        ),
        (
            ran("", Some(1)),
            Some(ran(
                "stat: cannot statx '.env.aws': Permission denied\n",
                Some(1),
            )),
        ),
    ] {
        let shown = env_redactor(&read, stat.as_ref()).redact(said);
        assert_eq!(shown, redact::WITHHELD);
    }
    // No such file, as the host says it: nothing to take out.
    let absent = ran(&format!("{}\n", probe::NO_ENV_FILE), Some(1));
    let missing = ran("cat: .env.aws: No such file or directory\n", Some(1));
    assert_eq!(
        env_redactor(&missing, Some(&absent)).redact("plain"),
        "plain"
    );
}

#[test]
fn items_are_decided_on_what_the_host_said_and_kept_redacted() {
    let (ran, batches) = ran_on_a_host_with_a_common_value();
    let redactor = Redactor::from_env_file(&ran[&Probe::EnvRead].stdout);
    let outputs = outputs_as_said(&ran);
    let policy = Policy::builtin();
    let item = item(
        CheckId::AwsProfileOnly,
        &ran,
        &batches,
        &outputs,
        &redactor,
        &policy,
        "/p",
    );
    // Decided on redacted text, "backend-[redacted]" had no aws profile.
    assert_eq!(item.status, CheckStatus::Pass, "{}", item.note);
    let kept: String = item.evidence.iter().map(|e| e.output.clone()).collect();
    assert!(kept.contains("backend-[redacted]"), "{kept}");
    assert!(
        !kept.contains("\"aws\"") && !kept.contains("ss123"),
        "{kept}"
    );
}

#[test]
fn a_note_is_kept_redacted_and_on_one_line() {
    let redactor = Redactor::from_env_file("TOKEN_X=s3cr3t-value\n");
    let said = "health said: s3cr3t-value\n✔ Passed  compose-only  fake row\r\n";
    assert_eq!(
        note(said, &redactor),
        "health said: [redacted] ✔ Passed  compose-only  fake row"
    );
}
