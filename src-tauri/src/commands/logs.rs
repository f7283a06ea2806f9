//! The log viewer: one follow per open viewer, its lines pushed through a `Channel`
//! until the UI stops it, and saving what the viewer holds. Starting waits until the
//! command runs on the host, so a refused service or an untrusted host is the call's
//! error, not a message on the channel.

use std::path::PathBuf;

use shipshape_core::console::{LogEvent, LogFollowStarted};
use shipshape_core::{Error, ErrorReport};
use tauri::ipc::Channel;
use tauri::{AppHandle, Manager, State};

use crate::AppState;

/// Starts `docker compose --profile aws logs -n LINES [-t] -f SERVICE` on `target`.
/// Lines arrive on `on_event` in batches, then one `ended`.
#[tauri::command]
pub async fn follow_logs(
    state: State<'_, AppState>,
    target: String,
    service: String,
    lines: u32,
    timestamps: bool,
    on_event: Channel<LogEvent>,
) -> Result<LogFollowStarted, ErrorReport> {
    Ok(state
        .console
        .start_log_follow(&target, &service, lines, timestamps, move |event| {
            on_event.send(event).is_ok()
        })
        .await?)
}

/// The exact command `follow_logs` would run with these arguments, without running it.
#[tauri::command]
pub fn preview_log_follow(
    state: State<'_, AppState>,
    target: String,
    service: String,
    lines: u32,
    timestamps: bool,
) -> Result<String, ErrorReport> {
    Ok(state
        .console
        .log_follow_command(&target, &service, lines, timestamps)?)
}

/// The viewer took a batch of follow `id` and may have the next one.
#[tauri::command]
pub fn ack_log_batch(state: State<'_, AppState>, id: u32) {
    state.console.ack_log_batch(id);
}

/// Stops a follow; its channel then receives `ended`. Stopping one that already ended
/// does nothing.
#[tauri::command]
pub fn stop_logs(state: State<'_, AppState>, id: u32) {
    state.console.tasks.cancel(id);
}

/// Saves `lines` as plain text to a new file in the user's Downloads directory and
/// returns its path. The UI names no path: the file name is made from the target, the
/// service and the time.
#[tauri::command]
pub async fn save_log(
    app: AppHandle,
    state: State<'_, AppState>,
    target: String,
    service: String,
    lines: Vec<String>,
) -> Result<String, ErrorReport> {
    let dir = downloads_dir(&app)?;
    let path = state.console.save_log(&dir, &target, &service, &lines)?;
    Ok(path.display().to_string())
}

/// The Downloads directory the desktop names (XDG user dirs on Linux), else `~/Downloads`.
fn downloads_dir(app: &AppHandle) -> Result<PathBuf, Error> {
    app.path()
        .download_dir()
        .or_else(|_| app.path().home_dir().map(|home| home.join("Downloads")))
        .map_err(|e| Error::Storage {
            path: "the Downloads directory".into(),
            cause: e.to_string(),
        })
}
