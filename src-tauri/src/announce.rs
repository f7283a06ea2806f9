//! Long work that ends while the operator looks elsewhere is announced on the desktop:
//! an operation, a deploy or rollback, a verification. Nothing is sent when the window
//! is in front (its screen shows the result), for short work, or when the desktop has no
//! notification service.

use std::time::Duration;

use shipshape_core::checklist::{CheckStatus, Checklist};
use shipshape_core::deploy::DeployRecord;
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
        let count = |status| {
            checklist
                .items
                .iter()
                .filter(|i| i.status == status)
                .count()
        };
        let items = |n| {
            if n == 1 {
                "1 item".to_string()
            } else {
                format!("{n} items")
            }
        };
        let summary = match (count(CheckStatus::Fail), count(CheckStatus::Manual)) {
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
