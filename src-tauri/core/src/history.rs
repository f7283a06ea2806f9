//! The local record of everything Shipshape ran: who, where, the exact command, when,
//! how it ended and a hash of its output. An append-only JSON-lines file: each record is
//! one `write` of one line, so a crash can lose at most the record being written and
//! never corrupts earlier ones. Later work adds evidence and reports on top of it.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use ts_rs::TS;

use crate::error::{Error, Result};
use crate::ssh::{CommandEnd, CommandOutput};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct HistoryRecord {
    pub id: String,
    pub target: String,
    /// The local account that ran it.
    pub operator: String,
    /// Plain words, e.g. "Restart backend-aws".
    pub title: String,
    /// Exactly the text sent to the host.
    pub command: String,
    pub started_at: String,
    pub finished_at: String,
    #[ts(type = "number")]
    pub duration_ms: u64,
    pub exit_code: Option<i64>,
    /// How it ended: ran to its end (see `exit_code`), cancelled, timed out, or
    /// interrupted by a lost connection (it may or may not have finished on the host).
    #[serde(default)]
    pub outcome: RunOutcome,
    /// SHA-256 of stdout followed by stderr, hex.
    pub output_sha256: String,
    #[ts(type = "number")]
    pub output_bytes: u64,
}

/// How a run ended, as the history, the console and the CLI report it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum RunOutcome {
    /// It ran to its end on the host; its exit code says how that went.
    #[default]
    Exited,
    Cancelled,
    TimedOut,
    Interrupted,
}

impl From<CommandEnd> for RunOutcome {
    fn from(end: CommandEnd) -> Self {
        match end {
            CommandEnd::Exited(_) => RunOutcome::Exited,
            CommandEnd::Cancelled => RunOutcome::Cancelled,
            CommandEnd::TimedOut => RunOutcome::TimedOut,
            CommandEnd::ConnectionLost => RunOutcome::Interrupted,
        }
    }
}

/// The name of the local account, for the `operator` field: from the environment, or
/// (on Linux, where services and CI often run without `USER`) from the process's uid.
pub fn operator() -> String {
    ["USER", "LOGNAME", "USERNAME"]
        .iter()
        .find_map(|var| std::env::var(var).ok().filter(|v| !v.is_empty()))
        .or_else(account_of_this_process)
        .unwrap_or_else(|| "unknown".into())
}

fn account_of_this_process() -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let uid = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))?
        .split_whitespace()
        .next()?
        .to_string();
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let fields: Vec<&str> = line.split(':').collect();
        (fields.len() > 2 && fields[2] == uid).then(|| fields[0].to_string())
    })
}

impl HistoryRecord {
    pub fn of(
        target: &str,
        title: &str,
        output: &CommandOutput,
        outcome: RunOutcome,
    ) -> HistoryRecord {
        let mut hash = Sha256::new();
        hash.update(output.stdout.as_bytes());
        hash.update(output.stderr.as_bytes());
        let started = humantime::parse_rfc3339(&output.started_at).ok();
        let finished = started
            .map(|s| s + std::time::Duration::from_millis(output.duration_ms))
            .unwrap_or_else(std::time::SystemTime::now);
        let nanos = finished
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        HistoryRecord {
            id: format!("op-{nanos:x}"),
            target: target.to_string(),
            operator: operator(),
            title: title.to_string(),
            command: output.command.clone(),
            started_at: output.started_at.clone(),
            finished_at: humantime::format_rfc3339_millis(finished).to_string(),
            duration_ms: output.duration_ms,
            exit_code: output.exit_code,
            outcome,
            output_sha256: data_encoding::HEXLOWER.encode(&hash.finalize()),
            output_bytes: (output.stdout.len() + output.stderr.len()) as u64,
        }
    }
}

pub struct History {
    path: PathBuf,
}

impl History {
    pub fn at(path: impl Into<PathBuf>) -> History {
        History { path: path.into() }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn append(&self, record: &HistoryRecord) -> Result<()> {
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| Error::storage(dir, e))?;
        }
        let mut line = serde_json::to_string(record).expect("records serialize");
        line.push('\n');
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .map_err(|e| Error::storage(&self.path, e))?;
        file.write_all(line.as_bytes())
            .map_err(|e| Error::storage(&self.path, e))
    }

    /// Every readable record, oldest first. A torn last line (a crash mid-write) is skipped.
    pub fn records(&self) -> Result<Vec<HistoryRecord>> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(Error::storage(&self.path, e)),
        };
        Ok(text
            .lines()
            .filter_map(|line| serde_json::from_str(line).ok())
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn output(stdout: &str) -> CommandOutput {
        CommandOutput {
            command: "cd /srv && docker compose --profile aws restart backend-aws".into(),
            stdout: stdout.into(),
            stderr: String::new(),
            exit_code: Some(0),
            started_at: "2026-11-26T05:00:00.000Z".into(),
            duration_ms: 1500,
        }
    }

    #[test]
    fn records_round_trip_with_the_output_hash_and_survive_a_torn_line() {
        let dir = tempfile::tempdir().unwrap();
        let history = History::at(dir.path().join("history.jsonl"));
        let record = HistoryRecord::of(
            "prod",
            "Restart backend-aws",
            &output("abc"),
            RunOutcome::Exited,
        );
        // sha256("abc")
        assert_eq!(
            record.output_sha256,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(record.finished_at, "2026-11-26T05:00:01.500Z");
        history.append(&record).unwrap();
        std::fs::OpenOptions::new()
            .append(true)
            .open(history.path())
            .unwrap()
            .write_all(b"{\"id\":\"torn")
            .unwrap();
        assert_eq!(history.records().unwrap(), vec![record]);
    }
}
