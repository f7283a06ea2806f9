use shipshape_core::secret::Secret;
use shipshape_core::ssh_config::ResolvedHost;
use shipshape_core::target::{JumpHost, Target};
use shipshape_core::{ErrorReport, TargetSummary};
use tauri::ipc::Channel;
use tauri::State;

use crate::AppState;

#[tauri::command]
pub fn list_targets(state: State<'_, AppState>) -> Result<Vec<TargetSummary>, ErrorReport> {
    Ok(state.console.targets()?)
}

/// Problems found at start-up, plus the settings file's if it is damaged now.
#[tauri::command]
pub fn startup_problems(state: State<'_, AppState>) -> Vec<ErrorReport> {
    let mut problems = state.startup_problems.clone();
    if let Err(error) = state.console.check_settings() {
        let now = ErrorReport::from(error);
        if !problems.iter().any(|p| p.code == now.code) {
            problems.push(now);
        }
    }
    problems
}

/// Where the diagnostic log is written, to attach to a bug report.
#[tauri::command]
pub fn diagnostic_log_dir(state: State<'_, AppState>) -> String {
    state.log_dir.clone()
}

/// The window has drawn the dashboard with a target's services: the start-up figure
/// goes in the diagnostic log (once per run).
#[tauri::command]
pub fn dashboard_shown() {
    shipshape_core::diagnostics::note_dashboard_shown()
}

/// A new target with the policy's defaults (user, port, project directory), the
/// directory from `policy_file` if one is given.
#[tauri::command]
pub fn target_draft(
    state: State<'_, AppState>,
    policy_file: Option<String>,
) -> Result<Target, ErrorReport> {
    Ok(state.console.target_draft(policy_file.as_deref())?)
}

/// Jump hosts as `ssh -J` takes them (`[user@]host[:port]`, comma-separated); a hop
/// without a user logs in as `user`.
#[tauri::command]
pub fn parse_jump_hosts(spec: String, user: String) -> Result<Vec<JumpHost>, ErrorReport> {
    Ok(shipshape_core::target::parse_jumps(&spec, &user)?)
}

/// Adds a target (`previous_name` empty) or updates/renames the one named `previous_name`.
#[tauri::command]
pub async fn save_target(
    state: State<'_, AppState>,
    target: Target,
    previous_name: Option<String>,
) -> Result<TargetSummary, ErrorReport> {
    Ok(state
        .console
        .save_target(target, previous_name.as_deref())
        .await?)
}

#[tauri::command]
pub async fn remove_target(state: State<'_, AppState>, name: String) -> Result<(), ErrorReport> {
    Ok(state.console.remove_target(&name).await?)
}

/// The hosts of the operator's `~/.ssh/config`, resolved as `ssh -G` resolves them.
#[tauri::command]
pub fn ssh_config_hosts(state: State<'_, AppState>) -> Result<Vec<ResolvedHost>, ErrorReport> {
    Ok(state.console.ssh_config_hosts(None)?)
}

/// Adds the target for a `~/.ssh/config` alias, importing its IdentityFile into the keyring.
#[tauri::command]
pub async fn import_ssh_config_host(
    state: State<'_, AppState>,
    alias: String,
    passphrase: Option<String>,
) -> Result<TargetSummary, ErrorReport> {
    let passphrase = passphrase.filter(|p| !p.is_empty()).map(Secret::new);
    Ok(state
        .console
        .import_ssh_config_host(None, &alias, passphrase)
        .await?)
}

/// Tells the UI (on `on_change`) whenever the settings file changes on disk, say when
/// the CLI adds a target, so the console shows it without a restart.
#[tauri::command]
pub async fn watch_settings(
    state: State<'_, AppState>,
    on_change: Channel<()>,
) -> Result<u32, shipshape_core::ErrorReport> {
    Ok(state
        .console
        .start_settings_watch(move || on_change.send(()).is_ok()))
}
