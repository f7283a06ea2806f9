//! A deploy's faults against the in-process host, in seconds, with no lab and no
//! keyring. (A lock lost midway needs a host that passes the preflight checks: the lab's
//! `deploy` test breaks it.)

mod host;

use std::path::Path;
use std::sync::Arc;

use host::FakeHost;
use shipshape_core::console::DeployRequest;
use shipshape_core::settings::JsonFileSettings;
use shipshape_core::target::{self, Target};
use shipshape_core::trust::KnownHosts;
use shipshape_core::{Console, ErrorCode};

const PROJECT: &str = "/home/ubuntu/automated-trading-platform";

fn console(dir: &Path, host: &FakeHost) -> Arc<Console> {
    let settings = JsonFileSettings::open(dir.join("settings.json")).unwrap();
    let mut target = Target::new("fake", "127.0.0.1", Some("k"));
    target.port = host.port;
    target.project_dir = PROJECT.into();
    target::save(&settings, target).unwrap();
    let mut pins = KnownHosts::load(dir.join("known_hosts")).unwrap();
    pins.pin(
        "127.0.0.1",
        host.port,
        &host.fingerprint,
        Some("ssh-ed25519"),
    )
    .unwrap();
    let key = host.client_key.clone();
    Arc::new(
        Console::in_dir(Arc::new(settings), dir)
            .with_key_loader(Arc::new(move |_| Ok(key.clone()))),
    )
}

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
    let console = console(dir.path(), &host);
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
