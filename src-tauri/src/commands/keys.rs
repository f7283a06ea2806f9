use std::path::PathBuf;

use shipshape_core::console::KeyFile;
use shipshape_core::keys::KeyInfo;
use shipshape_core::secret::Secret;
use shipshape_core::ErrorReport;
use tauri::State;

use crate::AppState;

#[tauri::command]
pub fn list_keys(state: State<'_, AppState>) -> Result<Vec<KeyInfo>, ErrorReport> {
    Ok(state.console.keys()?)
}

#[tauri::command]
pub fn key_files(state: State<'_, AppState>) -> Vec<KeyFile> {
    state.console.key_files()
}

/// Imports the key file at `path`; the core reads it, so the private key never crosses IPC.
/// The passphrase, typed by the operator, is wrapped at once in a zeroizing `Secret`.
#[tauri::command]
pub async fn import_key(
    state: State<'_, AppState>,
    name: String,
    path: String,
    passphrase: Option<String>,
) -> Result<KeyInfo, ErrorReport> {
    let passphrase = passphrase.filter(|p| !p.is_empty()).map(Secret::new);
    Ok(state
        .console
        .import_key_file(&name, &PathBuf::from(path), passphrase)
        .await?)
}

#[tauri::command]
pub async fn generate_key(
    state: State<'_, AppState>,
    name: String,
    comment: String,
) -> Result<KeyInfo, ErrorReport> {
    Ok(state.console.generate_key(&name, &comment).await?)
}

#[tauri::command]
pub async fn remove_key(state: State<'_, AppState>, name: String) -> Result<(), ErrorReport> {
    Ok(state.console.remove_key(&name).await?)
}
