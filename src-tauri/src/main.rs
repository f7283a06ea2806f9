//! Shipshape's desktop console: a thin Tauri shell. Commands parse their arguments, call
//! `shipshape-core`, and return typed results or an `ErrorReport` with a code.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod commands;
mod settings_store;

use std::sync::Arc;

use shipshape_core::{paths, Console, ErrorReport};
use tauri::Manager;

/// What the app holds for its commands.
pub struct AppState {
    pub console: Console,
    /// Problems found at start-up (keyring unreachable, lab not set up), shown as banners.
    pub startup_problems: Vec<ErrorReport>,
}

fn main() {
    tauri::Builder::default()
        .plugin(tauri_plugin_store::Builder::new().build())
        // Used from Rust only (no UI permission): "a long operation ended" while the
        // window is in the background.
        .plugin(tauri_plugin_notification::init())
        .setup(|app| {
            let settings =
                settings_store::PluginSettings::open(app.handle(), paths::settings_file())?;
            let console = Console::new(Arc::new(settings));
            let mut startup_problems = Vec::new();
            if let Err(error) = tauri::async_runtime::block_on(console.ensure_lab_from_env()) {
                startup_problems.push(ErrorReport::from(error));
            }
            app.manage(commands::live::LiveWatches::default());
            app.manage(commands::operations::RunningOperations::default());
            app.manage(commands::logs::LogFollows::default());
            app.manage(AppState {
                console,
                startup_problems,
            });
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            commands::targets::list_targets,
            commands::targets::startup_problems,
            commands::targets::save_target,
            commands::targets::remove_target,
            commands::targets::ssh_config_hosts,
            commands::targets::import_ssh_config_host,
            commands::trust::probe_host_key,
            commands::trust::trust_host,
            commands::trust::trust_from_known_hosts,
            commands::keys::list_keys,
            commands::keys::key_files,
            commands::keys::import_key,
            commands::keys::generate_key,
            commands::keys::remove_key,
            commands::status::service_status,
            commands::status::disconnect,
            commands::operations::plan_operation,
            commands::operations::run_operation,
            commands::operations::list_migrations,
            commands::operations::history,
            commands::live::watch_status,
            commands::live::stop_watch,
            commands::operations::cancel_operation,
            commands::logs::follow_logs,
            commands::logs::stop_logs,
            commands::logs::save_log,
            commands::git_review::review_incoming,
        ])
        .run(tauri::generate_context!())
        .expect("Shipshape could not start its window");
}
