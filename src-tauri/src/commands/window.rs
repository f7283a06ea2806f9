//! The window itself: what it asks before closing while a deploy runs.

use tauri::ipc::Channel;
use tauri::{State, WebviewWindow};

use crate::AppState;

/// Asks the page (on `on_close`) before the window closes while a deploy or rollback
/// runs, with the targets closing would cut short; until it answers, the window stays.
#[tauri::command]
pub fn guard_close(state: State<'_, AppState>, on_close: Channel<Vec<String>>) {
    state.close_guard.ask_through(on_close);
}

/// The page shows the question about closing on `targets` (those it was asked about
/// last; anything else is refused): it answers, so a close asked again waits for it (a
/// page that never says so is asked past, in the desktop's dialog).
#[tauri::command]
pub fn close_asked(
    state: State<'_, AppState>,
    targets: Vec<String>,
) -> Result<(), shipshape_core::ErrorReport> {
    match state.close_guard.seen(&targets) {
        true => Ok(()),
        false => Err(not_asked()),
    }
}

/// Closes the window after all, cutting short the runs on `targets`: those it was
/// asked about last (anything else is refused, and nothing closes).
#[tauri::command]
pub fn close_anyway(
    window: WebviewWindow,
    state: State<'_, AppState>,
    targets: Vec<String>,
) -> Result<(), shipshape_core::ErrorReport> {
    if !state.close_guard.let_go(&targets) {
        return Err(not_asked());
    }
    window.close().map_err(|e| {
        shipshape_core::ErrorReport::from(shipshape_core::Error::Protocol(e.to_string()))
    })
}

fn not_asked() -> shipshape_core::ErrorReport {
    shipshape_core::Error::BadInput(
        "Those are not the targets the window was asked to close on: close it again.".into(),
    )
    .into()
}
