use shipshape_core::console::HostCheck;
use shipshape_core::operations::StatusReport;
use shipshape_core::ErrorReport;
use tauri::State;

use crate::AppState;

/// Connects if needed (verifying the host key first) and runs the policy's
/// `docker compose --profile aws ps`.
#[tauri::command]
pub async fn service_status(
    state: State<'_, AppState>,
    target: String,
) -> Result<StatusReport, ErrorReport> {
    Ok(state.console.service_status(&target).await?)
}

#[tauri::command]
pub async fn disconnect(state: State<'_, AppState>, target: String) -> Result<(), ErrorReport> {
    Ok(state.console.disconnect_target(&target).await?)
}

/// The first look at a newly trusted host: its Compose, project, `aws` services and the
/// policy's guardrails, before any change is offered.
#[tauri::command]
pub async fn host_check(
    state: State<'_, AppState>,
    target: String,
) -> Result<HostCheck, ErrorReport> {
    Ok(state.console.host_check(&target).await?)
}
