//! What the operator sees of a run and can do to it, against the in-process host: a
//! service's output reaches them redacted (a value written mid-follow too), a
//! verification stops when asked, and a renamed target keeps its past.

mod host;

use std::time::{Duration, Instant};

use host::console::{answer_as_a_healthy_host, one};
use host::{FakeHost, Reply};
use shipshape_core::checklist::CheckId;
use shipshape_core::history::RunOutcome;
use shipshape_core::operations::Operation;
use shipshape_core::ErrorCode;

#[tokio::test]
async fn what_a_service_prints_is_shown_and_counted_without_the_env_files_values() {
    let host = FakeHost::start().await;
    let dir = tempfile::tempdir().unwrap();
    let console = one(&host, dir.path(), None);
    answer_as_a_healthy_host(&host);
    host.answer(
        "shipshape-env-read",
        Reply::ok("== present\nDB_PASSWORD=Xq7-fake-pass\nAPI_URL=https://api.fake.invalid/v1\n"),
        None,
    );
    let said = "backend-aws-1  | login with Xq7-fake-pass\nbackend-aws-1  | calling https://api.fake.invalid/v1\n";
    host.answer("logs -n 200", Reply::ok(said), None);

    let mut streamed = String::new();
    let cancel = shipshape_core::ssh::CancellationToken::new();
    let logs = Operation::logs("backend-aws");
    let outcome = console
        .run_operation_streaming("fake", &logs, |_, text| streamed.push_str(text), &cancel)
        .await
        .unwrap();
    let shown = "backend-aws-1  | login with [redacted]\nbackend-aws-1  | calling [redacted]\n";
    assert_eq!(outcome.output.stdout, shown);
    assert_eq!(streamed, shown);
    // The history counts what was shown, not what the host said.
    let record = console.history().unwrap().pop().unwrap();
    assert_eq!(record.output_bytes, shown.len() as u64);
    assert_eq!(host.received_containing("shipshape-env-read"), 1);

    // Git's output is the repository's: read as said, with no env file read for it.
    host.answer("rev-parse", Reply::ok("abc1234\n"), None);
    let head = console
        .run_operation("fake", &Operation::GitHead)
        .await
        .unwrap();
    assert_eq!(head.output.stdout, "abc1234\n");
    assert_eq!(host.received_containing("shipshape-env-read"), 1);
}

#[tokio::test]
async fn a_change_stopped_before_its_command_was_sent_never_reaches_the_host() {
    let host = FakeHost::start().await;
    answer_as_a_healthy_host(&host);
    let dir = tempfile::tempdir().unwrap();
    let console = one(&host, dir.path(), None);
    // The operator pressed Stop (or Ctrl-C) while it connected and read the lock.
    let cancel = shipshape_core::ssh::CancellationToken::new();
    cancel.cancel();
    let down = Operation::Down;
    let stopped = console
        .run_operation_streaming("fake", &down, |_, _| {}, &cancel)
        .await
        .unwrap_err();
    assert_eq!(stopped.code(), ErrorCode::Stopped, "{stopped}");
    assert_eq!(
        host.received_containing(" down"),
        0,
        "{:#?}",
        host.received()
    );
    let record = console.history().unwrap().pop().unwrap();
    assert_eq!(record.outcome, RunOutcome::Cancelled, "{}", record.title);
}

#[tokio::test]
async fn a_verification_stopped_on_request_ends_its_probes_and_is_recorded_as_cancelled() {
    let host = FakeHost::start().await;
    let dir = tempfile::tempdir().unwrap();
    let console = one(&host, dir.path(), None);
    // Every probe hangs: only the stop can end the run.
    host.answer("", Reply::Hang, None);

    let stopper = {
        let console = console.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(500)).await;
            console.tasks.cancel_request("verify-1").unwrap()
        })
    };
    let started = Instant::now();
    let stopped = console
        .run_requested_verification("verify-1", "fake", |_| {})
        .await
        .unwrap_err();
    assert!(stopper.await.unwrap(), "the request was running");
    assert_eq!(stopped.code(), ErrorCode::Stopped, "{stopped}");
    assert!(started.elapsed() < Duration::from_secs(5));

    // Its probes were ended on the host, as a dropped channel ends them.
    let deadline = Instant::now() + Duration::from_secs(5);
    while host.ended_by_client().is_empty() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(!host.ended_by_client().is_empty(), "{:?}", host.received());

    let record = console.history().unwrap().pop().unwrap();
    assert_eq!(record.outcome, RunOutcome::Cancelled);
    assert_eq!(record.title, "Verify fake (cancelled)");
    assert!(console.latest_checklist("fake").unwrap().is_none());
    // The name is spent: asked again, it does not run.
    let again = console
        .run_requested_verification("verify-1", "fake", |_| {})
        .await
        .unwrap_err();
    assert_eq!(again.code(), ErrorCode::BadInput);
}

