//! Reading what the operations print. Each reader sits beside the command whose format
//! it depends on, so a change to one is a change to both; and each keeps only values
//! that pass the same checks as operator input, since the host's output is input too.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::validate::is_script_path;
use crate::policy::rules::is_service_name;
use crate::policy::Policy;

/// The services `config --services` printed, in its order, valid names only.
pub fn parse_service_list(stdout: &str) -> Vec<String> {
    let mut services: Vec<String> = Vec::new();
    for name in stdout.lines().map(str::trim) {
        if is_service_name(name) && !services.iter().any(|s| s == name) {
            services.push(name.to_string());
        }
    }
    services
}

/// The migration scripts among the files `ls -1A DIR` printed, as paths relative to the
/// project directory (`scripts/apply_migration_x.py`), sorted.
pub fn parse_migration_list(stdout: &str, policy: &Policy) -> Vec<String> {
    let mut scripts: Vec<String> = stdout
        .lines()
        .filter(|name| !name.contains('/'))
        .map(|name| policy.migration_path(name))
        .filter(|path| is_script_path(path) && policy.matches_migration(path))
        .collect();
    scripts.sort();
    scripts.dedup();
    scripts
}

/// What the health probe answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct HealthResponse {
    /// The HTTP status, or `None` when no HTTP answer came (refused, timed out).
    pub status: Option<u16>,
    pub body: String,
}

impl HealthResponse {
    pub fn is_healthy(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }
}

/// Splits the probe's output into body and status (curl's `-w '\n%{http_code}\n'`).
pub fn parse_health(stdout: &str) -> HealthResponse {
    let trimmed = stdout.strip_suffix('\n').unwrap_or(stdout);
    let (body, code) = trimmed.rsplit_once('\n').unwrap_or(("", trimmed));
    match code.trim().parse::<u16>() {
        Ok(status) => HealthResponse {
            status: (status != 0).then_some(status),
            body: body.to_string(),
        },
        Err(_) => HealthResponse {
            status: None,
            body: stdout.to_string(),
        },
    }
}

/// A commit `git pull` would bring.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema, TS)]
pub struct IncomingCommit {
    pub hash: String,
    pub author: String,
    /// Author date, strict ISO 8601.
    pub date: String,
    pub subject: String,
}

/// Reads [`super::Operation::GitIncoming`]'s output, newest commit first.
pub fn parse_incoming_commits(stdout: &str) -> Vec<IncomingCommit> {
    stdout
        .lines()
        .filter_map(|line| {
            let mut fields = line.splitn(4, '\u{1f}');
            Some(IncomingCommit {
                hash: fields.next()?.to_string(),
                author: fields.next()?.to_string(),
                date: fields.next()?.to_string(),
                subject: fields.next()?.to_string(),
            })
        })
        .collect()
}

/// A file the incoming commits change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema, TS)]
pub struct ChangedFile {
    /// git's letter: `A` added, `M` modified, `D` deleted, `R` renamed, `C` copied, ...
    pub status: String,
    pub path: String,
    /// The old path of a renamed or copied file.
    pub from: Option<String>,
}

/// Reads [`super::Operation::GitIncomingFiles`]'s `--name-status` output.
pub fn parse_changed_files(stdout: &str) -> Vec<ChangedFile> {
    stdout
        .lines()
        .filter_map(|line| {
            let mut fields = line.split('\t');
            let status = fields.next()?;
            let first = fields.next()?.to_string();
            let letter = status.get(..1)?.to_string();
            Some(match fields.next() {
                Some(second) => ChangedFile {
                    status: letter,
                    path: second.to_string(),
                    from: Some(first),
                },
                None => ChangedFile {
                    status: letter,
                    path: first,
                    from: None,
                },
            })
        })
        .collect()
}

/// Reads [`super::Operation::GitHead`]'s abbreviated hash, or `None` when the output is
/// not one (git abbreviates to at least 4 hex digits, at most the full 40 or 64).
pub fn parse_short_hash(stdout: &str) -> Option<String> {
    let hash = stdout.trim();
    ((4..=64).contains(&hash.len()) && hash.chars().all(|c| c.is_ascii_hexdigit()))
        .then(|| hash.to_string())
}
