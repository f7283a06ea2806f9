use std::path::PathBuf;

use shipshape_core::console::{HostTrust, PinnedKey};
use shipshape_core::ssh::HostKeyOffer;
use shipshape_core::ErrorReport;
use tauri::State;

use crate::AppState;

/// What a host of the target's way offers now (no authentication), beside its pin:
/// `hop`, or the first that needs the operator.
#[tauri::command]
pub async fn probe_host_key(
    state: State<'_, AppState>,
    target: String,
    hop: Option<usize>,
) -> Result<HostTrust, ErrorReport> {
    Ok(state.console.probe_host_key(&target, hop).await?)
}

/// Pins `fingerprint` for host `hop` of the way only if it offers exactly that key now.
#[tauri::command]
pub async fn trust_host(
    state: State<'_, AppState>,
    target: String,
    hop: Option<usize>,
    fingerprint: String,
) -> Result<HostKeyOffer, ErrorReport> {
    Ok(state.console.trust_host(&target, hop, &fingerprint).await?)
}

/// Pins each host of the way not pinned yet that the operator's `~/.ssh/known_hosts`
/// already vouches for.
#[tauri::command]
pub async fn trust_from_known_hosts(
    state: State<'_, AppState>,
    target: String,
) -> Result<Vec<PinnedKey>, ErrorReport> {
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default();
    Ok(state
        .console
        .trust_from_known_hosts(&target, &home.join(".ssh/known_hosts"), false)
        .await?)
}
