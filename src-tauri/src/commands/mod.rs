//! One module per domain. Every command returns `Result<T, ErrorReport>`: the UI reads
//! `code` to decide what to show. Arguments are typed values, never command text.
//!
//! A `#[tauri::command]` function here is all there is to declare: `build.rs` registers
//! it and its permission, and `tests/command_list.rs` derives the UI's client
//! (`ui/src/lib/commands.ts`) and the capability from it, so nothing else names it.

pub mod checks;
pub mod deploy;
pub mod env_file;
pub mod git_review;
pub mod keys;
pub mod live;
pub mod logs;
pub mod operations;
pub mod status;
pub mod targets;
pub mod trust;
pub mod window;
