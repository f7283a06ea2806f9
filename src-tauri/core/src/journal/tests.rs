//! The journal against real SQLite files in a temp dir.

use super::*;
use crate::history::{RecordKind, RunOutcome};

fn record(id: &str) -> HistoryRecord {
    HistoryRecord {
        id: id.into(),
        kind: RecordKind::Operation,
        target: "prod".into(),
        target_now: None,
        target_removed: false,
        operator: "ops".into(),
        title: "Restart db".into(),
        command: "cd /srv && docker compose --profile aws restart db".into(),
        started_at: "2026-11-26T05:00:00.000Z".into(),
        finished_at: "2026-11-26T05:00:01.000Z".into(),
        duration_ms: 1000,
        exit_code: Some(0),
        outcome: RunOutcome::Exited,
        output_sha256: String::new(),
        output_bytes: 0,
        resumes: None,
        ended_before_snapshot: false,
    }
}

#[test]
fn every_entry_reads_back_and_a_start_alone_is_running_or_interrupted() {
    let dir = tempfile::tempdir().unwrap();
    let legacy = dir.path().join("history.jsonl");
    std::fs::write(
        &legacy,
        serde_json::to_string(&record("op-old")).unwrap() + "\n{\"torn",
    )
    .unwrap();
    let journal = Journal::open(&dir.path().join("j.sqlite3"), Some(&legacy)).unwrap();
    let start = |title: &str| RunStart::now("prod", title, "cmd");
    journal
        .append("op-1", &Entry::OperationStarted(start("Restart db")))
        .unwrap();
    journal
        .append("op-1", &Entry::OperationEnded(record("op-1")))
        .unwrap();
    let mut dead = start("Pull");
    dead.pid = u32::MAX;
    journal
        .append("op-2", &Entry::OperationStarted(dead))
        .unwrap();
    journal
        .append("op-3", &Entry::OperationStarted(start("Up")))
        .unwrap();
    // Its pid lives, but as another process (a pid is reused once its process ends).
    let mut reused = start("Down");
    assert!(reused.process_start.is_some(), "read from /proc");
    reused.process_start = reused.process_start.map(|ticks| ticks + 12_345);
    journal
        .append("op-4", &Entry::OperationStarted(reused))
        .unwrap();

    let parsed = journal.entries().unwrap();
    assert_eq!(parsed.len(), 6, "every stored entry parses");
    let history = journal.history().unwrap();
    let outcomes: Vec<(&str, RunOutcome)> =
        history.iter().map(|r| (r.id.as_str(), r.outcome)).collect();
    assert_eq!(
        outcomes,
        [
            ("op-old", RunOutcome::Exited),
            ("op-1", RunOutcome::Exited),
            ("op-2", RunOutcome::Interrupted),
            ("op-3", RunOutcome::Running),
            ("op-4", RunOutcome::Interrupted)
        ]
    );
    // Opening again imports nothing twice; the chain holds.
    drop(journal);
    let journal = Journal::open(&dir.path().join("j.sqlite3"), Some(&legacy)).unwrap();
    assert_eq!(journal.history().unwrap().len(), 5);
    let report = journal.verify().unwrap();
    assert_eq!((report.entries, report.broken), (6, None));
    assert_eq!(report.head, journal.head().unwrap());
}

#[test]
fn a_resume_cut_off_names_the_deploy_it_resumed() {
    let dir = tempfile::tempdir().unwrap();
    let journal = Journal::open(&dir.path().join("j.sqlite3"), None).unwrap();
    let mut start = RunStart::now("prod", "Deploy prod: Resume deploy-1", "guided");
    start.pid = u32::MAX; // gone: cut off
    start.resumes = Some("deploy-1".into());
    journal
        .append("deploy-2", &Entry::DeployStarted(start))
        .unwrap();
    let cut = journal.history().unwrap().pop().unwrap();
    assert_eq!(cut.outcome, RunOutcome::Interrupted);
    assert_eq!(cut.resumes.as_deref(), Some("deploy-1"));
}

