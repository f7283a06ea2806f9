//! A deploy's faults against the in-process host, in seconds, with no lab and no
//! keyring. (A lock lost midway needs a host that passes the preflight checks: the lab's
//! `deploy` test breaks it.)

mod host;

use host::console::one;
use host::FakeHost;
use shipshape_core::console::DeployRequest;
use shipshape_core::ErrorCode;

fn request() -> DeployRequest {
    DeployRequest {
        message: "Release 1.4".into(),
        migrations: Vec::new(),
        review: None,
        resume: None,
        seen: None,
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
