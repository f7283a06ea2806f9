//! The core's front door for adapters (the Tauri app, the CLI): targets, connections
//! and operations behind a few domain-named async methods. It holds one session per
//! target ([`session`]: connection, facts, the change running) and the long tasks it
//! runs for adapters ([`tasks`]), so adapters stay one line per command.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use crate::error::{Error, Result};
use crate::journal::Journal;
use crate::operations::{self, Compose, StatusReport};
use crate::policy::Policy;
use crate::settings::Settings;
use crate::target::{self, Target};

use crate::trust::KnownHosts;
use crate::{lab, paths};
pub use deploy::{DeployEvent, DeployRequest, DeployResult, DeployRun, PlannedStep, RunPlan};
pub use env_file::{EnvChange, EnvKeys, EnvSaved};
pub use git_review::IncomingReview;
pub use host_check::HostCheck;
pub use key_custody::KeyFile;
pub use live_status::{events_command, LiveStatus};
pub use logs::lines::Source;
pub use logs::{LogEvent, LogFollow, LogFollowEnd, LogFollowStarted};
pub use operate::{OperationOutcome, PlannedOperation};
pub use reports::ReportExport;
pub use route::RouteHost;
pub use targets::TargetSummary;
pub use tasks::{TaskId, Tasks};
pub use trust::{HostTrust, PinnedKey};

/// A policy file is a page of TOML; past this it is not one.
const MAX_POLICY_BYTES: u64 = 1 << 20;

mod checks;
mod deploy;
mod env_file;
mod facts;
mod git_review;
mod host_check;
mod key_custody;
mod live_status;
mod logs;
mod operate;
mod prefetch;
mod reports;
mod route;
mod session;
mod shown;
mod ssh_config_import;
mod targets;
mod tasks;
mod trust;

pub struct Console {
    settings: Arc<dyn Settings>,
    known_hosts_path: PathBuf,
    /// The `history.jsonl` of earlier versions, imported into the journal once.
    history_path: PathBuf,
    journal_path: PathBuf,
    /// Opened on first use, then shared by every task of this console.
    journal: Mutex<Option<Arc<Journal>>>,
    facts_cache_path: PathBuf,
    /// One per target, by name; this lock is held only to look one up.
    sessions: Mutex<HashMap<String, Arc<session::Session>>>,
    /// Long work running for adapters (live watches, log follows, operations).
    pub tasks: Tasks,
    /// The credits of each log follow a viewer paces, by its task's id.
    log_credits: Mutex<HashMap<TaskId, Arc<tokio::sync::Semaphore>>>,
    /// Where private keys come from: the OS keyring ([`crate::keys::load`]).
    key_loader: KeyLoader,
    /// The first target's services, read at start ([`Console::prefetch_first_status`]).
    prefetch: Mutex<Option<prefetch::Prefetch>>,
}

/// Loads a private key by name; blocking.
pub type KeyLoader = Arc<dyn Fn(&str) -> Result<russh::keys::PrivateKey> + Send + Sync + 'static>;

impl Console {
    pub fn new(settings: Arc<dyn Settings>) -> Self {
        Console {
            settings,
            known_hosts_path: paths::known_hosts_file(),
            history_path: paths::history_file(),
            journal_path: paths::journal_file(),
            journal: Mutex::new(None),
            facts_cache_path: paths::facts_cache_file(),
            sessions: Mutex::new(HashMap::new()),
            tasks: Tasks::default(),
            log_credits: Mutex::new(HashMap::new()),
            key_loader: Arc::new(crate::keys::load),
            prefetch: Mutex::new(None),
        }
    }

    /// A console that takes private keys from `loader` instead of the OS keyring: for
    /// tests of flows against an in-process host, which need no Secret Service.
    pub fn with_key_loader(self, loader: KeyLoader) -> Self {
        Console {
            key_loader: loader,
            ..self
        }
    }

    /// A console whose own files (pins, history, facts cache) live in `dir` rather than
    /// the data dir: tests give each console its own.
    pub fn in_dir(settings: Arc<dyn Settings>, dir: &std::path::Path) -> Self {
        Console {
            known_hosts_path: dir.join("known_hosts"),
            history_path: dir.join("history.jsonl"),
            journal_path: dir.join("journal.sqlite3"),
            facts_cache_path: dir.join("facts.json"),
            ..Console::new(settings)
        }
    }

