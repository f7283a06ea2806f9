//! A target governed by its own policy file: the file narrows what may run (here, the
//! frontend is not the policy's, nor are its logs read), and a file that tries another
//! profile is refused when the target is added, naming the line and the field; its
//! project directory is the target's unless --dir names another.

use shipshape_tests::*;

#[test]
fn a_policy_file_narrows_the_operations_and_can_never_change_the_profile() {
    let _lab_lock = exclusive();
    let lab = Lab::from_env();
    let home = tempfile::tempdir().unwrap();
    let files = tempfile::tempdir().unwrap();
    let narrow = files.path().join("narrow.toml");
    std::fs::write(&narrow, "# only these may be operated\nservices = [\"backend-aws\", \"db\", \"market-updater-aws\"]\n").unwrap();
    let port = lab.field("port");
    let policy = ["--policy", narrow.to_str().unwrap()];
    add_lab_target(
        &shipshape_binary(),
        &lab,
        home.path(),
        "narrow",
        &port,
        &policy,
    );

    let refused = shipshape(&lab, home.path(), &["restart", "narrow", "frontend-aws"]);
    assert_eq!(refused.status.code(), Some(2), "{}", text(&refused.stderr));
    assert!(ok(&shipshape(&lab, home.path(), &["health", "narrow"])).contains("\"status\":\"ok\""));
    let report: serde_json::Value = serde_json::from_str(&ok(&shipshape(
        &lab,
        home.path(),
        &["ps", "narrow", "--json"],
    )))
    .unwrap();
    let listed: Vec<&str> = report["services"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["service"].as_str().unwrap())
        .collect();
    assert!(
        listed.starts_with(&["backend-aws", "db", "market-updater-aws"]),
        "{listed:?}"
    );
    // The checklist reads the logs of the services the file names, and no others.
    let report = files.path().join("narrow.json");
    let verify = ["verify", "narrow", "--report", report.to_str().unwrap()];
    let verified = shipshape(&lab, home.path(), &verify);
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&report).unwrap_or_default())
            .unwrap_or_else(|_| panic!("no report: {}", text(&verified.stderr)));
    let logs = report["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|item| item["id"] == "logs-clean")
        .unwrap();
    assert_eq!(logs["status"], "pass", "{logs}");
    assert!(
        logs["note"]
            .as_str()
            .unwrap()
            .ends_with("lines of backend-aws."),
        "{logs}"
    );
    let read = logs["evidence"][0]["output"].as_str().unwrap_or_default();
    assert!(
        read.contains("== backend-aws\n") && !read.contains("== frontend-aws"),
        "{read}"
    );

    // A target of the lab governed by the policy file `policy`.
    let add = |name: &str, policy: &std::path::Path, extra: &[&str]| {
        let mut args = vec![
            "target",
            "add",
            name,
            "--host",
            "127.0.0.1",
            "--port",
            &port,
            "--key",
            "local-lab",
            "--policy",
            policy.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        shipshape(&lab, home.path(), &args)
    };
    let other_profile = files.path().join("dev.toml");
    std::fs::write(&other_profile, "services = [\"db\"]\nprofile = \"dev\"\n").unwrap();
    let bad = add("dev", &other_profile, &[]);
    assert_eq!(bad.status.code(), Some(2));
    let stderr = text(&bad.stderr);
    assert!(
        stderr.contains("line 2") && stderr.contains("profile"),
        "{stderr}"
    );
    let targets = ok(&shipshape(&lab, home.path(), &["target", "list"]));
    assert!(
        !targets.contains("dev\t"),
        "a refused target was saved: {targets}"
    );

    // The policy's project directory is the target's, unless --dir says otherwise.
    let elsewhere = files.path().join("elsewhere.toml");
    std::fs::write(&elsewhere, "project_dir = \"/srv/elsewhere\"\n").unwrap();
    ok(&add("elsewhere", &elsewhere, &[]));
    ok(&add("chosen", &elsewhere, &["--dir", "/srv/chosen"]));
    let listed: serde_json::Value = serde_json::from_str(&ok(&shipshape(
        &lab,
        home.path(),
        &["target", "list", "--json"],
    )))
    .unwrap();
    let dir_of = |name: &str| {
        listed
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["target"]["name"] == name)
            .unwrap()["target"]["project_dir"]
            .clone()
    };
    assert_eq!(dir_of("elsewhere"), "/srv/elsewhere");
    assert_eq!(dir_of("chosen"), "/srv/chosen");
}