#[test]
fn a_deploy_that_failed_or_stopped_before_its_snapshot_is_marked() {
    use crate::deploy::{DeployKind, DeployOutcome, DeployRecord, Snapshot, StepId, StepRecord};
    let dir = tempfile::tempdir().unwrap();
    let journal = Journal::open(&dir.path().join("j.sqlite3"), None).unwrap();
    let mut start = RunStart::now("prod", "Deploy prod: ship it", "guided");
    start.pid = u32::MAX; // gone: one without an end record was cut off
    let step = |step: StepId, snapshot: Option<Snapshot>| StepRecord {
        step,
        title: "a step".into(),
        status: crate::deploy::StepStatus::Done,
        commands: Vec::new(),
        started_at: "2026-11-26T05:00:00.000Z".into(),
        duration_ms: 1,
        note: String::new(),
        record_ids: Vec::new(),
        snapshot,
    };
    let snapshot = Snapshot {
        deploy: "deploy-1".into(),
        taken_at: "2026-11-26T05:00:00.000Z".into(),
        git_commit: "0".repeat(40),
        images: Vec::new(),
        env_backup: None,
        services: None,
    };
    let ended = |id: &str, kind: DeployKind, outcome: DeployOutcome, steps: Vec<StepRecord>| {
        Entry::DeployEnded(Box::new(DeployRecord {
            id: id.into(),
            kind,
            target: "prod".into(),
            operator: crate::checklist::Actor {
                user: "ops".into(),
                key_fingerprint: None,
            },
            message: "ship it".into(),
            started_at: "2026-11-26T05:00:00.000Z".into(),
            finished_at: "2026-11-26T05:00:01.000Z".into(),
            outcome,
            commits: Vec::new(),
            steps,
            checklist: None,
            rolled_back_to: None,
            resumes: None,
            review: None,
            approval: None,
        }))
    };
    let ids = ["deploy-1", "deploy-2", "deploy-3", "deploy-4", "rollback-5"];
    for id in ids {
        journal
            .append(id, &Entry::DeployStarted(start.clone()))
            .unwrap();
        journal
            .append(id, &Entry::DeployStep(step(StepId::Lock, None)))
            .unwrap();
    }
    let took = step(StepId::Snapshot, Some(snapshot));
    journal
        .append("deploy-1", &Entry::DeployStep(took.clone()))
        .unwrap();
    let (deploy, rollback) = (DeployKind::Deploy, DeployKind::Rollback);
    let lock = vec![step(StepId::Lock, None)];
    for (id, kind, outcome, steps) in [
        ("deploy-1", deploy, DeployOutcome::Failed, vec![took]),
        ("deploy-2", deploy, DeployOutcome::Failed, lock.clone()),
        ("deploy-3", deploy, DeployOutcome::Stopped, lock.clone()),
        ("rollback-5", rollback, DeployOutcome::Failed, lock),
    ] {
        journal
            .append(id, &ended(id, kind, outcome, steps))
            .unwrap();
    }
    journal
        .append(
            "deploy-6",
            &Entry::DeployStarted(RunStart::now("prod", "Deploy", "guided")),
        )
        .unwrap();

    let marked: Vec<(String, RunOutcome, bool)> = journal
        .history()
        .unwrap()
        .into_iter()
        .map(|r| (r.id, r.outcome, r.ended_before_snapshot))
        .collect();
    let (exited, cancelled) = (RunOutcome::Exited, RunOutcome::Cancelled);
    assert_eq!(
        marked,
        [
            ("deploy-1".into(), exited, false),
            ("deploy-2".into(), exited, true),
            ("deploy-3".into(), cancelled, true),
            // Cut off: it may have been cut off in its snapshot.
            ("deploy-4".into(), RunOutcome::Interrupted, false),
            // A rollback changes the host without a snapshot of its own.
            ("rollback-5".into(), exited, false),
            // Running: not ended.
            ("deploy-6".into(), RunOutcome::Running, false),
        ]
    );
}

#[test]
fn a_run_ended_by_an_error_or_a_stop_reads_back_with_its_end_time() {
    let dir = tempfile::tempdir().unwrap();
    let journal = Journal::open(&dir.path().join("j.sqlite3"), None).unwrap();
    let mut start = RunStart::now("prod", "Verify", "verify");
    start.started_at = "2026-11-26T05:00:00.000Z".into();
    for id in ["v-1", "v-2", "v-3", "v-old"] {
        journal
            .append(id, &Entry::VerificationStarted(start.clone()))
            .unwrap();
    }
    let _ = journal.aborted("v-1", Error::Protocol("lost".into()));
    let _ = journal.not_started("v-2", Error::Protocol("refused".into()));
    let _ = journal.cancelled("v-3", Error::Protocol("stopped".into()));
    // As an earlier version wrote it: no `at`.
    let old = r#"{"entry":"cancelled","reason":"stopped"}"#;
    let old: Entry = serde_json::from_str(old).unwrap();
    journal.append("v-old", &old).unwrap();

    let history = journal.history().unwrap();
    let ended: Vec<(RunOutcome, bool)> = history
        .iter()
        .map(|r| (r.outcome, r.finished_at.is_empty()))
        .collect();
    assert_eq!(
        ended,
        [
            (RunOutcome::Interrupted, false),
            (RunOutcome::NotStarted, false),
            (RunOutcome::Cancelled, false),
            (RunOutcome::Cancelled, true),
        ]
    );
    assert!(history[2].duration_ms > 0, "{:?}", history[2]);
    assert_eq!(journal.verify().unwrap().broken, None);
}

