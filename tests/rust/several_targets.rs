//! Several targets at once from the CLI: `ps` and `verify` accept more than one name and
//! ask them side by side, each over its own connection, and say which line is whose.

use serde_json::Value;
use shipshape_tests::*;

#[test]
fn ps_and_verify_take_several_targets_and_answer_for_each() {
    let _lab_lock = exclusive();
    let lab = Lab::from_env();
    let home = tempfile::tempdir().unwrap();
    ok(&shipshape(&lab, home.path(), &["target", "list"]));
    let port = lab.field("port");
    add_trusted_lab_target(
        &shipshape_binary(),
        &lab,
        home.path(),
        "Lab again",
        &port,
        &[],
    );

    let reports: Value = serde_json::from_str(&ok(&shipshape(
        &lab,
        home.path(),
        &["ps", "Local lab", "Lab again", "--json"],
    )))
    .unwrap();
    let targets: Vec<&str> = reports
        .as_array()
        .expect("several targets: an array of reports")
        .iter()
        .map(|r| r["target"].as_str().unwrap())
        .collect();
    assert_eq!(targets, ["Local lab", "Lab again"]);
    for report in reports.as_array().unwrap() {
        assert_eq!(report["services"].as_array().unwrap().len(), 4, "{report}");
    }

    let verify = shipshape(&lab, home.path(), &["verify", "Local lab", "Lab again"]);
    let (said, out) = (text(&verify.stderr), text(&verify.stdout));
    // 0, or 1 if the lab as earlier tests left it fails a check: both ran to the end.
    assert!(matches!(verify.status.code(), Some(0 | 1)), "{said}\n{out}");
    for name in ["Local lab", "Lab again"] {
        // Its summary line; what the checks find depends on the lab, not on this test.
        let summary = said.lines().any(|l| {
            l.starts_with(&format!("{name}: "))
                && l.contains(" pass")
                && l.contains("(record verify-")
        });
        assert!(summary, "{said}");
        let items = out
            .lines()
            .filter(|l| l.starts_with(&format!("{name}: ")))
            .count();
        assert_eq!(
            items, 12,
            "every item of {name} is printed under its name:\n{out}"
        );
    }
    let history: Value =
        serde_json::from_str(&ok(&shipshape(&lab, home.path(), &["history", "--json"]))).unwrap();
    let verified: Vec<&str> = history
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["kind"] == "verification")
        .map(|r| r["target"].as_str().unwrap())
        .collect();
    assert!(
        verified.contains(&"Local lab") && verified.contains(&"Lab again"),
        "{verified:?}"
    );

    // A name that is not a target is refused before either runs.
    let refused = shipshape(&lab, home.path(), &["verify", "Local lab", "Nowhere"]);
    assert_eq!(refused.status.code(), Some(2), "{}", text(&refused.stderr));

    // One of several that cannot be reached is said once, on its own line with its
    // remedy, and the others still answer; the exit code is its error's (a host that
    // cannot be reached outweighs failed checks elsewhere).
    let closed = [
        "target",
        "add",
        "Closed",
        "--host",
        "127.0.0.1",
        "--port",
        "9",
        "--key",
        "local-lab",
    ];
    ok(&shipshape(&lab, home.path(), &closed));
    let partly = shipshape(&lab, home.path(), &["ps", "Lab again", "Closed"]);
    let said = text(&partly.stderr);
    assert_eq!(partly.status.code(), Some(3), "{said}");
    assert_eq!(said.matches("refused the connection").count(), 1, "{said}");
    assert!(said.contains("shipshape: Closed: "), "{said}");
    // With what to do about it, once too.
    assert_eq!(said.matches("Check that sshd runs").count(), 1, "{said}");

    // A target named twice is asked once (several names: still an array).
    let twice: Value = serde_json::from_str(&ok(&shipshape(
        &lab,
        home.path(),
        &["ps", "Lab again", "Lab again", "--json"],
    )))
    .unwrap();
    let answered: Vec<&Value> = twice
        .as_array()
        .expect("an array")
        .iter()
        .map(|r| &r["target"])
        .collect();
    assert_eq!(answered, ["Lab again"], "{twice}");

    // `history --json verify` is JSON, as `history verify --json` is.
    let chain: Value = serde_json::from_str(&ok(&shipshape(
        &lab,
        home.path(),
        &["history", "--json", "verify"],
    )))
    .unwrap();
    assert!(chain["broken"].is_null(), "{chain}");
}
