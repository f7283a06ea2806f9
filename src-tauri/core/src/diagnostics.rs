//! The diagnostic log: what Shipshape did and why it failed, for an operator to attach
//! to a bug report. Files under the data dir (`logs/console.YYYY-MM-DD.log`, one a day,
//! a week kept), written by both the console and the CLI. Only what is safe to share:
//! targets, commands (which never carry a secret: secrets travel only in the keyring),
//! durations, outcomes and error codes; never key material, passphrases or output.

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use tracing_subscriber::EnvFilter;

use crate::paths;

/// How many daily files are kept.
const KEPT_FILES: usize = 7;

/// Starts logging to `logs/COMPONENT.DATE.log` (`SHIPSHAPE_LOG` sets the filter, e.g.
/// `debug`; default `info`). Returns the directory, to show the operator. Logging is
/// best effort: a data dir that cannot be written must not stop the console.
pub fn init(component: &str) -> PathBuf {
    STARTED.get_or_init(Instant::now);
    let dir = paths::log_dir();
    if paths::create_private_dir(&dir).is_err() {
        return dir;
    }
    let appender = tracing_appender::rolling::Builder::new()
        .rotation(tracing_appender::rolling::Rotation::DAILY)
        .filename_prefix(component)
        .filename_suffix("log")
        .max_log_files(KEPT_FILES)
        .build(&dir);
    if let Ok(appender) = appender {
        let filter = EnvFilter::try_from_env("SHIPSHAPE_LOG")
            .unwrap_or_else(|_| EnvFilter::new("info,russh=warn"));
        let _ = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::sync::Mutex::new(appender))
            .with_ansi(false)
            .try_init();
    }
    dir
}

/// When `init` ran: the process's start, near enough (it is the first thing `main` does).
static STARTED: OnceLock<Instant> = OnceLock::new();

/// How long since the process started (since `init`), for start-up figures in the log:
/// "slow to open" is then a number an operator can attach.
pub fn since_start() -> Duration {
    STARTED.get_or_init(Instant::now).elapsed()
}

/// Logs, once per process, how long the start took until the window showed a target's
/// services: the figure the start-up benchmark reads, and the one to quote when the
/// console feels slow to open.
pub fn note_dashboard_shown() {
    static SHOWN: OnceLock<()> = OnceLock::new();
    SHOWN.get_or_init(|| {
        let ms = since_start().as_millis();
        tracing::info!(
            ms,
            "dashboard shown with the target's services, {ms} ms after start"
        );
    });
}
