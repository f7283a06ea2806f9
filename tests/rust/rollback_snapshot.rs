//! What a rollback cannot put back is said before it runs: a service that had no
//! container when its deploy took the snapshot (stopped and removed by hand, say) has no
//! image in it, and the rollback's plan names it, where its `up` will start it on
//! whatever its tag names then.

use shipshape_tests::verification::{as_lab_user, assert_lab_clean, Restore, TARGET};
use shipshape_tests::*;

#[test]
fn a_rollbacks_plan_names_the_service_its_snapshot_holds_no_image_of() {
    let _lab_lock = exclusive();
    let lab = Lab::from_env();
    let home = tempfile::tempdir().unwrap();
    let mut restore = Restore::default();
    restore.as_lab_user(&lab, &["rm", "-rf", "/home/ubuntu/.shipshape"]);
    let compose = ["docker", "compose", "--profile", "aws"];
    let service = "market-updater-aws";
    restore.as_lab_user(&lab, &[&compose[..], &["up", "-d", service]].concat());
    as_lab_user(
        &lab,
        &[&compose[..], &["rm", "--stop", "--force", service]].concat(),
    );

    // The deploy's snapshot is taken before its `up` brings the service back.
    let deployed = spawn_deploy(&lab, home.path(), "Nothing new", &[])
        .wait_with_output()
        .unwrap();
    let said = text(&deployed.stderr);
    assert_eq!(deployed.status.code(), Some(0), "{said}");
    let reason = "test: a service had no container at the snapshot";
    let plan = ok(&shipshape(
        &lab,
        home.path(),
        &["rollback", TARGET, "--dry-run", "--reason", reason],
    ));
    let note = plan
        .lines()
        .find(|l| l.contains("Not in the snapshot: "))
        .unwrap_or_else(|| panic!("the plan does not say what it cannot put back:\n{plan}"));
    assert!(note.contains(service), "{note}");
    for kept in ["backend-aws", "frontend-aws", "db"] {
        assert!(!note.contains(kept), "{note}");
    }
    drop(restore);
    assert_lab_clean(&lab, home.path());
}
