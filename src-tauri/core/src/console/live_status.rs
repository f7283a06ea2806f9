//! The dashboard's live view. Polling `compose ps` costs the host ~0.2 s of CPU each
//! time, so instead one `docker events` stream, filtered to the project's containers
//! and to state changes, runs on the shared connection; each burst of events triggers a
//! single `ps`, whose snapshot is pushed to the caller. Nothing runs while nothing changes.

use std::time::Duration;

use serde::Serialize;
use tokio::sync::mpsc;
use ts_rs::TS;

use super::Console;
use crate::error::{Error, ErrorReport, Result};
use crate::operations::{self, StatusReport};
use crate::shell::RemoteCommand;
use crate::ssh::{CancellationToken, StreamChunk};
use crate::target::{self, Target};

/// Container events that change what the dashboard shows. Health checks run as `exec_*`
/// events every few seconds and are left out; `health_status` only fires on a change.
const STATE_EVENTS: [&str; 11] = [
    "create",
    "start",
    "restart",
    "die",
    "stop",
    "kill",
    "pause",
    "unpause",
    "destroy",
    "oom",
    "health_status",
];

/// How long to wait after an event for the rest of its burst (a restart is several).
const SETTLE: Duration = Duration::from_millis(150);

/// What the live view pushes: a fresh snapshot, or the end of the watch.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LiveStatus {
    Snapshot { report: StatusReport },
    Ended { error: Option<ErrorReport> },
}

/// `docker events` for the project's containers only, one line per state change.
pub fn events_command(target: &Target) -> RemoteCommand {
    let mut command = RemoteCommand::new("docker").args([
        "events",
        "--filter",
        "type=container",
        "--filter",
        &format!(
            "label=com.docker.compose.project.working_dir={}",
            target.project_dir
        ),
    ]);
    for event in STATE_EVENTS {
        command = command.args(["--filter".to_string(), format!("event={event}")]);
    }
    command.args(["--format", "{{.Action}}"])
}

impl Console {
    /// Pushes a snapshot of `target`'s services now and after every change, until
    /// `cancel` fires or the connection fails.
    pub async fn watch_status(
        &self,
        target: &str,
        mut on_snapshot: impl FnMut(StatusReport) + Send,
        cancel: &CancellationToken,
    ) -> Result<()> {
        let target = target::find(self.settings.as_ref(), target)?;
        let policy = self.policy_for(&target)?;
        let connection = self.connect(&target.name).await?;
        let facts = self.facts_for(&target, &connection, &policy).await?;
        on_snapshot(operations::service_status(&connection, &target, &policy, &facts).await?);

        let (changed, mut changes) = mpsc::unbounded_channel::<()>();
        let watch = events_command(&target);
        let events = connection.exec_streaming(
            &watch,
            move |chunk| {
                if let StreamChunk::Stdout(bytes) = chunk {
                    if bytes.contains(&b'\n') {
                        let _ = changed.send(());
                    }
                }
            },
            cancel,
        );
        let refresh = async {
            while changes.recv().await.is_some() {
                tokio::time::sleep(SETTLE).await;
                while changes.try_recv().is_ok() {}
                on_snapshot(
                    operations::service_status(&connection, &target, &policy, &facts).await?,
                );
            }
            Ok::<(), Error>(())
        };
        let (ended, refreshed) = tokio::join!(events, refresh);
        refreshed?;
        let ended = ended?;
        if ended.cancelled {
            Ok(())
        } else {
            Err(Error::RemoteFailed {
                what: "Watching the services (docker events)".into(),
                exit_code: ended.exit_code.unwrap_or(-1),
                detail: "the event stream ended; reconnect to resume live updates".into(),
            })
        }
    }
}
