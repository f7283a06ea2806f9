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
        // `generate_handler![..]` over every `#[tauri::command]` in `commands/`, written
        // by build.rs from the functions themselves.
        .invoke_handler(include!(concat!(env!("OUT_DIR"), "/handlers.rs")))
        .run(tauri::generate_context!())
        .expect("Shipshape could not start its window");
}
