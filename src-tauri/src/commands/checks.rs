//! The checklist: run a verification (items streamed as they are decided), tick,
//! untick, waive, re-run an item, export and list reports, check the journal.

use std::path::PathBuf;
use std::time::Instant;

use shipshape_core::checklist::{CheckId, CheckItem, Checklist, ItemChange};
use shipshape_core::console::ReportExport;
use shipshape_core::journal::ChainReport;
use shipshape_core::report::ReportFormat;
use shipshape_core::ErrorReport;
use tauri::ipc::Channel;
use tauri::{AppHandle, State};

use crate::{announce, AppState};

/// Runs every check on `target`; each item goes to `on_item` as soon as it is decided.
/// `request` is the UI's name for this run: a repeat of it never runs again, and
/// `cancel_operation` stops it.
#[tauri::command]
pub async fn verify(
    app: AppHandle,
    state: State<'_, AppState>,
    request: String,
    target: String,
    on_item: Channel<CheckItem>,
) -> Result<Checklist, ErrorReport> {
    let started = Instant::now();
    let ran = state
        .console
        .run_requested_verification(&request, &target, |item| {
            let _ = on_item.send(item.clone());
        })
        .await;
    let ended = match &ran {
        Ok(checklist) => Some(announce::Ended::of_verification(
            checklist,
            &target,
            started.elapsed(),
        )),
        Err(error) => announce::Ended::of_error("Verification", error, &target, started),
    };
    if let Some(ended) = ended {
        announce::if_unseen(&app, ended);
    }
    Ok(ran?)
}

/// The newest verification of `target` with every tick and waiver, if there is one.
#[tauri::command]
pub fn latest_checklist(
    state: State<'_, AppState>,
    target: String,
) -> Result<Option<Checklist>, ErrorReport> {
    Ok(state.console.latest_checklist(&target)?)
}

/// Ticks, unticks or waives (with a written reason) one item; recorded with who and when.
#[tauri::command]
pub fn change_check(
    state: State<'_, AppState>,
    checklist: String,
    item: CheckId,
    change: ItemChange,
) -> Result<Checklist, ErrorReport> {
    Ok(state.console.change_check(&checklist, item, change)?)
}

/// Runs one item's probes again.
#[tauri::command]
pub async fn rerun_check(
    state: State<'_, AppState>,
    checklist: String,
    item: CheckId,
) -> Result<Checklist, ErrorReport> {
    Ok(state.console.rerun_check(&checklist, item).await?)
}

/// Where a report of `record_id` in `format` goes unless the operator picks another file.
#[tauri::command]
pub fn suggest_report_path(
    state: State<'_, AppState>,
    record_id: String,
    format: ReportFormat,
) -> Result<String, ErrorReport> {
    Ok(state.console.suggest_report_path(&record_id, format)?)
}

/// Writes the report (format from the file's extension), signed with the key
/// `sign_with` if given, and records the export.
#[tauri::command]
pub async fn export_report(
    state: State<'_, AppState>,
    record_id: String,
    path: String,
    sign_with: Option<String>,
) -> Result<ReportExport, ErrorReport> {
    Ok(shipshape_report::export(
        &state.console,
        &record_id,
        &PathBuf::from(path),
        sign_with.as_deref(),
    )
    .await?)
}

/// Every report exported, with its signature and co-signers.
#[tauri::command]
pub fn report_exports(state: State<'_, AppState>) -> Result<Vec<ReportExport>, ErrorReport> {
    Ok(state.console.report_exports()?)
}

/// Walks the journal's hash chain.
#[tauri::command]
pub fn verify_journal(state: State<'_, AppState>) -> Result<ChainReport, ErrorReport> {
    Ok(state.console.verify_journal()?)
}

/// Asks the operator where to save a report, in the system's save dialog opened from
/// here (the window itself is granted no dialog or file-system API). `None` if cancelled.
#[tauri::command]
pub async fn choose_report_path(
    app: tauri::AppHandle,
    suggested: String,
) -> Result<Option<String>, ErrorReport> {
    use tauri_plugin_dialog::DialogExt;
    let suggested = PathBuf::from(suggested);
    let mut dialog = app.dialog().file().set_title("Save the report");
    if let Some(dir) = suggested.parent() {
        dialog = dialog.set_directory(dir);
    }
    if let Some(name) = suggested.file_name() {
        dialog = dialog.set_file_name(name.to_string_lossy());
    }
    let picked = tauri::async_runtime::spawn_blocking(move || dialog.blocking_save_file())
        .await
        .ok()
        .flatten();
    Ok(picked
        .and_then(|p| p.into_path().ok())
        .map(|p| p.display().to_string()))
}