#[tokio::test]
async fn a_verification_that_never_reached_its_host_is_recorded_as_not_started() {
    let host = FakeHost::start().await;
    let dir = tempfile::tempdir().unwrap();
    // Nothing listens on port 1 of the loopback: the connection is refused.
    let console =
        host::console::console(dir.path(), &[("fake", 1, &host.fingerprint)], &host, None);
    let refused = console.verify("fake", |_| {}).await.unwrap_err();
    assert_eq!(refused.code(), ErrorCode::ConnectionRefused, "{refused}");
    let record = console.history().unwrap().pop().unwrap();
    assert_eq!(record.outcome, RunOutcome::NotStarted, "{}", record.title);
}

#[tokio::test]
async fn a_reports_journal_head_is_found_only_while_the_entries_up_to_it_are_there() {
    let host = FakeHost::start().await;
    let dir = tempfile::tempdir().unwrap();
    let console = one(&host, dir.path(), None);
    answer_as_a_healthy_host(&host);
    console
        .run_operation("fake", &Operation::Health)
        .await
        .unwrap();
    // A report made now carries this head.
    let head = console.verify_journal().unwrap().head;
    console
        .run_operation("fake", &Operation::Health)
        .await
        .unwrap();
    let (report, at) = console.verify_journal_reaches(&head).unwrap();
    assert!(report.broken.is_none());
    let at = at.expect("the head is in the journal");

    // The entries from the report's own on are deleted: the chain left still holds,
    // but the report's head is no longer in it.
    let db = rusqlite::Connection::open(dir.path().join("journal.sqlite3")).unwrap();
    db.execute("DELETE FROM entries WHERE seq >= ?1", [at])
        .unwrap();
    drop(db);
    let (report, at) = console.verify_journal_reaches(&head).unwrap();
    assert!(report.broken.is_none(), "{report:?}");
    assert_eq!(at, None);
}

