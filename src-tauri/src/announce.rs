//! Long work that ends while the operator looks elsewhere is announced on the desktop:
//! an operation, a deploy or rollback, a verification. Nothing is sent when the window
//! is in front (its screen shows the result), for short work, or when the desktop has no
//! notification service.

use std::time::{Duration, Instant};

use shipshape_core::checklist::{CheckStatus, Checklist};
use shipshape_core::console::OperationOutcome;
use shipshape_core::deploy::DeployRecord;
use shipshape_core::history::RunOutcome;
use shipshape_core::{Error, ErrorCode};
use tauri::{AppHandle, Manager};
use tauri_plugin_notification::NotificationExt;

/// Work that takes at least this long is announced when it ends unwatched;
/// `SHIPSHAPE_NOTIFY_AFTER_MS` sets another bound (the end-to-end test uses 0).
fn long_work() -> Duration {
    let ms = std::env::var("SHIPSHAPE_NOTIFY_AFTER_MS")
        .ok()
        .and_then(|ms| ms.parse().ok())
        .unwrap_or(10_000);
    Duration::from_millis(ms)
}

/// How a piece of work ended, in the words the notification uses.
pub struct Ended<'a> {
    /// e.g. "Restart backend-aws finished", "Verification failed: 2 items".
    pub summary: String,
    pub target: &'a str,
    pub took: Duration,
}

pub fn if_unseen(app: &AppHandle, ended: Ended) {
    let in_front = app
        .get_webview_window("main")
        .and_then(|window| window.is_focused().ok())
        .unwrap_or(true);
    if in_front || ended.took < long_work() {
        return;
    }
    tracing::info!(summary = %ended.summary, "announcing work that ended unwatched");
    let _ = app
        .notification()
        .builder()
        .title(ended.summary)
        .body(format!(
            "{}, after {} s",
            ended.target,
            ended.took.as_secs()
        ))
        .show()
        .inspect_err(|e| tracing::warn!("the desktop notification was not shown: {e}"));
}

impl<'a> Ended<'a> {
    /// An operation that ran: its title and how it ended.
    pub fn of_operation(outcome: &OperationOutcome, target: &'a str) -> Self {
        let verdict = match (outcome.outcome, outcome.output.exit_code) {
            (RunOutcome::Cancelled, _) => "stopped",
            (_, Some(0)) => "finished",
            _ => "failed",
        };
        Ended {
            summary: format!("{} {verdict}", outcome.title),
            target,
            took: Duration::from_millis(outcome.output.duration_ms),
        }
    }

    /// Work that ended in an error after it began (timed out, cut off, stopped): the
    /// outcomes the operator most needs to hear of. A refusal before anything ran (bad
    /// input, a busy target) is said where it was asked: `None`.
    pub fn of_error(what: &str, error: &Error, target: &'a str, started: Instant) -> Option<Self> {
        let refused = matches!(
            error.code(),
            ErrorCode::BadInput | ErrorCode::TargetNotFound | ErrorCode::Busy
        );
        (!refused).then(|| Ended {
            summary: format!("{what} ended: {}", error.code().title()),
            target,
            took: started.elapsed(),
        })
    }

    /// A deploy or rollback, by its history title ("Deploy failed at Pull the images: …").
    pub fn of_deploy(record: &'a DeployRecord) -> Self {
        let history = record.history_record();
        Ended {
            summary: history.title,
            target: &record.target,
            took: Duration::from_millis(history.duration_ms),
        }
    }

    /// A verification: failed items first, then items awaiting a tick.
    pub fn of_verification(checklist: &Checklist, target: &'a str, took: Duration) -> Self {
        let count = |status| checklist.count(status);
        let items = |n| {
            if n == 1 {
                "1 item".to_string()
            } else {
                format!("{n} items")
            }
        };
        let to_tick = count(CheckStatus::Manual) + count(CheckStatus::Warn);
        let summary = match (count(CheckStatus::Fail), to_tick) {
            (0, 0) => "Verification passed".to_string(),
            (0, manual) => format!("Verification done: {} to tick", items(manual)),
            (failed, _) => format!("Verification failed: {}", items(failed)),
        };
        Ended {
            summary,
            target,
            took,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_after_the_work_began_is_announced_and_a_refusal_is_not() {
        let started = Instant::now();
        let timeout = Error::CommandTimeout {
            host: "h".into(),
            command: "docker compose --profile aws pull".into(),
            seconds: 300,
        };
        let ended = Ended::of_error("Pull the images", &timeout, "prod", started).unwrap();
        assert_eq!(ended.summary, "Pull the images ended: No answer in time");
        assert_eq!(ended.target, "prod");
        let refused = Error::BadInput("no such script".into());
        assert!(Ended::of_error("Migrate", &refused, "prod", started).is_none());
    }
}
