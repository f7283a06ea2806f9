//! The dashboard's live status: a watch per open dashboard, pushing snapshots through a
//! `Channel` until the UI stops it (or the connection ends, which it also reports).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;

use shipshape_core::console::LiveStatus;
use shipshape_core::ssh::CancellationToken;
use shipshape_core::ErrorReport;
use tauri::ipc::Channel;
use tauri::{AppHandle, Manager, State};

use crate::AppState;

/// Running watches by id, so the UI can stop the one it started.
#[derive(Default)]
pub struct LiveWatches {
    next_id: AtomicU32,
    running: Mutex<HashMap<u32, CancellationToken>>,
}

#[tauri::command]
pub fn watch_status(
    app: AppHandle,
    watches: State<'_, LiveWatches>,
    target: String,
    on_status: Channel<LiveStatus>,
) -> u32 {
    let id = watches.next_id.fetch_add(1, Ordering::Relaxed);
    let cancel = CancellationToken::new();
    watches.running.lock().unwrap().insert(id, cancel.clone());
    tauri::async_runtime::spawn(async move {
        let state = app.state::<AppState>();
        let sent = on_status.clone();
        let result = state
            .console
            .watch_status(
                &target,
                move |report| {
                    let _ = sent.send(LiveStatus::Snapshot { report });
                },
                &cancel,
            )
            .await;
        let _ = on_status.send(LiveStatus::Ended {
            error: result.err().map(ErrorReport::from),
        });
        app.state::<LiveWatches>()
            .running
            .lock()
            .unwrap()
            .remove(&id);
    });
    id
}

#[tauri::command]
pub fn stop_watch(watches: State<'_, LiveWatches>, id: u32) {
    if let Some(cancel) = watches.running.lock().unwrap().remove(&id) {
        cancel.cancel();
    }
}
