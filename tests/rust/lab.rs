//! The skeleton chain against the lab's real parts: OpenSSH's sshd on loopback, Docker
//! with compose v2, and the Secret Service. Runs the `shipshape` CLI as a user would.

use std::time::{Duration, Instant};

use serde_json::Value;
use shipshape_tests::*;

fn ps_json(lab: &Lab, home: &std::path::Path) -> Value {
    let output = shipshape(lab, home, &["ps", "Local lab", "--json"]);
    assert!(
        output.status.success(),
        "shipshape ps failed: {}",
        text(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("ps --json prints JSON")
}

fn state_of(report: &Value, service: &str) -> String {
    report["services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["service"] == service)
        .map(|s| s["state"].as_str().unwrap().to_string())
        .unwrap_or_else(|| panic!("{service} is not in {report}"))
}

#[test]
fn first_run_creates_the_lab_target_and_lists_the_four_services_running() {
    let _lab_lock = exclusive();
    let lab = Lab::from_env();
    let home = tempfile::tempdir().unwrap();
    let report = ps_json(&lab, home.path());
    assert_eq!(
        report["command"],
        "cd /home/ubuntu/automated-trading-platform && docker compose --profile aws ps --all --format json"
    );
    for service in ["backend-aws", "frontend-aws", "db", "market-updater-aws"] {
        assert_eq!(state_of(&report, service), "running", "{service}");
    }
    assert_eq!(report["host_key"], lab.field("host_key_fingerprint"));

    let listed = shipshape(&lab, home.path(), &["target", "list", "--json"]);
    let targets: Value = serde_json::from_slice(&listed.stdout).unwrap();
    assert_eq!(targets[0]["target"]["name"], "Local lab");
    assert_eq!(targets[0]["host_key"], lab.field("host_key_fingerprint"));
}

#[test]
fn the_private_key_never_lands_in_the_data_dir() {
    let _lab_lock = exclusive();
    let lab = Lab::from_env();
    let home = tempfile::tempdir().unwrap();
    ps_json(&lab, home.path());
    let key = std::fs::read_to_string(lab.field("client_key")).unwrap();
    // Every base64 line of the private key body, and the PEM markers.
    let needles: Vec<&str> = key
        .lines()
        .filter(|l| !l.starts_with("-----") && l.len() > 20)
        .collect();
    assert!(!needles.is_empty());
    let files = files_below(home.path());
    assert!(!files.is_empty(), "the session wrote no files at all");
    for file in files {
        let content = String::from_utf8_lossy(&std::fs::read(&file).unwrap()).into_owned();
        assert!(
            !content.contains("PRIVATE KEY"),
            "{} holds a private key",
            file.display()
        );
        for needle in &needles {
            assert!(
                !content.contains(needle),
                "{} holds private key bytes",
                file.display()
            );
        }
    }
}

#[test]
fn a_wrong_pin_is_refused_before_any_authentication() {
    let _lab_lock = exclusive();
    let lab = Lab::from_env();
    let home = tempfile::tempdir().unwrap();
    let port = lab.field("port");
    let added = shipshape(
        &lab,
        home.path(),
        &[
            "target",
            "add",
            "impostor",
            "--host",
            "127.0.0.1",
            "--port",
            &port,
            "--key",
            "local-lab",
        ],
    );
    assert!(added.status.success(), "{}", text(&added.stderr));
    let wrong = "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    // The lab's own pin is written on first run; overwrite it with a wrong one.
    std::fs::write(
        home.path().join("known_hosts"),
        format!("[127.0.0.1]:{port} {wrong}\n"),
    )
    .unwrap();

    let log = lab.sshd_log();
    let before = std::fs::metadata(&log).unwrap().len() as usize;
    let output = shipshape_with(&lab, home.path(), &["ps", "impostor"], |c| {
        c.env_remove("SHIPSHAPE_LAB"); // keep the lab's pin from being restored
    });
    assert_eq!(
        output.status.code(),
        Some(3),
        "stderr: {}",
        text(&output.stderr)
    );
    let stderr = text(&output.stderr);
    assert!(stderr.contains("does not match"), "{stderr}");
    assert!(
        stderr.contains(&lab.field("host_key_fingerprint")),
        "{stderr}"
    );

    // sshd logs a connection line at once; give it a moment to log the close too.
    std::thread::sleep(Duration::from_millis(300));
    let logged = String::from_utf8_lossy(&std::fs::read(&log).unwrap()[before..]).into_owned();
    assert!(
        logged.contains("Connection from 127.0.0.1"),
        "sshd saw no connection at all:\n{logged}"
    );
    for marker in [
        "userauth-request",
        "Accepted publickey",
        "Failed publickey",
        "Postponed publickey",
    ] {
        assert!(
            !logged.contains(marker),
            "sshd logged an authentication attempt ({marker}):\n{logged}"
        );
    }
}

#[test]
fn without_a_keyring_the_error_names_the_cause_and_the_fix() {
    let _lab_lock = exclusive();
    let lab = Lab::from_env();
    let home = tempfile::tempdir().unwrap();
    let output = shipshape_with(&lab, home.path(), &["ps", "Local lab"], |c| {
        c.env(
            "DBUS_SESSION_BUS_ADDRESS",
            "unix:path=/nonexistent/shipshape-test-bus",
        );
    });
    assert_eq!(output.status.code(), Some(3));
    let stderr = text(&output.stderr);
    assert!(stderr.contains("keyring is not reachable"), "{stderr}");
    assert!(stderr.contains("Secret Service"), "{stderr}");
}

#[test]
fn a_service_stopped_through_docker_shows_as_stopped() {
    let _lab_lock = exclusive();
    let lab = Lab::from_env();
    let home = tempfile::tempdir().unwrap();
    let container = lab.container("backend-aws");
    run("docker", &["stop", "-t", "2", &container]);
    let stopped = ps_json(&lab, home.path());
    run("docker", &["start", &container]);
    assert_eq!(state_of(&stopped, "backend-aws"), "exited");
    assert_eq!(state_of(&stopped, "db"), "running");

    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if state_of(&ps_json(&lab, home.path()), "backend-aws") == "running" {
            break;
        }
        assert!(Instant::now() < deadline, "backend-aws did not come back");
        std::thread::sleep(Duration::from_millis(500));
    }
}
