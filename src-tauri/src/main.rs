//! Shipshape's desktop console: a thin Tauri shell. Commands parse their arguments, call
//! `shipshape-core`, and return typed results or an `ErrorReport` with a code.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod announce;
mod close_guard;
mod commands;
mod webview;

use std::sync::Arc;

use shipshape_core::settings::JsonFileSettings;
use shipshape_core::{diagnostics, paths, Console, ErrorReport};
use tauri::{Manager, RunEvent};

use close_guard::Hold;

/// What the app holds for its commands.
pub struct AppState {
    pub console: Arc<Console>,
    /// Problems found at start-up (keyring unreachable, settings damaged, lab not set
    /// up), shown as banners.
    pub startup_problems: Vec<ErrorReport>,
    /// Where the diagnostic log is written, shown so an operator can attach it.
    pub log_dir: String,
    /// Holds a close while a deploy runs, until the page says to close anyway.
    pub close_guard: close_guard::CloseGuard,
}

fn main() {
    let webview = webview::choose();
    let log_dir = diagnostics::init("console");
    tracing::info!(version = env!("CARGO_PKG_VERSION"), "console starting");
    if webview.shared_memory {
        tracing::info!("no GPU render node: WebKit draws with its shared-memory renderer, and this process loads no GL");
    }
    if webview.no_jit {
        tracing::info!("the window's scripts run without a JIT compiler (JSC_useJIT=0)");
    }
    tauri::Builder::default()
        // Window and UI preferences only; targets and keys live in the core's own
        // locked settings file, which the CLI shares.
        .plugin(tauri_plugin_store::Builder::new().build())
        // Used from Rust only (no UI permission): "a long operation ended" while the
        // window is in the background.
        .plugin(tauri_plugin_notification::init())
        .plugin(tauri_plugin_dialog::init())
        .on_page_load(|webview, load| match load.event() {
            // A reload (WebKit's context menu offers one): the old page's watches and
            // follows would go on, unstoppable, each holding a channel and a process on
            // its host, until the console exits. The new page starts its own.
            tauri::webview::PageLoadEvent::Started => {
                if let Some(state) = webview.try_state::<AppState>() {
                    state.console.tasks.cancel_streams();
                    state.close_guard.forget_asker();
                }
            }
            tauri::webview::PageLoadEvent::Finished => {
                let ms = diagnostics::since_start().as_millis();
                tracing::info!(ms, "window page loaded, {ms} ms after start");
            }
        })
        .on_window_event(|window, event| {
            // Closing cuts a running deploy's step short on the host: the page asks first,
            // or the desktop does for a page that does not answer.
            if let tauri::WindowEvent::CloseRequested { api, .. } = event {
                if let Some(state) = window.try_state::<AppState>() {
                    match state.close_guard.holds(state.console.running_deploys()) {
                        Hold::Close => {}
                        Hold::Asked => {
                            tracing::info!("close held: a deploy runs, the window asks first");
                            api.prevent_close();
                        }
                        Hold::PageSilent(targets) => {
                            api.prevent_close();
                            close_guard::ask_natively(window, targets);
                        }
                    }
                }
            }
        })
        .setup(move |app| {
            let settings = JsonFileSettings::open(paths::settings_file())?;
            let console = Arc::new(Console::new(Arc::new(settings)));
            let mut startup_problems = Vec::new();
            if let Err(error) = console.check_settings() {
                startup_problems.push(ErrorReport::from(error));
            } else if let Err(error) = tauri::async_runtime::block_on(async {
                console.ensure_lab_from_env().await?;
                // Read while WebKit starts, on the runtime the commands use.
                console.prefetch_first_status();
                Ok::<_, shipshape_core::Error>(())
            }) {
                startup_problems.push(ErrorReport::from(error));
            }
            for problem in &startup_problems {
                tracing::warn!(code = ?problem.code, "{}", problem.message);
            }
            end_on_sigterm(app.handle().clone());
            app.manage(AppState {
                console,
                startup_problems,
                log_dir: log_dir.display().to_string(),
                close_guard: Default::default(),
            });
            Ok(())
        })
        // `generate_handler![..]` over every `#[tauri::command]` in `commands/`, written
        // by build.rs from the functions themselves.
        .invoke_handler(include!(concat!(env!("OUT_DIR"), "/handlers.rs")))
        .build(tauri::generate_context!())
        .expect("Shipshape could not start its window")
        .run(|app, event| {
            if let RunEvent::Exit = event {
                // Window closed, or SIGTERM: stop every stream and close every
                // connection, so nothing started here keeps running on a host.
                let console = app.state::<AppState>().console.clone();
                tauri::async_runtime::block_on(console.shut_down());
            }
        });
}

/// SIGTERM (a logout, `kill`, a service manager) closes the console as the window's
/// close button does, rather than cutting it off mid-stream.
fn end_on_sigterm(app: tauri::AppHandle) {
    #[cfg(unix)]
    tauri::async_runtime::spawn(async move {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut terminate) = signal(SignalKind::terminate()) {
            terminate.recv().await;
            tracing::info!("SIGTERM: closing");
            app.exit(0);
        }
    });
}
