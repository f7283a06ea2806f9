//! The dashboard's live view. Polling `compose ps` costs the host ~0.2 s of CPU each
//! time, so instead one `docker events` stream, filtered to the project's containers
//! and to state changes, runs on the shared connection; each burst of events triggers a
//! single `ps`, whose snapshot is pushed to the caller. Nothing runs while nothing changes.
//!
//! The stream starts a little in the past (`--since`), just before the snapshot the
//! caller holds was read, so a change between that read and the stream's start is
//! replayed rather than missed. A caller that has just read the services (the window,
//! which shows them before it starts watching) says when, and the watch does not read
//! them a second time.

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
/// How old the caller's snapshot may be to stand as the watch's first.
const KNOWN_FRESH_FOR: Duration = Duration::from_secs(10);
/// How much further back than the snapshot's read the stream starts: `checked_at` is
/// when its `ps` started, and Docker counts `--since` in whole seconds.
const REPLAY_MARGIN: Duration = Duration::from_secs(2);

/// What the live view pushes: a fresh snapshot, or the end of the watch.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LiveStatus {
    Snapshot { report: StatusReport },
    Ended { error: Option<ErrorReport> },
}

/// `docker events` for the project's containers only, one line per state change, from
/// `replay` ago (whole seconds, rounded up) on.
pub fn events_command(target: &Target, replay: Duration) -> RemoteCommand {
    let seconds = replay.as_secs() + u64::from(replay.subsec_nanos() > 0);
    let mut command = RemoteCommand::new("docker").args([
        "events".to_string(),
        "--since".to_string(),
        format!("{seconds}s"),
        "--filter".to_string(),
        "type=container".to_string(),
        "--filter".to_string(),
        format!(
            "label=com.docker.compose.project.working_dir={}",
            target.project_dir
        ),
    ]);
    for event in STATE_EVENTS {
        command = command.args(["--filter".to_string(), format!("event={event}")]);
    }
    command.args(["--format", "{{.Action}}"])
}

/// How long ago a snapshot was read, from its `checked_at` (this machine's clock); a
/// time that is not one the core writes is refused.
fn snapshot_age(checked_at: &str) -> Result<Duration> {
    let read = humantime::parse_rfc3339(checked_at).map_err(|_| {
        Error::BadInput(format!(
            "{} is not the time of a snapshot (RFC 3339, as the services' checked_at)",
            crate::input::shown(checked_at)
        ))
    })?;
    Ok(std::time::SystemTime::now()
        .duration_since(read)
        .unwrap_or_default())
}

impl Console {
    /// Pushes a snapshot of `target`'s services after every change, until `cancel`
    /// fires, the event stream ends or a refresh fails (the error says which; the
    /// adapter shows it and may watch again). First a snapshot now, unless the caller
    /// holds one read at `known` (its `checked_at`) less than [`KNOWN_FRESH_FOR`] ago.
    pub async fn watch_status(
        &self,
        target: &str,
        known: Option<&str>,
        mut on_snapshot: impl FnMut(StatusReport) + Send,
        cancel: &CancellationToken,
    ) -> Result<()> {
        let target = target::find(self.settings.as_ref(), target)?;
        let known_age = known.map(snapshot_age).transpose()?;
        let read_ago = match known_age.filter(|age| *age < KNOWN_FRESH_FOR) {
            Some(age) => age,
            None => {
                let report = self.service_status(&target.name).await?;
                let age = snapshot_age(&report.checked_at).unwrap_or_default();
                on_snapshot(report);
                age
            }
        };
        let connection = self.connect(&target.name).await?;

        // A failed refresh stops the event stream too: the watch ends as one.
        let stop = cancel.child_token();
        let (changed, mut changes) = mpsc::unbounded_channel::<()>();
        let watch = events_command(&target, read_ago + REPLAY_MARGIN);
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
        known: Option<String>,
        on_status: impl Fn(LiveStatus) -> bool + Send + Sync + 'static,
    ) -> Result<TaskId> {
        crate::target::find(self.settings.as_ref(), &target)?;
        if let Some(known) = &known {
            snapshot_age(known)?;
        }
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
                    known.as_deref(),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stream_starts_before_the_snapshot_in_whole_seconds_rounded_up() {
        let target = Target::new("prod", "203.0.113.7", None);
        let rendered = |replay| events_command(&target, replay).render();
        assert!(rendered(Duration::from_millis(2_300)).contains("docker events --since 3s "));
        assert!(rendered(Duration::from_secs(2)).contains("docker events --since 2s "));
    }

    #[test]
    fn a_snapshot_time_is_read_as_the_core_writes_it_and_anything_else_refused() {
        let now = humantime::format_rfc3339_millis(std::time::SystemTime::now()).to_string();
        assert!(snapshot_age(&now).unwrap() < Duration::from_secs(5));
        // One from the future (another clock) is no age at all, not an error.
        assert_eq!(
            snapshot_age("2999-01-01T00:00:00Z").unwrap(),
            Duration::ZERO
        );
        for bad in ["", "yesterday", "2026-12-03 10:00", "a\0b"] {
            let error = snapshot_age(bad).unwrap_err();
            assert_eq!(error.code(), crate::error::ErrorCode::BadInput, "{bad:?}");
        }
    }
}
