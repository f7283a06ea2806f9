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
