use shipshape_core::{ErrorReport, TargetSummary};
use tauri::State;

use crate::AppState;

#[tauri::command]
pub fn list_targets(state: State<'_, AppState>) -> Result<Vec<TargetSummary>, ErrorReport> {
    Ok(state.console.targets()?)
}

#[tauri::command]
pub fn startup_problems(state: State<'_, AppState>) -> Vec<ErrorReport> {
    state.startup_problems.clone()
}
