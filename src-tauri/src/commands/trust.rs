use std::path::PathBuf;

use shipshape_core::console::HostTrust;
use shipshape_core::ssh::HostKeyOffer;
use shipshape_core::ErrorReport;
use tauri::State;

use crate::AppState;

/// What the target's host offers now (no authentication), beside its pin.
#[tauri::command]
pub async fn probe_host_key(
    state: State<'_, AppState>,
    target: String,
) -> Result<HostTrust, ErrorReport> {
    Ok(state.console.probe_host_key(&target).await?)
}

/// Pins `fingerprint` only if the host offers exactly that key now.
#[tauri::command]
pub async fn trust_host(
    state: State<'_, AppState>,
    target: String,
    fingerprint: String,
) -> Result<HostKeyOffer, ErrorReport> {
    Ok(state.console.trust_host(&target, &fingerprint).await?)
}

/// Pins the host key if the operator's `~/.ssh/known_hosts` already vouches for it.
#[tauri::command]
pub async fn trust_from_known_hosts(
    state: State<'_, AppState>,
    target: String,
) -> Result<HostKeyOffer, ErrorReport> {
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default();
    Ok(state
        .console
        .trust_from_known_hosts(&target, &home.join(".ssh/known_hosts"))
        .await?)
}
