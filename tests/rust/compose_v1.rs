//! A host that has only `docker-compose` v1 (the lab's login on its v1 port hides the v2
//! plugin): Shipshape detects it and the same operations pass, with v1's command forms
//! (`docker-compose --profile aws ...`) and v1's table output for `ps`.

use serde_json::Value;
use shipshape_tests::*;

/// v1 recreates containers under its own names; put the lab back as v2 made it.
struct RestoreV2Containers(String);

impl Drop for RestoreV2Containers {
    fn drop(&mut self) {
        let script = format!(
            "cd {} && docker compose --profile aws up -d --force-recreate --quiet-pull",
            self.0
        );
        let _ = std::process::Command::new("runuser")
            .args(["-u", "ubuntu", "--", "sh", "-c", &script])
            .output();
    }
}

/// The container of `service` in the lab project, whichever compose named it.
fn container_of(lab: &Lab, service: &str) -> String {
    let names = run(
        "docker",
        &[
            "ps",
            "-a",
            "--filter",
            &format!("label=com.docker.compose.service={service}"),
            "--filter",
            &format!(
                "label=com.docker.compose.project.working_dir={}",
                lab.field("project_dir")
            ),
            "--format",
            "{{.Names}}",
        ],
    );
    names
        .lines()
        .next()
        .unwrap_or_else(|| panic!("no container for {service}"))
        .to_string()
}

fn status_of(lab: &Lab, service: &str) -> String {
    run(
        "docker",
        &[
            "inspect",
            "-f",
            "{{.State.Status}}",
            &container_of(lab, service),
        ],
    )
    .trim()
    .to_string()
}

#[test]
fn with_compose_v1_only_the_same_operations_pass() {
    let _lab_lock = exclusive();
    let lab = Lab::from_env();
    let home = tempfile::tempdir().unwrap();
    let cli = |args: &[&str]| ok(&shipshape(&lab, home.path(), args));
    cli(&[
        "target",
        "add",
        "v1 host",
        "--host",
        "127.0.0.1",
        "--port",
        &lab.field("v1_port"),
        "--key",
        "local-lab",
    ]);
    cli(&[
        "target",
        "trust",
        "v1 host",
        "--fingerprint",
        &lab.field("host_key_fingerprint"),
    ]);
    let _restore = RestoreV2Containers(lab.field("project_dir"));

    let report: Value = serde_json::from_str(&cli(&["ps", "v1 host", "--json"])).unwrap();
    assert_eq!(
        report["command"],
        "cd /home/ubuntu/automated-trading-platform && docker-compose --profile aws ps --all"
    );
    let states: Vec<(String, String)> = report["services"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["service"].as_str().unwrap().to_string(),
                s["state"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(states.len(), 4, "{report}");
    assert!(
        states.iter().all(|(_, state)| state == "running"),
        "{states:?}"
    );

    let backend = container_of(&lab, "backend-aws");
    let started = run(
        "docker",
        &["inspect", "-f", "{{.State.StartedAt}}", &backend],
    );
    cli(&["restart", "v1 host", "backend-aws"]);
    assert_ne!(
        run(
            "docker",
            &["inspect", "-f", "{{.State.StartedAt}}", &backend]
        ),
        started
    );

    assert!(cli(&["logs", "v1 host", "market-updater-aws", "-n", "5"]).contains("tick"));
    assert!(cli(&["health", "v1 host"]).contains("\"status\":\"ok\""));
    assert!(
        cli(&["migrate", "v1 host", "apply_migration_previous_price.py"])
            .contains("migration applied")
    );
    cli(&["git-pull", "v1 host"]);
    cli(&["pull", "v1 host"]);

    cli(&["stop", "v1 host", "market-updater-aws"]);
    assert_eq!(status_of(&lab, "market-updater-aws"), "exited");
    cli(&["up", "v1 host"]);
    assert_eq!(status_of(&lab, "market-updater-aws"), "running");

    let history: Value = serde_json::from_str(&cli(&["history", "--json"])).unwrap();
    for record in history.as_array().unwrap() {
        assert!(
            record["command"]
                .as_str()
                .unwrap()
                .contains("docker-compose --profile aws")
                || record["command"].as_str().unwrap().contains("git pull")
                || record["command"].as_str().unwrap().contains("curl"),
            "{record}"
        );
    }
}
