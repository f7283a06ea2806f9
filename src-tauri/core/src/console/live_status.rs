//! The dashboard's live view. Polling `compose ps` costs the host ~0.2 s of CPU each
//! time, so instead one `docker events` stream, filtered to the project's containers
//! and to state changes, runs on the shared connection; each burst of events triggers a
//! single `ps`, whose snapshot is pushed to the caller. Nothing runs while nothing changes.

use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use tokio::sync::mpsc;
use ts_rs::TS;

use super::{Console, TaskId};
use crate::error::{Error, ErrorReport, Result};
use crate::operations::StatusReport;
use crate::shell::RemoteCommand;
use crate::ssh::{CancellationToken, Deadline, StreamChunk};
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
    /// `cancel` fires, the event stream ends or a refresh fails (the error says which;
    /// the adapter shows it and may watch again).
    pub async fn watch_status(
        &self,
        target: &str,
        mut on_snapshot: impl FnMut(StatusReport) + Send,
        cancel: &CancellationToken,
    ) -> Result<()> {
        let target = target::find(self.settings.as_ref(), target)?;
        on_snapshot(self.service_status(&target.name).await?);
        let connection = self.connect(&target.name).await?;

        // A failed refresh stops the event stream too: the watch ends as one.
        let stop = cancel.child_token();
        let (changed, mut changes) = mpsc::unbounded_channel::<()>();
        let watch = events_command(&target);
        let events = connection.exec_streaming(
            &watch,
            Deadline::Unbounded,
            move |chunk| {
                if let StreamChunk::Stdout(bytes) = chunk {
                    if bytes.contains(&b'\n') {
                        let _ = changed.send(());
                    }
                }
            },
            &stop,
        );
        let refresh = async {
            while changes.recv().await.is_some() {
                tokio::time::sleep(SETTLE).await;
                while changes.try_recv().is_ok() {}
                match self.service_status(&target.name).await {
                    Ok(report) => on_snapshot(report),
                    Err(error) => {
                        stop.cancel();
                        return Err(error);
                    }
                }
            }
            Ok::<(), Error>(())
        };
        let (ended, refreshed) = tokio::join!(events, refresh);
        refreshed?;
        let ended = ended?;
        if cancel.is_cancelled() {
            return Ok(());
        }
        connection.ended_as_error(&ended, Deadline::Unbounded)?;
        Err(Error::RemoteFailed {
            what: "Watching the services (docker events)".into(),
            exit_code: ended.exit_code.unwrap_or(-1),
            detail: "the event stream ended; live updates resume when the watch restarts".into(),
        })
    }

    /// [`Console::watch_status`] as a task the console owns: `on_status` gets each
    /// snapshot, then one `Ended`, and returns false once nobody listens (which ends
    /// the watch). Returns the task's id, which stops it; an unknown target is refused.
    pub fn start_watch(
        self: &Arc<Self>,
        target: String,
        on_status: impl Fn(LiveStatus) -> bool + Send + Sync + 'static,
    ) -> Result<TaskId> {
        crate::target::find(self.settings.as_ref(), &target)?;
        let console = self.clone();
        let handle = self.tasks.start(format!("live status of {target}"));
        let id = handle.id;
        let cancel = handle.cancel.clone();
        // The task owns its registration: it leaves the registry when the watch ends.
        tokio::spawn(async move {
            let _registered = handle;
            let on_status = Arc::new(on_status);
            let sent = on_status.clone();
            let gone = cancel.clone();
            let result = console
                .watch_status(
                    &target,
                    move |report| {
                        // Nobody listens any more (the window reloaded): stop watching.
                        if !sent(LiveStatus::Snapshot { report }) {
                            gone.cancel();
                        }
                    },
                    &cancel,
                )
                .await;
            on_status(LiveStatus::Ended {
                error: result.err().map(ErrorReport::from),
            });
        });
        Ok(id)
    }
}
