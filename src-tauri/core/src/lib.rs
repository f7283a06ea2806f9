//! Shipshape's core: everything the console and the CLI do, with no Tauri in it, so it
//! is tested without a window and serves both adapters alike.
//!
//! Layers, leaves first: `error`, `secret`, `shell` (quoting) → `policy`, `paths`,
//! `settings`, `target`, `trust`, `keys`, `compose` → `ssh` → `operations` → `lab`,
//! `console` (the front door).

pub mod checklist;
pub mod checks;
pub mod compose;
pub mod console;
pub mod deploy;
pub mod diagnostics;
pub mod dotenv;
pub mod env_file;
pub mod error;
pub mod history;
pub mod input;
pub mod journal;
pub mod keys;
pub mod known_hosts_import;
pub mod lab;
pub mod operations;
pub mod paths;
pub mod policy;
pub mod report;
pub mod secret;
pub mod settings;
pub mod shell;
pub mod ssh;
pub mod ssh_config;
pub mod target;
pub mod terminal;
pub mod trust;

pub use console::{Console, TargetSummary};
pub use error::{Error, ErrorCode, ErrorReport, Result};
