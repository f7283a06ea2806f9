//! The guided deploy, rollback and the host's deploy lock. A deploy's steps stream to
//! `on_event` as they start and end; the run comes back with its record and, if a step
//! stopped it, the error (the record is kept either way).

use shipshape_core::console::{DeployEvent, DeployRequest, DeployResult};
use shipshape_core::deploy::LockStatus;
use shipshape_core::ErrorReport;
use tauri::ipc::Channel;
use tauri::State;

use crate::AppState;

/// Deploys origin's main to `target`, step by step under the host's lock; `migrations`
/// are the scripts the operator picked (none is guessed).
#[tauri::command]
pub async fn deploy(
    state: State<'_, AppState>,
    target: String,
    message: String,
    migrations: Vec<String>,
    on_event: Channel<DeployEvent>,
) -> Result<DeployResult, ErrorReport> {
    let request = DeployRequest {
        message,
        migrations,
    };
    let send = |event: DeployEvent| {
        let _ = on_event.send(event);
    };
    Ok(state.console.deploy(&target, &request, send).await?.into())
}

/// Returns `target` to the newest deploy's snapshot, with the operator's reason.
#[tauri::command]
pub async fn rollback(
    state: State<'_, AppState>,
    target: String,
    reason: String,
    on_event: Channel<DeployEvent>,
) -> Result<DeployResult, ErrorReport> {
    let send = |event: DeployEvent| {
        let _ = on_event.send(event);
    };
    Ok(state
        .console
        .rollback(&target, None, &reason, send)
        .await?
        .into())
}

/// Whether `target`'s host is locked for a deploy, and by whom.
#[tauri::command]
pub async fn lock_status(
    state: State<'_, AppState>,
    target: String,
) -> Result<LockStatus, ErrorReport> {
    Ok(state.console.lock_status(&target).await?)
}

/// Breaks the host's deploy lock deliberately, with a reason recorded here and there.
#[tauri::command]
pub async fn release_lock(
    state: State<'_, AppState>,
    target: String,
    reason: String,
) -> Result<LockStatus, ErrorReport> {
    Ok(state.console.break_lock(&target, &reason).await?)
}
