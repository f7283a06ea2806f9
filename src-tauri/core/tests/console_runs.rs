//! What the operator sees of a run and can do to it, against the in-process host: a
//! service's output reaches them redacted, and a verification stops when asked.

mod host;

use std::time::{Duration, Instant};

use host::console::{answer_as_a_healthy_host, one};
use host::{FakeHost, Reply};
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
