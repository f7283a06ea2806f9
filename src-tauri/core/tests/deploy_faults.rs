//! A deploy's faults against the in-process host, in seconds, with no lab and no
//! keyring. (A lock lost midway needs a host that passes the preflight checks: the lab's
//! `deploy` test breaks it. How a change and a deploy keep apart on a real shell: the
//! tests of `deploy/lock.rs`.)

mod host;

use host::console::{answer_as_a_healthy_host, one};
use host::{FakeHost, Reply};
use shipshape_core::console::{DeployRequest, EnvChange};
use shipshape_core::history::RunOutcome;
use shipshape_core::operations::Operation;
use shipshape_core::secret::Secret;
use shipshape_core::ErrorCode;

fn request() -> DeployRequest {
    DeployRequest {
        message: "Release 1.4".into(),
        migrations: Vec::new(),
        review: None,
        resume: None,
        seen: None,
        plan: None,
    }
}

#[tokio::test]
async fn a_deploy_refused_by_its_journal_leaves_the_target_free() {
    let host = FakeHost::start().await;
    let dir = tempfile::tempdir().unwrap();
    // Where the journal goes, a directory: it cannot be opened.
    std::fs::create_dir(dir.path().join("journal.sqlite3")).unwrap();
    let console = one(&host, dir.path(), None);
    for attempt in 1..=2 {
        let error = console
            .deploy("fake", &request(), |_| {})
            .await
            .err()
            .expect("no journal, no deploy");
        assert_eq!(
            error.code(),
            ErrorCode::Storage,
            "attempt {attempt}: {error}"
        );
    }
}

#[tokio::test]
async fn a_change_a_deploy_got_ahead_of_on_the_host_is_refused_and_recorded_as_never_run() {
    let host = FakeHost::start().await;
    let dir = tempfile::tempdir().unwrap();
    let console = one(&host, dir.path(), None);
    answer_as_a_healthy_host(&host);
    host.answer("shipshape-env-read", Reply::ok("== present\nA=1\n"), None);
    // The lock reads free before each change; by the time the change reaches the host a
    // deploy holds it, and the host's gate refuses the change (`deploy/lock.rs`).
    let holder = r#"{"operator":"ann","key_fingerprint":"SHA256:fake","machine":"laptop","since":"2026-12-05T00:00:00Z","message":"Release 1.4","deploy":"deploy-1"}"#;
    for _ in 0..2 {
        host.answer("shipshape-lock-status", Reply::ok("free\n"), Some(1));
        host.answer(
            "shipshape-lock-status",
            Reply::ok(&format!("held\n{holder}\npid=42\n")),
            Some(1),
        );
    }
    let refused = |stderr: &str| Reply::Fails {
        stderr: format!("shipshape: a deploy holds this host's lock; {stderr}\n"),
        exit: 75,
    };
    host.answer("restart db", refused("nothing was run"), None);
    host.answer("shipshape-env-write", refused("nothing was written"), None);

    let restart = Operation::Restart {
        service: Some("db".into()),
    };
    let error = console.run_operation("fake", &restart).await.unwrap_err();
    assert_eq!(error.code(), ErrorCode::Busy, "{error}");
    assert!(error.to_string().contains("ann@laptop"), "{error}");
    let record = console.history().unwrap().pop().unwrap();
    assert_eq!(record.outcome, RunOutcome::NotStarted, "{}", record.title);

    let set = EnvChange::Set {
        key: "B".into(),
        value: Secret::new("2".into()),
    };
    let error = console.change_env("fake", set).await.unwrap_err();
    assert_eq!(error.code(), ErrorCode::Busy, "{error}");
    assert!(error.to_string().contains("ann@laptop"), "{error}");
    let record = console.history().unwrap().pop().unwrap();
    assert_eq!(record.outcome, RunOutcome::NotStarted, "{}", record.title);
}

#[tokio::test]
async fn a_resume_refused_before_its_snapshot_is_said_beside_the_resume_offered_again() {
    use shipshape_core::journal::{Entry, RunStart};

    let host = FakeHost::start().await;
    let dir = tempfile::tempdir().unwrap();
    let console = one(&host, dir.path(), None);
    let journal = console.journal().unwrap();
    let step = |step: &str, status: &str, note: &str| {
        serde_json::json!({
            "step": step, "title": format!("The {step} step"), "status": status, "commands": [],
            "started_at": "2026-12-05T10:00:00Z", "duration_ms": 5, "note": note, "record_ids": [],
            "snapshot": (step == "snapshot").then(|| serde_json::json!({
                "deploy": "deploy-1", "taken_at": "2026-12-05T10:00:00Z",
                "git_commit": "a".repeat(40), "images": [], "env_backup": null
            }))
        })
    };
    // `id` ran `steps` and failed; `resumes`: the deploy whose snapshot it kept.
    let failed = |id: &str, resumes: Option<&str>, steps: Vec<serde_json::Value>| {
        let mut started = RunStart::now("fake", "Deploy fake", "guided deploy");
        started.resumes = resumes.map(String::from);
        journal.append(id, &Entry::DeployStarted(started)).unwrap();
        for s in &steps {
            let mut entry = s.clone();
            entry["entry"] = "deploy_step".into();
            journal
                .append(id, &serde_json::from_value::<Entry>(entry).unwrap())
                .unwrap();
        }
        let ended: Entry = serde_json::from_value(serde_json::json!({
            "entry": "deploy_ended", "id": id, "kind": "deploy", "target": "fake",
            "operator": {"user": "ops", "key_fingerprint": null}, "message": "Release 1.4",
            "started_at": "2026-12-05T10:00:00Z", "finished_at": "2026-12-05T10:00:01Z",
            "outcome": "failed", "commits": [], "steps": steps, "checklist": null,
            "rolled_back_to": null, "resumes": resumes, "review": null, "approval": null
        }))
        .unwrap();
        journal.append(id, &ended).unwrap();
    };
    failed(
        "deploy-1",
        None,
        vec![
            step("snapshot", "done", ""),
            step("pull", "failed", "the registry did not answer"),
        ],
    );
    let offered = console.last_run("fake").unwrap().unwrap();
    assert_eq!(offered.resumable.as_deref(), Some("deploy-1"));
    assert_eq!(offered.last_attempt, None);

    // Its resume is refused at its review (the host's code moved unchecked): Resume is
    // still offered (the host may be put right), with why the last one was refused.
    let moved = "the host's code is on bbbbbbbbbbbb, not on aaaaaaaaaaaa";
    // Noted as the step's error says it; said without the step's name twice.
    let noted = format!("The step \"The review step\" did not succeed: {moved}");
    failed(
        "deploy-2",
        Some("deploy-1"),
        vec![
            step("preflight", "done", ""),
            step("review", "failed", &noted),
        ],
    );
    let offered = console.last_run("fake").unwrap().unwrap();
    assert_eq!(offered.record.id, "deploy-1");
    assert_eq!(offered.resumable.as_deref(), Some("deploy-1"));
    let attempt = offered.last_attempt.expect("the refused resume is said");
    assert_eq!(attempt.id, "deploy-2");
    assert_eq!(attempt.step, "The review step");
    assert_eq!(attempt.note, moved);
}
