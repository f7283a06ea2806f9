use shipshape_core::console::{OperationOutcome, PlannedOperation};
use shipshape_core::history::{HistoryRecord, RunOutcome};
use shipshape_core::operations::Operation;
use shipshape_core::ErrorReport;
use tauri::ipc::Channel;
use tauri::{AppHandle, Manager, State};
use tauri_plugin_notification::NotificationExt;

use crate::AppState;

/// The exact command an operation will run, checked against the policy and the host,
/// for the confirmation the UI shows before running it.
#[tauri::command]
pub async fn plan_operation(
    state: State<'_, AppState>,
    target: String,
    operation: Operation,
) -> Result<PlannedOperation, ErrorReport> {
    Ok(state.console.plan_operation(&target, &operation).await?)
}

/// Runs one of the policy's typed operations, streaming its output to `on_output` as it
/// comes. The UI sends an `Operation` value, never command text; the core builds and
/// quotes the command. `request` is the UI's name for this run: a repeat of it never
/// runs again, and `cancel_operation` stops it.
#[tauri::command]
pub async fn run_operation(
    app: AppHandle,
    state: State<'_, AppState>,
    request: String,
    target: String,
    operation: Operation,
    on_output: Channel<String>,
) -> Result<OperationOutcome, ErrorReport> {
    let outcome = state
        .console
        .run_requested_operation(&request, &target, &operation, |text| {
            let _ = on_output.send(text.to_string());
        })
        .await?;
    notify_if_unseen(&app, &target, &outcome);
    Ok(outcome)
}

/// Operations that take at least this long are announced when they end unwatched;
/// `SHIPSHAPE_NOTIFY_AFTER_MS` sets another bound (the end-to-end test uses 0).
fn long_operation_ms() -> u64 {
    std::env::var("SHIPSHAPE_NOTIFY_AFTER_MS")
        .ok()
        .and_then(|ms| ms.parse().ok())
        .unwrap_or(10_000)
}

/// A desktop notification when a long operation ends while the window is in the
/// background; nothing if it is in front (the dialog shows the result) or if the desktop
/// has no notification service.
fn notify_if_unseen(app: &AppHandle, target: &str, outcome: &OperationOutcome) {
    let in_front = app
        .get_webview_window("main")
        .and_then(|window| window.is_focused().ok())
        .unwrap_or(true);
    if in_front || outcome.output.duration_ms < long_operation_ms() {
        return;
    }
    tracing::info!(title = %outcome.title, "announcing an operation that ended unwatched");
    let verdict = match (outcome.outcome, outcome.output.exit_code) {
        (RunOutcome::Cancelled, _) => "stopped",
        (_, Some(0)) => "finished",
        _ => "failed",
    };
    let _ = app
        .notification()
        .builder()
        .title(format!("{} {verdict}", outcome.title))
        .body(format!(
            "{target}, after {} s",
            outcome.output.duration_ms / 1000
        ))
        .show()
        .inspect_err(|e| tracing::warn!("the desktop notification was not shown: {e}"));
}

/// Stops the run the UI named `request` (its remote command is ended on the host).
#[tauri::command]
pub fn cancel_operation(state: State<'_, AppState>, request: String) -> Result<(), ErrorReport> {
    Ok(state.console.tasks.cancel_request(&request).map(drop)?)
}

#[tauri::command]
pub async fn list_migrations(
    state: State<'_, AppState>,
    target: String,
) -> Result<Vec<String>, ErrorReport> {
    Ok(state.console.migrations(&target).await?)
}

#[tauri::command]
pub fn history(state: State<'_, AppState>) -> Result<Vec<HistoryRecord>, ErrorReport> {
    Ok(state.console.history()?)
}
