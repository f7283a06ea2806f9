use std::collections::HashMap;
use std::sync::Mutex;

use shipshape_core::console::{OperationOutcome, PlannedOperation};
use shipshape_core::history::HistoryRecord;
use shipshape_core::operations::Operation;
use shipshape_core::ssh::CancellationToken;
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

/// Operations running now, by the id the UI gave them, so it can cancel one.
#[derive(Default)]
pub struct RunningOperations(Mutex<HashMap<u32, CancellationToken>>);

/// Runs one of the policy's typed operations, streaming its output to `on_output` as it
/// comes. The UI sends an `Operation` value, never command text; the core builds and
/// quotes the command.
#[tauri::command]
pub async fn run_operation(
    app: AppHandle,
    state: State<'_, AppState>,
    running: State<'_, RunningOperations>,
    target: String,
    operation: Operation,
    run_id: u32,
    on_output: Channel<String>,
) -> Result<OperationOutcome, ErrorReport> {
    let cancel = CancellationToken::new();
    running.0.lock().unwrap().insert(run_id, cancel.clone());
    let outcome = state
        .console
        .run_operation_streaming(
            &target,
            &operation,
            |text| {
                let _ = on_output.send(text.to_string());
            },
            &cancel,
        )
        .await;
    running.0.lock().unwrap().remove(&run_id);
    let outcome = outcome?;
    notify_if_unseen(&app, &target, &outcome);
    Ok(outcome)
}

/// Operations that take at least this long are announced when they end unwatched.
const LONG_OPERATION_MS: u64 = 10_000;

/// A desktop notification when a long operation ends while the window is in the
/// background; nothing if it is in front (the dialog shows the result) or if the desktop
/// has no notification service.
fn notify_if_unseen(app: &AppHandle, target: &str, outcome: &OperationOutcome) {
    let in_front = app
        .get_webview_window("main")
        .and_then(|window| window.is_focused().ok())
        .unwrap_or(true);
    if in_front || outcome.output.duration_ms < LONG_OPERATION_MS {
        return;
    }
    let verdict = match outcome.output.exit_code {
        Some(0) => "finished",
        None => "stopped",
        Some(_) => "failed",
    };
    let _ = app
        .notification()
        .builder()
        .title(format!("{} {verdict}", outcome.title))
        .body(format!(
            "{target}, after {} s",
            outcome.output.duration_ms / 1000
        ))
        .show();
}

/// Stops the operation the UI started as `run_id` (its remote command gets SIGTERM).
#[tauri::command]
pub fn cancel_operation(running: State<'_, RunningOperations>, run_id: u32) {
    if let Some(cancel) = running.0.lock().unwrap().get(&run_id) {
        cancel.cancel();
    }
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