#[tokio::test]
async fn a_renamed_target_keeps_its_snapshots_and_verifications_and_a_new_one_under_its_old_name_does_not(
) {
    use shipshape_core::checklist::CheckId;
    use shipshape_core::journal::{Entry, RunStart};

    let host = FakeHost::start().await;
    let dir = tempfile::tempdir().unwrap();
    let console = one(&host, dir.path(), None);
    answer_as_a_healthy_host(&host);
    let checked = console.verify("fake", |_| {}).await.unwrap();
    // A deploy of `fake` that took a snapshot, as its steps journal it.
    let journal = console.journal().unwrap();
    let started = RunStart::now("fake", "Deploy fake", "guided deploy");
    journal
        .append("deploy-1", &Entry::DeployStarted(started))
        .unwrap();
    let step: Entry = serde_json::from_value(serde_json::json!({
        "entry": "deploy_step", "step": "snapshot", "title": "Snapshot", "status": "done",
        "commands": [], "started_at": "2026-12-05T10:00:00Z", "duration_ms": 5, "note": "",
        "record_ids": [], "snapshot": {"deploy": "deploy-1", "taken_at": "2026-12-05T10:00:00Z",
        "git_commit": "0123456789abcdef0123456789abcdef01234567", "images": [], "env_backup": null}
    }))
    .unwrap();
    journal.append("deploy-1", &step).unwrap();

    let mut renamed = console.targets().unwrap().remove(0).target;
    renamed.name = "prod".into();
    console
        .save_target(renamed.clone(), Some("fake"))
        .await
        .unwrap();
    let snapshots = console.deploy_snapshots("prod").unwrap();
    assert_eq!(snapshots.len(), 1, "the rollback finds its snapshot");
    let latest = console.latest_checklist("prod").unwrap();
    assert_eq!(latest.map(|c| c.id), Some(checked.id.clone()));
    // Its items can be re-run under the new name, and the journal read again has the
    // re-run: who, when, and its evidence (what a report and a reopened screen show).
    let rerun = console
        .rerun_check(&checked.id, CheckId::AwsProfileOnly)
        .await
        .unwrap();
    let read_again = console.latest_checklist("prod").unwrap().unwrap();
    let item = |list: &shipshape_core::checklist::Checklist| {
        list.item(CheckId::AwsProfileOnly).unwrap().clone()
    };
    assert!(
        item(&read_again).rerun_by.is_some(),
        "{:?}",
        item(&read_again)
    );
    assert_eq!(item(&read_again), item(&rerun));
    // Judged by other rules since (its policy file names another health URL), it takes
    // no new result: the header would name the old rules.
    let policy = dir.path().join("policy.toml");
    std::fs::write(&policy, "health_url = \"http://localhost:8002/healthz\"\n").unwrap();
    let mut ruled = renamed.clone();
    ruled.policy_file = Some(policy.display().to_string());
    console.save_target(ruled, Some("prod")).await.unwrap();
    let refused = console
        .rerun_check(&checked.id, CheckId::AwsProfileOnly)
        .await
        .unwrap_err();
    assert!(refused.to_string().contains("policy changed"), "{refused}");
    console
        .save_target(renamed.clone(), Some("prod"))
        .await
        .unwrap();

    // A new target under the old name starts with none of that past.
    let mut fresh = renamed.clone();
    fresh.name = "fake".into();
    console.save_target(fresh, None).await.unwrap();
    assert!(console.deploy_snapshots("fake").unwrap().is_empty());
    assert!(console.latest_checklist("fake").unwrap().is_none());
    // The history names each run's target as it was, and as it is now: the deploy cut
    // short before the rename is found under `prod` (the Deploy screen's banner), and
    // not under the new `fake`.
    let history = console.history().unwrap();
    let deploy = history.iter().find(|r| r.id == "deploy-1").unwrap();
    assert_eq!(
        (deploy.target.as_str(), deploy.target_now.as_deref()),
        ("fake", Some("prod"))
    );
    let rename = history
        .iter()
        .find(|r| r.title.contains("renamed"))
        .unwrap();
    assert_eq!(rename.target_now, None, "{rename:?}");

    // Pointed elsewhere, the target's old checklist takes no new results.
    renamed.project_dir = "/srv/other".into();
    console.save_target(renamed, Some("prod")).await.unwrap();
    let refused = console
        .rerun_check(&checked.id, CheckId::AwsProfileOnly)
        .await
        .unwrap_err();
    assert_eq!(refused.code(), ErrorCode::BadInput, "{refused}");
    assert!(
        refused.to_string().contains("points elsewhere"),
        "{refused}"
    );

    // Removed, then added again under its name: the new one starts with none of its past.
    let again = console
        .targets()
        .unwrap()
        .into_iter()
        .find(|t| t.target.name == "prod")
        .unwrap()
        .target;
    console.remove_target("prod").await.unwrap();
    console.save_target(again, None).await.unwrap();
    assert!(console.deploy_snapshots("prod").unwrap().is_empty());
    assert!(console.latest_checklist("prod").unwrap().is_none());
    let history = console.history().unwrap();
    assert!(history.iter().any(|r| r.title == "Target prod removed"));
    let deploy = history.iter().find(|r| r.id == "deploy-1").unwrap();
    assert!(deploy.target_removed, "its target is gone: {deploy:?}");
    assert_eq!(deploy.target_now, None);
    let refused = console
        .rerun_check(&checked.id, CheckId::AwsProfileOnly)
        .await
        .unwrap_err();
    assert!(
        refused.to_string().contains("was removed since"),
        "{refused}"
    );
    // A waiver on it names no key: the new `prod`'s key never touched that checklist.
    let failed = checked
        .items
        .iter()
        .find(|i| i.status == shipshape_core::checklist::CheckStatus::Fail)
        .expect("the fake host fails an item")
        .id;
    let reason = "accepted for the test, in writing".to_string();
    let waived = console
        .change_check(
            &checked.id,
            failed,
            shipshape_core::checklist::ItemChange::Waive { reason },
        )
        .unwrap();
    let item = waived.items.iter().find(|i| i.id == failed).unwrap();
    let by = item.ticked_by.as_deref().unwrap_or_default();
    assert!(!by.is_empty() && !by.contains("SHA256"), "{item:?}");
}

