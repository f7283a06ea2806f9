//! The policy's operations against the lab, each effect checked through Docker and git
//! directly, not through Shipshape: restart, stop, up, git-pull, pull, health, migrate;
//! hostile names refused before anything runs; every run recorded in the history.

use std::path::Path;

use serde_json::Value;
use shipshape_tests::*;

fn inspect(container: &str, format: &str) -> String {
    run("docker", &["inspect", "-f", format, container])
        .trim()
        .to_string()
}

/// Runs git as the lab's user, who owns the repositories.
fn git_as_lab_user(dir: &Path, args: &[&str]) -> String {
    let mut full = vec!["-u", "ubuntu", "--", "git", "-C", dir.to_str().unwrap()];
    full.extend_from_slice(args);
    run("runuser", &full).trim().to_string()
}

#[test]
fn restart_stop_and_up_change_the_containers() {
    let _lab_lock = exclusive();
    let lab = Lab::from_env();
    let home = tempfile::tempdir().unwrap();
    let backend = lab.container("backend-aws");

    let started = inspect(&backend, "{{.State.StartedAt}}");
    ok(&shipshape(
        &lab,
        home.path(),
        &["restart", "Local lab", "backend-aws"],
    ));
    assert_ne!(
        inspect(&backend, "{{.State.StartedAt}}"),
        started,
        "restart did not restart the container"
    );
    assert_eq!(inspect(&backend, "{{.State.Status}}"), "running");

    let updater = lab.container("market-updater-aws");
    ok(&shipshape(
        &lab,
        home.path(),
        &["stop", "Local lab", "market-updater-aws"],
    ));
    assert_eq!(inspect(&updater, "{{.State.Status}}"), "exited");
    ok(&shipshape(&lab, home.path(), &["up", "Local lab"]));
    assert_eq!(inspect(&updater, "{{.State.Status}}"), "running");
}

#[test]
fn git_pull_checks_out_what_was_pushed_to_origin() {
    let _lab_lock = exclusive();
    let lab = Lab::from_env();
    let home = tempfile::tempdir().unwrap();
    let work = run("runuser", &["-u", "ubuntu", "--", "mktemp", "-d"])
        .trim()
        .to_string();
    let clone = Path::new(&work).join("p");
    run(
        "runuser",
        &[
            "-u",
            "ubuntu",
            "--",
            "git",
            "clone",
            "-q",
            &lab.field("origin"),
            clone.to_str().unwrap(),
        ],
    );
    let note = clone.join("DEPLOY_NOTES.md");
    let line = format!("deploy note {:?}\n", std::time::SystemTime::now());
    run(
        "runuser",
        &[
            "-u",
            "ubuntu",
            "--",
            "sh",
            "-c",
            &format!("printf '%s' \"$1\" >> {}", note.display()),
            "sh",
            &line,
        ],
    );
    git_as_lab_user(&clone, &["add", "DEPLOY_NOTES.md"]);
    git_as_lab_user(
        &clone,
        &[
            "-c",
            "user.name=Test",
            "-c",
            "user.email=test@example.invalid",
            "commit",
            "-q",
            "-m",
            "A commit to deploy",
        ],
    );
    git_as_lab_user(&clone, &["push", "-q", "origin", "main"]);
    let pushed = git_as_lab_user(&clone, &["rev-parse", "HEAD"]);
    std::fs::remove_dir_all(&work).ok();

    let project = Path::new(&lab.field("project_dir")).to_path_buf();
    assert_ne!(git_as_lab_user(&project, &["rev-parse", "HEAD"]), pushed);
    ok(&shipshape(&lab, home.path(), &["git-pull", "Local lab"]));
    assert_eq!(git_as_lab_user(&project, &["rev-parse", "HEAD"]), pushed);
}