    /// The journal, opened (and an older history imported) on first use.
    pub fn journal(&self) -> Result<Arc<Journal>> {
        let mut slot = self.journal.lock().unwrap();
        if let Some(journal) = slot.as_ref() {
            return Ok(journal.clone());
        }
        let journal = Arc::new(Journal::open(&self.journal_path, Some(&self.history_path))?);
        *slot = Some(journal.clone());
        Ok(journal)
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
                let bytes = crate::input::read_named_file(
                    std::path::Path::new(path),
                    "the policy file",
                    "a policy file",
                    MAX_POLICY_BYTES,
                )?;
                let text = String::from_utf8(bytes).map_err(|_| {
                    Error::BadInput(format!(
                        "{} is not a text file: a policy file is TOML text.",
                        crate::input::shown(path)
                    ))
                })?;
                Policy::from_toml(&text, path)
            }
        }
    }

    /// Problems with the settings file (damaged), for the console's banner.
    pub fn check_settings(&self) -> Result<()> {
        self.settings.check()
    }

    /// Calls `on_change` whenever the settings or the pinned host keys change on disk (a
    /// target added or trusted with the CLI, say), until it returns false or `cancel`
    /// fires. Polls the files' versions: two `stat`s every half second.
    pub async fn watch_settings(
        &self,
        on_change: impl Fn() -> bool + Send,
        cancel: &crate::ssh::CancellationToken,
    ) {
        let version = || {
            let pins = std::fs::metadata(&self.known_hosts_path)
                .ok()
                .map(|m| (m.modified().ok(), m.len()));
            (self.settings.version(), pins)
        };
        let mut seen = version();
        loop {
            tokio::select! {
                () = cancel.cancelled() => return,
                () = tokio::time::sleep(std::time::Duration::from_millis(500)) => {}
            }
            let now = version();
            if now != seen {
                seen = now;
                tracing::debug!("settings changed on disk");
                if !on_change() {
                    return;
                }
            }
        }
    }

    /// [`Console::watch_settings`] as a task the console owns; returns its id.
    pub fn start_settings_watch(
        self: &Arc<Self>,
        on_change: impl Fn() -> bool + Send + Sync + 'static,
    ) -> TaskId {
        let console = self.clone();
        let handle = self.tasks.start("settings watch");
        let id = handle.id;
        tokio::spawn(async move {
            console.watch_settings(on_change, &handle.cancel).await;
            drop(handle);
        });
        id
    }

    /// Stops everything the console runs and closes its connections: it is closing.
    /// Bounded, whatever a host does (about 5 s at most): a connection still being
    /// opened (up to 15 s a hop) or one that will not close is left to the process's
    /// exit, which closes its socket; the host's supervisors then end what it ran.
    pub async fn shut_down(&self) {
        if let Some(prefetch) = self.prefetch.lock().unwrap().take() {
            prefetch.abort();
        }
        self.tasks.cancel_all();
        // Each stream ends its remote command and waits for the host to confirm.
        for _ in 0..60 {
            if self.tasks.running() == 0 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        let closing =
            tokio::time::timeout(std::time::Duration::from_secs(2), self.disconnect_all());
        match closing.await {
            Ok(()) => tracing::info!("console shut down"),
            Err(_) => tracing::warn!(
                "console shut down; a connection still opening or closing is left to the exit"
            ),
        }
    }

    /// `docker compose --profile aws ps` on the target, one row per service, with
    /// restart counts and image IDs. A dropped connection is reopened once.
    pub async fn service_status(&self, name: &str) -> Result<StatusReport> {
        if let Some(read) = self.prefetched_status(name).await {
            return read;
        }
        self.status(name, true).await
    }

    /// [`Console::service_status`] without restarts and image IDs: exactly one `ps`,
    /// one compose process on the host.
    pub async fn service_states(&self, name: &str) -> Result<StatusReport> {
        self.status(name, false).await
    }

    async fn status(&self, name: &str, with_details: bool) -> Result<StatusReport> {
        let (target, policy) = self.target_and_policy(name)?;
        let (target, policy) = (&target, &policy);
        self.read_with_retry(name, |connection| async move {
            let ps = |compose, services: Vec<String>| {
                let connection = connection.clone();
                async move {
                    let report = operations::service_status(
                        &connection,
                        target,
                        policy,
                        compose,
                        &services,
                        with_details,
                    )
                    .await?;
                    self.remember_compose(target, compose);
                    Ok::<_, Error>(report)
                }
            };
            let compose = self.compose_for(target);
            let services = match compose {
                // v1's table needs the host's service names to be read.
                Compose::V1 => self.facts_for(target, &connection, policy).await?.services,
                Compose::V2 => Vec::new(),
            };
            match ps(compose, services).await {
                Err(Error::RemoteFailed {
                    detail, exit_code, ..
                }) if operations::compose_missing(&detail, exit_code) => {
                    // Not the Compose we assumed: ask the host which it has (not the
                    // cache, which may be what was wrong), then ask again.
                    let facts = self.relearn_facts(target, &connection, policy).await?;
                    if facts.compose == compose {
                        return Err(Error::RemoteFailed {
                            what: "docker compose ps".into(),
                            exit_code,
                            detail,
                        });
                    }
                    ps(facts.compose, facts.services).await
                }
                other => other,
            }
        })
        .await
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
