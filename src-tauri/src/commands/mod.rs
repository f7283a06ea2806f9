//! One module per domain. Every command returns `Result<T, ErrorReport>`: the UI reads
//! `code` to decide what to show.

pub mod status;
pub mod targets;