#[test]
fn processes_opening_a_new_journal_at_once_all_open_it_and_import_once() {
    let dir = tempfile::tempdir().unwrap();
    let legacy = dir.path().join("history.jsonl");
    let lines: String = ["op-a", "op-b", "op-c"]
        .iter()
        .map(|id| serde_json::to_string(&record(id)).unwrap() + "\n")
        .collect();
    std::fs::write(&legacy, lines).unwrap();
    let path = dir.path().join("j.sqlite3");
    for round in 0..5 {
        let path = path.with_extension(format!("{round}.sqlite3"));
        let opened: Vec<Result<Journal>> = std::thread::scope(|scope| {
            let openers: Vec<_> = (0..16)
                .map(|_| scope.spawn(|| Journal::open(&path, Some(&legacy))))
                .collect();
            openers.into_iter().map(|o| o.join().unwrap()).collect()
        });
        for journal in &opened {
            let journal = journal.as_ref().expect("every opener opens it");
            assert_eq!(journal.history().unwrap().len(), 3, "round {round}");
        }
    }
}

#[test]
fn an_entry_stored_as_a_blob_breaks_the_chain_though_its_bytes_hash_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j.sqlite3");
    let journal = Journal::open(&path, None).unwrap();
    let start = RunStart::now("prod", "Restart db", "cmd");
    journal
        .append("op-1", &Entry::OperationStarted(start))
        .unwrap();
    journal
        .append("op-1", &Entry::OperationEnded(record("op-1")))
        .unwrap();
    drop(journal);
    // The same bytes as a blob: `kind = 'operation_ended'` no longer matches it, so
    // the history would show the operation as never ended.
    let db = Connection::open(&path).unwrap();
    db.execute(
        "UPDATE entries SET kind = CAST(kind AS BLOB) WHERE seq = 2",
        [],
    )
    .unwrap();
    drop(db);
    let journal = Journal::open(&path, None).unwrap();
    let broken = journal
        .verify()
        .unwrap()
        .broken
        .expect("the change is found");
    assert_eq!(broken.seq, 2);
    assert!(
        broken.reason.contains("kind is no longer stored as text"),
        "{}",
        broken.reason
    );
}

#[test]
fn a_verifications_history_line_counts_a_waived_failure_apart_from_the_passes() {
    use crate::checklist::{CheckId, CheckItem, CheckStatus, Checklist};
    let item = |id, status| CheckItem::new(id, status, String::new(), vec![]);
    let checklist = Checklist {
        items: vec![
            item(CheckId::Health, CheckStatus::Waived),
            item(CheckId::LogsClean, CheckStatus::Pass),
            item(CheckId::Migrations, CheckStatus::Manual),
        ],
        ..serde_json::from_value(serde_json::json!({
            "id": "verify-1", "target": {"name": "prod", "host": "h", "port": 22, "user": "ubuntu",
            "project_dir": "/p", "host_key": "SHA256:k"}, "operator": {"user": "ops", "key_fingerprint": null},
            "started_at": "t", "finished_at": "t", "git_commit": null, "images": [], "items": []
        }))
        .unwrap()
    };
    assert_eq!(
        entries::verification_record(&checklist).title,
        "Verify: 1 passed, 0 failed, 1 to tick, 1 waived"
    );
}

#[test]
fn an_entry_that_holds_but_does_not_read_is_named_not_skipped_in_silence() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j.sqlite3");
    let journal = Journal::open(&path, None).unwrap();
    journal
        .append("op-1", &Entry::OperationEnded(record("op-1")))
        .unwrap();
    drop(journal);
    // Written as this version would chain it, in a shape it cannot read (a newer
    // version's entry, or a bug's).
    let db = Connection::open(&path).unwrap();
    append_in(
        &db,
        "v-9",
        "from_the_future",
        r#"{"entry":"from_the_future"}"#,
    )
    .unwrap();
    drop(db);
    let journal = Journal::open(&path, None).unwrap();
    assert_eq!(
        journal.history().unwrap().len(),
        1,
        "the history reads the rest"
    );
    let report = journal.verify().unwrap();
    assert_eq!(report.broken, None);
    let unreadable = report.unreadable.expect("the entry is named");
    assert_eq!((unreadable.seq, unreadable.record_id.as_str()), (2, "v-9"));
    assert!(
        unreadable
            .reason
            .contains("cannot read it (unknown variant `from_the_future`)"),
        "{}",
        unreadable.reason
    );
    // A report of that record would leave it out: it is found by its record too.
    assert_eq!(
        journal.unreadable_of("v-9").unwrap().map(|e| e.seq),
        Some(2)
    );
    assert_eq!(journal.unreadable_of("op-1").unwrap(), None);
}