#[tokio::test]
async fn a_value_written_to_the_env_file_mid_follow_is_taken_out_of_the_lines_after_it() {
    use std::sync::{Arc, Mutex};

    let host = FakeHost::start().await;
    let dir = tempfile::tempdir().unwrap();
    let console = one(&host, dir.path(), None);
    answer_as_a_healthy_host(&host);
    // Read as the follow starts and as the change reads it: no such value yet. Then the
    // file as the change left it.
    let before = "== present\nOLD=aaaa-old\n";
    host.answer("shipshape-env-read", Reply::ok(before), Some(2));
    let after = "== present\nOLD=aaaa-old\nNEW=\"ine 1\"\n";
    host.answer("shipshape-env-read", Reply::ok(after), None);
    host.answer("shipshape-env-write", Reply::ok("backup b\n"), None);
    let every = Duration::from_millis(5);
    host.answer("logs -n 200", Reply::Stream { every }, None);

    let shown = Arc::new(Mutex::new(Vec::<String>::new()));
    let cancel = shipshape_core::ssh::CancellationToken::new();
    let follow = {
        let (console, shown, cancel) = (console.clone(), shown.clone(), cancel.clone());
        tokio::spawn(async move {
            let on_lines = move |lines: Vec<String>| shown.lock().unwrap().extend(lines);
            console
                .follow_logs("fake", "backend-aws", 200, false, on_lines, &cancel)
                .await
        })
    };
    let seen = |line: &str| shown.lock().unwrap().iter().any(|l| l == line);
    let deadline = Instant::now() + Duration::from_secs(10);
    while !seen("line 20") && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(
        seen("line 1") && seen("line 15"),
        "shown as said before the change"
    );

    let value = shipshape_core::secret::Secret::new("ine 1".into());
    let set = shipshape_core::console::EnvChange::Set {
        key: "NEW".into(),
        value,
    };
    console.change_env("fake", set).await.unwrap();
    // The follow reads the file again at once: a moment for that round trip.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let from = shown.lock().unwrap().len();
    while !seen("l[redacted]99") && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    cancel.cancel();
    follow.await.unwrap().unwrap();
    let shown = shown.lock().unwrap();
    let later = &shown[from..];
    assert!(later.len() > 100, "{} lines", later.len());
    assert!(
        later.iter().all(|l| !l.contains("ine 1")),
        "{:?}",
        later.iter().find(|l| l.contains("ine 1"))
    );
    assert!(later.iter().any(|l| l == "l[redacted]50"));
}

#[tokio::test]
async fn a_probe_past_its_deadline_keeps_what_the_rest_of_its_batch_said() {
    let host = FakeHost::start().await;
    answer_as_a_healthy_host(&host);
    // The batch of cheap probes: two parts end, then `git ls-remote` waits on a network
    // the host cannot reach, past the read deadline.
    host.answer(
        "GitRemoteHead",
        Reply::Frames {
            parts: vec![
                ("Migrations", "apply_migration_001.py", 0),
                ("GitHead", "0123456789abcdef0123456789abcdef01234567", 0),
            ],
            hang: true,
        },
        None,
    );
    host.answer(
        "EnvRead",
        Reply::Frames {
            parts: vec![("EnvStat", "600 ubuntu", 0), ("EnvRead", "API_URL=x\n", 0)],
            hang: false,
        },
        None,
    );
    let dir = tempfile::tempdir().unwrap();
    let console = one(&host, dir.path(), Some("deadline_read_seconds = 2\n"));
    let began = std::time::SystemTime::now();
    let checklist = console.verify("fake", |_| {}).await.unwrap();
    let migrations = checklist
        .items
        .iter()
        .find(|i| i.id == CheckId::Migrations)
        .unwrap();
    assert!(!migrations.note.contains("not run"), "{}", migrations.note);
    let batch = migrations
        .evidence
        .iter()
        .find(|e| e.command.contains("shipshape-batch"))
        .unwrap();
    assert!(
        batch.output.contains("apply_migration_001.py"),
        "{}",
        batch.output
    );
    assert!(
        batch.output.contains("timed out after 2 s"),
        "{}",
        batch.output
    );
    assert_eq!(batch.exit_code, None);
    // It started when the batch did, not when its deadline passed.
    let started = humantime::parse_rfc3339(&batch.started_at).unwrap();
    let late = started.duration_since(began).unwrap_or_default();
    assert!(
        late < Duration::from_secs(1),
        "started {late:?} after the run"
    );
    assert!(batch.duration_ms >= 1_900, "{}", batch.duration_ms);
}

#[tokio::test]
async fn a_follow_still_starting_stops_with_the_window_that_asked_for_it() {
    let host = FakeHost::start().await;
    let dir = tempfile::tempdir().unwrap();
    let console = one(&host, dir.path(), None);
    answer_as_a_healthy_host(&host);
    // The env file is slow to read: the follow is still starting when the window reloads.
    host.answer(
        "shipshape-env-read",
        Reply::Exit {
            stdout: "== present\nA=1\n".into(),
            exit: 0,
            delay: Duration::from_secs(3),
        },
        None,
    );
    host.answer(
        "logs -n 200",
        Reply::Stream {
            every: Duration::from_millis(50),
        },
        None,
    );
    let starting = {
        let console = console.clone();
        tokio::spawn(async move {
            console
                .start_log_follow("fake", "db", 200, false, |_| true)
                .await
        })
    };
    while host.received_containing("shipshape-env-read") == 0 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let reloaded = Instant::now();
    console.tasks.cancel_streams();
    let stopped = starting.await.unwrap().unwrap_err();
    assert_eq!(stopped.code(), ErrorCode::Stopped, "{stopped}");
    assert!(reloaded.elapsed() < Duration::from_secs(2));
    assert_eq!(console.tasks.running(), 0);
    assert_eq!(
        host.received_containing("logs -n 200"),
        0,
        "the follow's command was sent"
    );
}
