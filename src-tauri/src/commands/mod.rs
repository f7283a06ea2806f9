//! One module per domain. Every command returns `Result<T, ErrorReport>`: the UI reads
//! `code` to decide what to show. Arguments are typed values, never command text.

pub mod git_review;
pub mod keys;
pub mod live;
pub mod logs;
pub mod operations;
pub mod status;
pub mod targets;
pub mod trust;
