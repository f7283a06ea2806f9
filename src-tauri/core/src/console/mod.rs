//! The core's front door for adapters (the Tauri app, the CLI): targets, connections
//! and operations behind a few domain-named async methods. It holds one live SSH
//! connection per target and reuses it until it drops.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use tokio::sync::Mutex;

use crate::error::{Error, Result};
use crate::operations::{self, StatusReport};
use crate::policy::Policy;
use crate::settings::Settings;
use crate::ssh::{Connection, Endpoint, CONNECT_TIMEOUT};
use crate::target::{self, Target};

use crate::trust::KnownHosts;
use crate::{keys, lab, paths};
pub use git_review::IncomingReview;
pub use key_custody::KeyFile;
pub use live_status::{events_command, LiveStatus};
pub use logs::{LogEvent, LogFollow, LogFollowEnd, LogFollowStarted};
pub use operate::{host_facts, OperationOutcome, PlannedOperation};
pub use targets::TargetSummary;
pub use trust::HostTrust;

mod git_review;
mod key_custody;
mod live_status;
mod logs;
mod operate;
mod ssh_config_import;
mod targets;
mod trust;

pub struct Console {
    settings: Arc<dyn Settings>,
    known_hosts_path: PathBuf,
    history_path: PathBuf,
    /// What each connected host reported about itself (compose version, services).
    facts: Mutex<HashMap<String, crate::operations::HostFacts>>,
    connections: Mutex<HashMap<String, Arc<Connection>>>,
}

impl Console {
    pub fn new(settings: Arc<dyn Settings>) -> Self {
        Console {
            settings,
            known_hosts_path: paths::known_hosts_file(),
            history_path: paths::history_file(),
            facts: Mutex::new(HashMap::new()),
            connections: Mutex::new(HashMap::new()),
        }
    }

    /// A console whose pins live in `known_hosts` rather than the data dir's file.
    pub fn with_known_hosts(settings: Arc<dyn Settings>, known_hosts: PathBuf) -> Self {
        Console {
            known_hosts_path: known_hosts,
            ..Console::new(settings)
        }
    }

    fn known_hosts(&self) -> Result<KnownHosts> {
        KnownHosts::load(&self.known_hosts_path)
    }

    /// If `SHIPSHAPE_LAB` names a lab descriptor, makes sure its target exists.
    pub async fn ensure_lab_from_env(&self) -> Result<Option<Target>> {
        let Some(path) = std::env::var_os("SHIPSHAPE_LAB").filter(|p| !p.is_empty()) else {
            return Ok(None);
        };
        let settings = self.settings.clone();
        let mut known_hosts = self.known_hosts()?;
        let target = tokio::task::spawn_blocking(move || {
            lab::ensure_lab_target(
                settings.as_ref(),
                &mut known_hosts,
                std::path::Path::new(&path),
            )
        })
        .await
        .expect("lab setup does not panic")?;
        Ok(Some(target))
    }

    /// The live connection to `name`, opened (and host-verified) if there is none.
    pub async fn connect(&self, name: &str) -> Result<Arc<Connection>> {
        let target = target::find(self.settings.as_ref(), name)?;
        let mut connections = self.connections.lock().await;
        if let Some(existing) = connections.get(name) {
            if !existing.is_closed() {
                return Ok(existing.clone());
            }
        }
        let pin = self
            .known_hosts()?
            .pinned(&target.host, target.port)
            .map(str::to_string);
        let key_name = target.key.clone().ok_or_else(|| {
            Error::BadInput(format!(
                "The target {name} has no key. Choose one on the Targets screen."
            ))
        })?;
        let key = blocking(move || keys::load(&key_name)).await?;
        let endpoint = Endpoint {
            host: target.host.clone(),
            port: target.port,
            user: target.user.clone(),
        };
        let connection =
            Arc::new(Connection::open(&endpoint, pin.as_deref(), &key, CONNECT_TIMEOUT).await?);
        connections.insert(name.to_string(), connection.clone());
        Ok(connection)
    }

    pub async fn disconnect(&self, name: &str) {
        self.facts.lock().await.remove(name);
        if let Some(connection) = self.connections.lock().await.remove(name) {
            connection.close().await;
        }
    }

    /// The target named `name` and the policy that governs it, both read locally: checks
    /// against the policy happen before anything connects.
    pub fn target_and_policy(&self, name: &str) -> Result<(Target, Policy)> {
        let target = target::find(self.settings.as_ref(), name)?;
        let policy = self.policy_for(&target)?;
        Ok((target, policy))
    }

    /// The policy that governs `target`: the builtin one, or the target's policy file
    /// laid over it (validated; a bad file is a clear error naming its line and field).
    pub fn policy_for(&self, target: &Target) -> Result<Policy> {
        match &target.policy_file {
            None => Ok(Policy::builtin()),
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| Error::storage(path, e))?;
                Policy::from_toml(&text, path)
            }
        }
    }

    /// `docker compose --profile aws ps` on the target, one row per service. A connection
    /// that turns out to have dropped is reopened once.
    pub async fn service_status(&self, name: &str) -> Result<StatusReport> {
        let (target, policy) = self.target_and_policy(name)?;
        match self.status_once(&target, &policy).await {
            Err(Error::ConnectionLost { .. }) => {
                self.disconnect(name).await;
                self.status_once(&target, &policy).await
            }
            other => other,
        }
    }

    async fn status_once(&self, target: &Target, policy: &Policy) -> Result<StatusReport> {
        let connection = self.connect(&target.name).await?;
        let facts = self.facts_for(target, &connection, policy).await?;
        operations::service_status(&connection, target, policy, &facts).await
    }
}

/// Runs keyring and file work off the async runtime (the keyring's calls block).
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(work)
        .await
        .unwrap_or_else(|e| Err(Error::Protocol(format!("a background task failed: {e}"))))
}
