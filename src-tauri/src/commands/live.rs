//! The dashboard's live status: the core runs the watch as a task of its own and pushes
//! snapshots through the `Channel` until the UI stops it, or ends it with the reason.

use shipshape_core::console::LiveStatus;
use tauri::ipc::Channel;
use tauri::State;

use crate::AppState;

/// Starts pushing `target`'s service states to `on_status`; returns the watch's id.
/// `known`: the `checked_at` of the snapshot the window shows, if it has just read one.
#[tauri::command]
pub async fn watch_status(
    state: State<'_, AppState>,
    target: String,
    known: Option<String>,
    on_status: Channel<LiveStatus>,
) -> Result<u32, shipshape_core::ErrorReport> {
    Ok(state
        .console
        .start_watch(target, known, move |status| on_status.send(status).is_ok())?)
}

#[tauri::command]
pub fn stop_watch(state: State<'_, AppState>, id: u32) {
    state.console.tasks.cancel(id);
}
