use shipshape_core::console::{OperationOutcome, PlannedOperation};
use shipshape_core::history::HistoryRecord;
use shipshape_core::operations::Operation;
use shipshape_core::ErrorReport;
use std::time::Instant;
use tauri::ipc::Channel;

use tauri::{AppHandle, State};

use crate::{announce, AppState};

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
/// runs again, and `cancel_operation` stops it. `address` is the host the plan showed
/// (`user@host:port`): if the target points elsewhere now, nothing runs.
#[tauri::command]
pub async fn run_operation(
    app: AppHandle,
    state: State<'_, AppState>,
    request: String,
    target: String,
    address: String,
    operation: Operation,
    on_output: Channel<String>,
) -> Result<OperationOutcome, ErrorReport> {
    let started = Instant::now();
    let ran = state
        .console
        .run_requested_operation(&request, &target, &address, &operation, |_, text| {
            let _ = on_output.send(text.to_string());
        })
        .await;
    let ended = match &ran {
        Ok(outcome) => Some(announce::Ended::of_operation(outcome, &target)),
        Err(error) => announce::Ended::of_error(&operation.title(), error, &target, started),
    };
    if let Some(ended) = ended {
        announce::if_unseen(&app, ended);
    }
    Ok(ran?)
}

/// Stops the run the UI named `request`, an operation or a verification (its remote
/// commands are ended on the host).
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
