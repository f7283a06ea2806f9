//! What a deploy's confirmation shows before anything runs, against the in-process host:
//! its steps in the run's order, the changing commands exactly, a migration the pull
//! may bring planned rather than refused, and nothing sent to the host to make it. That
//! the run then sends these very commands: the lab's `deploy` test.

mod host;

use host::console::one;
use host::FakeHost;
use shipshape_core::ErrorCode;

#[tokio::test]
async fn a_deploy_is_planned_in_its_steps_order_without_asking_the_host() {
    let host = FakeHost::start().await;
    let dir = tempfile::tempdir().unwrap();
    let console = one(&host, dir.path(), None);
    // A script the host does not have yet: the pull may bring it, and the run's step
    // checks it on the host then.
    let migrations = vec!["apply_migration_x.py".to_string()];
    let plan = console.plan_deploy("fake", &migrations, false).unwrap();
    let titles: Vec<&str> = plan.steps.iter().map(|s| s.title.as_str()).collect();
    assert_eq!(
        titles,
        [
            "Check the Never Do rules",
            "Review what the deploy changes",
            "Lock the host for this deploy",
            "Record a snapshot to roll back to",
            "Pull the latest code",
            "Pull the images",
            "Update the services (up -d --remove-orphans)",
            "Run the migration apply_migration_x.py",
            "Run the verification checklist",
            "Free the host's deploy lock",
        ]
    );
    let commands: Vec<&str> = plan
        .steps
        .iter()
        .flat_map(|s| s.commands.iter().map(String::as_str))
        .collect();
    assert_eq!(commands.len(), 4, "{commands:?}");
    assert!(
        commands[0].ends_with("&& git pull origin main"),
        "{commands:?}"
    );
    assert!(
        commands[3].contains("scripts/apply_migration_x.py"),
        "{commands:?}"
    );
    assert!(host.received().is_empty(), "{:?}", host.received());

    // Resuming keeps the snapshot, and none is picked: the step is said as skipped.
    let plan = console.plan_deploy("fake", &[], true).unwrap();
    assert!(plan
        .steps
        .iter()
        .any(|s| s.title == "Keep the snapshot of the deploy resumed"));
    assert!(plan.steps.iter().any(|s| s.title == "Run migrations"));
    // A script outside the policy is refused before anything, as the run refuses it.
    let refused = console
        .plan_deploy("fake", &["../../etc/passwd".to_string()], false)
        .unwrap_err();
    assert_eq!(refused.code(), ErrorCode::BadInput, "{refused}");
    // A deploy id that is none is refused before the journal is opened (or created).
    let bad = console.plan_rollback("fake", Some("")).unwrap_err();
    assert_eq!(bad.code(), ErrorCode::BadInput, "{bad}");
    assert!(!dir.path().join("journal.sqlite3").exists());
    // No snapshot yet: a rollback has nothing to show.
    let none = console.plan_rollback("fake", None).unwrap_err();
    assert_eq!(none.code(), ErrorCode::BadInput, "{none}");
}
