//! A console on the in-process host: the target `fake` pinned and keyed, and the answers
//! of a healthy host, for the console's flow tests.

use std::path::Path;
use std::sync::Arc;

use shipshape_core::settings::JsonFileSettings;
use shipshape_core::target::{self, Target};
use shipshape_core::trust::KnownHosts;
use shipshape_core::Console;

use super::{FakeHost, Reply};

pub const PROJECT: &str = "/home/ubuntu/automated-trading-platform";

pub const FACTS: &str = "== stamp\n1111 42\n== migrations\napply_migration_001.py\n\
                     == compose v2\nbackend-aws\nfrontend-aws\ndb\nmarket-updater-aws\n";
pub const STAMP: &str = "== stamp\n1111 42\n== migrations\napply_migration_001.py\n";

pub fn ps_json() -> String {
    ["backend-aws", "frontend-aws", "db", "market-updater-aws"]
        .iter()
        .map(|s| {
            format!(
                r#"{{"Service":"{s}","Name":"atp-{s}-1","State":"running","Health":"","Status":"Up 1 minute","Image":"img","ExitCode":0,"Publishers":null}}"#
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The usual answers: facts, the stamp, `ps`.
pub fn answer_as_a_healthy_host(host: &FakeHost) {
    host.answer("config --services", Reply::ok(FACTS), None);
    host.answer("shipshape-facts", Reply::ok(STAMP), None);
    host.answer("ps --all --format json", Reply::ok(&ps_json()), None);
}

/// A console in `dir` with the target `name` at `port`, pinned, keyed with `key`.
pub fn console(
    dir: &Path,
    targets: &[(&str, u16, &str)],
    host: &FakeHost,
    policy: Option<&str>,
) -> Arc<Console> {
    let settings = JsonFileSettings::open(dir.join("settings.json")).unwrap();
    // The key `k` as the settings list it (the loader below hands it over).
    let public = host.client_key.public_key();
    let key = shipshape_core::keys::KeyInfo {
        name: "k".into(),
        algorithm: public.algorithm().to_string(),
        fingerprint: public.fingerprint(russh::keys::HashAlg::Sha256).to_string(),
        comment: String::new(),
        created_at: "2026-12-05T00:00:00Z".into(),
        public_key: public.to_openssh().unwrap(),
    };
    use shipshape_core::settings::Settings;
    settings
        .set("keys", serde_json::to_value([key]).unwrap())
        .unwrap();
    let mut pins = KnownHosts::load(dir.join("known_hosts")).unwrap();
    for (name, port, fingerprint) in targets {
        let mut target = Target::new(name, "127.0.0.1", Some("k"));
        target.port = *port;
        target.project_dir = PROJECT.into();
        if let Some(text) = policy {
            let path = dir.join("policy.toml");
            std::fs::write(&path, text).unwrap();
            target.policy_file = Some(path.display().to_string());
        }
        target::save(&settings, target).unwrap();
        if pins.pinned("127.0.0.1", *port).is_none() {
            pins.pin("127.0.0.1", *port, fingerprint, Some("ssh-ed25519"))
                .unwrap();
        }
    }
    let key = host.client_key.clone();
    Arc::new(
        Console::in_dir(Arc::new(settings), dir)
            .with_key_loader(Arc::new(move |_| Ok(key.clone()))),
    )
}

pub fn one(host: &FakeHost, dir: &Path, policy: Option<&str>) -> Arc<Console> {
    console(dir, &[("fake", host.port, &host.fingerprint)], host, policy)
}
