//! The env file editor: keys by name, one key set or removed at a time. The value the
//! operator types crosses once, into the core, which sends it to the host on a
//! command's input; nothing returns a value.

use shipshape_core::console::{EnvChange, EnvKeys, EnvSaved};
use shipshape_core::secret::Secret;
use shipshape_core::ErrorReport;
use tauri::State;

use crate::AppState;

/// The env file's keys on `target` (never their values).
#[tauri::command]
pub async fn env_keys(state: State<'_, AppState>, target: String) -> Result<EnvKeys, ErrorReport> {
    Ok(state.console.env_keys(&target).await?)
}

/// Sets `key` to `value` in `target`'s env file (atomic on the host, old file backed up).
#[tauri::command]
pub async fn set_env_key(
    state: State<'_, AppState>,
    target: String,
    key: String,
    value: String,
) -> Result<EnvSaved, ErrorReport> {
    let value = Secret::new(value);
    Ok(state
        .console
        .change_env(&target, EnvChange::Set { key, value })
        .await?)
}

/// Removes `key` from `target`'s env file.
#[tauri::command]
pub async fn unset_env_key(
    state: State<'_, AppState>,
    target: String,
    key: String,
) -> Result<EnvSaved, ErrorReport> {
    Ok(state
        .console
        .change_env(&target, EnvChange::Unset { key })
        .await?)
}