#[test]
fn pull_fetches_a_new_image_pushed_to_the_registry() {
    let _lab_lock = exclusive();
    let lab = Lab::from_env();
    let home = tempfile::tempdir().unwrap();
    let image = format!("{}/atp/market-updater:lab", lab.field("registry"));
    let old = run("docker", &["image", "inspect", "-f", "{{.Id}}", &image])
        .trim()
        .to_string();

    // A new build of the image, pushed to the registry; the host keeps the old one.
    let scratch = format!("shipshape-test-build-{}", std::process::id());
    run("docker", &["create", "--name", &scratch, &image]);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("build-id"),
        format!("{:?}", std::time::SystemTime::now()),
    )
    .unwrap();
    run(
        "docker",
        &[
            "cp",
            dir.path().join("build-id").to_str().unwrap(),
            &format!("{scratch}:/etc/build-id"),
        ],
    );
    let new = run("docker", &["commit", &scratch, &image])
        .trim()
        .to_string();
    run("docker", &["rm", &scratch]);
    run("docker", &["push", "-q", &image]);
    run("docker", &["tag", &old, &image]);
    assert_eq!(
        run("docker", &["image", "inspect", "-f", "{{.Id}}", &image]).trim(),
        old
    );

    ok(&shipshape(&lab, home.path(), &["pull", "Local lab"]));
    assert_eq!(
        run("docker", &["image", "inspect", "-f", "{{.Id}}", &image]).trim(),
        new,
        "pull did not fetch the new image"
    );
}

#[test]
fn health_and_migrate_run_the_policys_commands_and_are_recorded() {
    let _lab_lock = exclusive();
    let lab = Lab::from_env();
    let home = tempfile::tempdir().unwrap();
    let health = ok(&shipshape(&lab, home.path(), &["health", "Local lab"]));
    assert!(health.contains("\"status\":\"ok\""), "{health}");
    let migrated = ok(&shipshape(
        &lab,
        home.path(),
        &["migrate", "Local lab", "apply_migration_previous_price.py"],
    ));
    assert!(migrated.contains("migration applied"), "{migrated}");
    let missing = shipshape(
        &lab,
        home.path(),
        &["migrate", "Local lab", "apply_migration_not_there.py"],
    );
    assert_eq!(missing.status.code(), Some(2));
    assert_eq!(
        shipshape(&lab, home.path(), &["down", "Local lab"])
            .status
            .code(),
        Some(2),
        "down without --yes"
    );

    let history: Value =
        serde_json::from_str(&ok(&shipshape(&lab, home.path(), &["history", "--json"]))).unwrap();
    let records = history.as_array().unwrap();
    assert_eq!(records.len(), 2, "{history}");
    assert_eq!(records[0]["command"], "cd /home/ubuntu/automated-trading-platform && curl -fsS -m 10 --noproxy '*' -w '\\n%{http_code}\\n' http://localhost:8002/api/health");
    assert_eq!(records[1]["command"], "cd /home/ubuntu/automated-trading-platform && docker compose --profile aws exec -T backend-aws python scripts/apply_migration_previous_price.py");
    for record in records {
        assert_eq!(record["exit_code"], 0);
        assert_eq!(record["output_sha256"].as_str().unwrap().len(), 64);
        assert_eq!(record["target"], "Local lab");
    }
}

#[test]
fn hostile_service_names_exit_2_and_run_nothing() {
    let _lab_lock = exclusive();
    let lab = Lab::from_env();
    let home = tempfile::tempdir().unwrap();
    ok(&shipshape(&lab, home.path(), &["target", "list"])); // first-run setup, no connection
    let log = lab.sshd_log();
    let before = std::fs::metadata(&log).unwrap().len();
    let hostile = [
        ";",
        "backend-aws; touch /tmp/pwned",
        "$(id)",
        "`id`",
        "db && id",
        "-x",
        "--rm",
        "-h",
        "",
        "backend-aws\nid",
        "'",
        "../db",
    ];
    for name in hostile {
        // After `--` even a leading dash reaches Shipshape's own validation.
        for args in [
            vec!["restart", "Local lab", "--", name],
            vec!["logs", "Local lab", "--", name],
            vec!["stop", "Local lab", "--", name],
        ] {
            let output = shipshape(&lab, home.path(), &args);
            assert_eq!(
                output.status.code(),
                Some(2),
                "{args:?}: {}",
                text(&output.stderr)
            );
        }
    }
    assert_eq!(
        std::fs::metadata(&log).unwrap().len(),
        before,
        "a hostile name led to an SSH connection"
    );
    let history = ok(&shipshape(&lab, home.path(), &["history", "--json"]));
    assert_eq!(
        serde_json::from_str::<Value>(&history).unwrap(),
        Value::Array(vec![])
    );
}
