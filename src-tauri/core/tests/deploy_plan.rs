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

#[tokio::test]
async fn a_run_confirmed_on_a_plan_does_not_run_another() {
    use shipshape_core::console::DeployRequest;
    use shipshape_core::settings::JsonFileSettings;
    use shipshape_core::target;

    let host = FakeHost::start().await;
    let dir = tempfile::tempdir().unwrap();
    let console = one(&host, dir.path(), Some("deadline_read_seconds = 20\n"));
    let shown = console.plan_deploy("fake", &[], false).unwrap();
    // Made again from the same definition, the plan is the same: its digest too.
    assert_eq!(
        console.plan_deploy("fake", &[], false).unwrap().digest,
        shown.digest
    );
    let request = |plan: &str| DeployRequest {
        message: "Release 1.4".into(),
        plan: Some(plan.to_string()),
        ..Default::default()
    };
    console
        .check_deploy("fake", &request(&shown.digest))
        .unwrap();
    // A resume keeps the snapshot: another plan than the one shown.
    assert_ne!(
        console.plan_deploy("fake", &[], true).unwrap().digest,
        shown.digest
    );

    // The policy file edited after the dialog opened: refused, nothing sent or recorded.
    std::fs::write(
        dir.path().join("policy.toml"),
        "deadline_read_seconds = 30\n",
    )
    .unwrap();
    let Err(refused) = console
        .deploy("fake", &request(&shown.digest), |_| {})
        .await
    else {
        panic!("a deploy confirmed on another plan ran");
    };
    assert_eq!(refused.code(), ErrorCode::PlanChanged, "{refused}");
    assert!(
        refused
            .to_string()
            .contains("\"fake\" or its policy changed after its plan was shown"),
        "{refused}"
    );
    assert!(host.received().is_empty(), "{:?}", host.received());
    assert!(console.history().unwrap().is_empty());

    // Shown again, it runs as shown; then the target is moved to another project
    // directory by another process (the CLI shares the settings file): refused again.
    let shown = console.plan_deploy("fake", &[], false).unwrap();
    console
        .check_deploy("fake", &request(&shown.digest))
        .unwrap();
    let settings = JsonFileSettings::open(dir.path().join("settings.json")).unwrap();
    let mut moved = target::find(&settings, "fake").unwrap();
    moved.project_dir = "/srv/other".into();
    target::save(&settings, moved).unwrap();
    let refused = console
        .check_deploy("fake", &request(&shown.digest))
        .unwrap_err();
    assert_eq!(refused.code(), ErrorCode::PlanChanged, "{refused}");
    // Without a digest (a script's `--yes`), the request runs as the target is now.
    console
        .check_deploy(
            "fake",
            &DeployRequest {
                message: "Release 1.4".into(),
                ..Default::default()
            },
        )
        .unwrap();
}

#[tokio::test]
async fn a_rollback_confirmed_on_a_plan_does_not_restore_another_snapshot() {
    use shipshape_core::journal::{Entry, RunStart};

    let host = FakeHost::start().await;
    let dir = tempfile::tempdir().unwrap();
    let console = one(&host, dir.path(), None);
    // A deploy's snapshot, as its steps journal it.
    let snapshot_taken = |deploy: &str, commit: char| {
        let journal = console.journal().unwrap();
        let started = RunStart::now("fake", "Deploy fake", "guided deploy");
        journal
            .append(deploy, &Entry::DeployStarted(started))
            .unwrap();
        let step: Entry = serde_json::from_value(serde_json::json!({
            "entry": "deploy_step", "step": "snapshot", "title": "Snapshot", "status": "done",
            "commands": [], "started_at": "2026-12-05T10:00:00Z", "duration_ms": 5, "note": "",
            "record_ids": [], "snapshot": {"deploy": deploy, "taken_at": "2026-12-05T10:00:00Z",
            "git_commit": commit.to_string().repeat(40), "images": [], "env_backup": null,
            "services": []}
        }))
        .unwrap();
        journal.append(deploy, &step).unwrap();
    };
    snapshot_taken("deploy-1", 'a');
    // The dialog shows a rollback to the newest snapshot; then a deploy (from another
    // window) takes a newer one.
    let shown = console.plan_rollback("fake", None).unwrap();
    snapshot_taken("deploy-2", 'b');
    let reason = "the release broke the order book";
    let Err(refused) = console
        .rollback("fake", None, reason, Some(&shown.digest), |_| {})
        .await
    else {
        panic!("a rollback confirmed on another snapshot ran");
    };
    assert_eq!(refused.code(), ErrorCode::PlanChanged, "{refused}");
    // The target and its policy did not change: the refusal does not say they did.
    assert!(
        refused
            .to_string()
            .contains("a deploy since took a newer snapshot"),
        "{refused}"
    );
    assert!(host.received().is_empty(), "{:?}", host.received());
    // The snapshots hold no image: the restore says which services it cannot put back.
    let restore = &shown.steps[1];
    assert_eq!(restore.title, "Restore the snapshot");
    let note = restore.note.as_deref().unwrap_or_default();
    assert!(
        note.contains("Not in the snapshot: ") && note.contains("backend-aws"),
        "{note}"
    );
    // The plan of the snapshot named is the one shown, however it is named.
    let named = console.plan_rollback("fake", Some("deploy-1")).unwrap();
    assert_eq!(named.digest, shown.digest);
}
