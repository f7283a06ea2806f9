use shipshape_core::console::{OperationOutcome, PlannedOperation};
use shipshape_core::history::HistoryRecord;
use shipshape_core::operations::Operation;
use shipshape_core::ErrorReport;
use tauri::State;

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

/// Runs one of the policy's typed operations. The UI sends an `Operation` value, never
/// command text; the core builds and quotes the command.
#[tauri::command]
pub async fn run_operation(
    state: State<'_, AppState>,
    target: String,
    operation: Operation,
) -> Result<OperationOutcome, ErrorReport> {
    Ok(state.console.run_operation(&target, &operation).await?)
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
