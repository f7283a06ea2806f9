//! One line of the history: who ran what where, the exact command, when, how it ended
//! and a hash of its output. The journal ([`crate::journal`]) stores them; this is the
//! shape the console, the CLI and the UI read.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use ts_rs::TS;

use crate::ssh::{CommandEnd, CommandOutput};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct HistoryRecord {
    pub id: String,
    /// An operation, or a verification (whose checklist the journal keeps).
    #[serde(default)]
    pub kind: RecordKind,
    /// The target's name when it ran.
    pub target: String,
    /// The name that target goes by now, when it was renamed since (the history is read
    /// with the journal's renames; `None`: still `target`). Never stored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub target_now: Option<String>,
    /// That target was removed since (a target added under its name is another one).
    /// Never stored.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    #[ts(as = "Option<bool>", optional)]
    pub target_removed: bool,
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
    /// How it ended: ran to its end (see `exit_code`), cancelled, timed out,
    /// interrupted by a lost connection (it may or may not have finished on the host),
    /// or not started (the host was never reached).
    #[serde(default)]
    pub outcome: RunOutcome,
    /// SHA-256 of stdout followed by stderr, hex.
    pub output_sha256: String,
    #[ts(type = "number")]
    pub output_bytes: u64,
    /// A deploy that resumed another: the one whose snapshot it kept (and which can
    /// still be resumed if this one failed before it changed anything).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub resumes: Option<String>,
    /// A deploy that failed or was stopped before its snapshot, the step before the
    /// first that changes what the host runs: the host is as the runs before it left it,
    /// so what can be done about those still can. (One cut off is never marked: it may
    /// have been cut off in its snapshot.) Derived from the journal, never stored.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    #[ts(as = "Option<bool>", optional)]
    pub ended_before_snapshot: bool,
}

impl HistoryRecord {
    /// It ended by itself short of its end: failed (a non-zero exit) or stopped as asked.
    /// Not one cut off (`Interrupted`), whose end nobody saw.
    pub fn failed_or_stopped(&self) -> bool {
        match self.outcome {
            RunOutcome::Exited => self.exit_code.is_some_and(|code| code != 0),
            RunOutcome::Cancelled => true,
            _ => false,
        }
    }

    /// It ended short of its end: cut off, failed or stopped.
    pub fn ended_short(&self) -> bool {
        self.outcome == RunOutcome::Interrupted || self.failed_or_stopped()
    }

    /// The deploy a Resume of this run would go on with: the one it resumed, whose
    /// snapshot it kept, or itself.
    pub fn deploy_to_resume(&self) -> &str {
        self.resumes.as_deref().unwrap_or(&self.id)
    }
}

/// A target's newest deploy or rollback that may have changed its host, and what can be
/// done about it: the Deploy screen and `shipshape deploy` read it to warn and to offer
/// Resume.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct LastRun {
    /// Running, finished, cut off, failed or stopped.
    pub record: HistoryRecord,
    /// The deploy a Resume goes on with (the record's own, or the one it resumed, whose
    /// snapshot it kept), when the run ended short of its end and that deploy can go on.
    pub resumable: Option<String>,
    /// The newest resume of that deploy since `record` (only with `resumable`), if it
    /// ended before its snapshot (refused at its review, the lock held...): a Resume
    /// offered again meets the same unless the host changed, so it is said beside it.
    pub last_attempt: Option<ResumeAttempt>,
}

/// A resume that ended before it changed anything, and the step it ended in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ResumeAttempt {
    /// Its record.
    pub id: String,
    pub started_at: String,
    /// The step that failed or was stopped, and what it said.
    pub step: String,
    pub note: String,
}

/// The newest deploy or rollback of `target` in `history` (oldest first) that may have
/// changed its host. A run that never reached the host, or a deploy that failed or
/// stopped before its snapshot, changed nothing: the one before it tells (a deploy
/// stopped, then a new one refused at the lock: the stopped one can still go on). Found
/// under the names the target had too (one cut short, then the target renamed), never
/// one of a removed target that had its name.
pub fn last_run<'a>(history: &'a [HistoryRecord], target: &str) -> Option<&'a HistoryRecord> {
    history.iter().rev().find(|r| {
        let changed_nothing = r.outcome == RunOutcome::NotStarted || r.ended_before_snapshot;
        r.kind == RecordKind::Deploy && deploy_of(r, target) && !changed_nothing
    })
}

/// The newest resume of deploy `id` recorded after `since` (the target's last run, from
/// [`last_run`]) that ended before its snapshot; none if a later one got further.
pub fn last_resume_attempt<'a>(
    history: &'a [HistoryRecord],
    target: &str,
    since: &HistoryRecord,
    id: &str,
) -> Option<&'a HistoryRecord> {
    history
        .iter()
        .rev()
        .take_while(|r| r.id != since.id)
        .find(|r| {
            r.kind == RecordKind::Deploy
                && deploy_of(r, target)
                && r.ended_before_snapshot
                && r.resumes.as_deref() == Some(id)
        })
}

/// Whether `record` ran on `target`, under the name it has now or had then (never one
/// of a removed target that had its name).
fn deploy_of(record: &HistoryRecord, target: &str) -> bool {
    !record.target_removed && record.target_now.as_deref().unwrap_or(&record.target) == target
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum RecordKind {
    #[default]
    Operation,
    Verification,
    Deploy,
    /// Recorded, with no run of its own: a deploy review and its approval, the host's
    /// lock broken, a target renamed.
    Event,
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
    /// It never finished: its connection broke, or Shipshape itself was stopped midway.
    Interrupted,
    /// It never began: Shipshape could not reach the host (refused, unknown or changed
    /// host key, key rejected...), so nothing ran there. Its title keeps the reason.
    NotStarted,
    /// Still running, in this or another Shipshape process.
    Running,
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

/// Now, as every record writes its times (RFC 3339, milliseconds, UTC).
pub fn now() -> String {
    humantime::format_rfc3339_millis(std::time::SystemTime::now()).to_string()
}

/// The name of the local account, for the `operator` field: from the process's uid,
/// which a user cannot set at will as they can `USER` (the environment is asked only
/// where there is no `/proc`).
pub fn operator() -> String {
    account_of_this_process()
        .or_else(|| {
            ["USER", "LOGNAME", "USERNAME"]
                .iter()
                .find_map(|var| std::env::var(var).ok().filter(|v| !v.is_empty()))
        })
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
        id: &str,
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
        HistoryRecord {
            id: id.to_string(),
            kind: RecordKind::Operation,
            target: target.to_string(),
            target_now: None,
            target_removed: false,
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
            resumes: None,
            ended_before_snapshot: false,
        }
    }
}

/// A new record id: the kind's prefix and the time in nanoseconds, hex.
pub fn new_record_id(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!("{prefix}-{nanos:x}")
}

/// When a record id [`new_record_id`] made was made, as [`now`] writes times.
pub fn time_of_record_id(id: &str) -> Option<String> {
    let (_, hex) = id.rsplit_once('-')?;
    let nanos = u128::from_str_radix(hex, 16).ok()?;
    let since = std::time::Duration::from_nanos(u64::try_from(nanos).ok()?);
    let at = std::time::UNIX_EPOCH.checked_add(since)?;
    Some(humantime::format_rfc3339_millis(at).to_string())
}

/// Refuses what [`new_record_id`] with `prefix` could not have made (`deploy-18ebb…`),
/// before the journal is opened for it.
pub fn check_record_id(prefix: &str, id: &str) -> crate::Result<()> {
    let made_here = id
        .strip_prefix(prefix)
        .and_then(|r| r.strip_prefix('-'))
        .is_some_and(|hex| {
            (1..=32).contains(&hex.len()) && hex.bytes().all(|b| b.is_ascii_hexdigit())
        });
    match made_here {
        true => Ok(()),
        false => Err(crate::Error::BadInput(format!(
            "{} is not a {prefix} record's id (they look like {prefix}-18ebbbb8e257ba6d): `shipshape history` lists them.",
            crate::input::shown(id)
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(id: &str, target: &str, outcome: RunOutcome, exit_code: Option<i64>) -> HistoryRecord {
        HistoryRecord {
            id: id.into(),
            kind: RecordKind::Deploy,
            target: target.into(),
            target_now: None,
            target_removed: false,
            operator: "ops".into(),
            title: format!("Deploy {target}"),
            command: "guided".into(),
            started_at: "t".into(),
            finished_at: "t".into(),
            duration_ms: 0,
            exit_code,
            outcome,
            output_sha256: String::new(),
            output_bytes: 0,
            resumes: None,
            ended_before_snapshot: false,
        }
    }

    #[test]
    fn the_last_run_is_the_newest_that_may_have_changed_the_host() {
        use RunOutcome::*;
        let last = |history: &[HistoryRecord], target: &str| {
            last_run(history, target).map(|r| r.id.clone())
        };
        let mut history = vec![
            run("deploy-1", "a", Exited, Some(0)),
            run("deploy-2", "a", Interrupted, None),
            run("deploy-3", "b", Exited, Some(0)),
            // Never reached the host: it hides nothing of deploy-2.
            run("deploy-4", "a", NotStarted, None),
            run("rollback-5", "c", Interrupted, None),
        ];
        let mut op = run("op-6", "a", Exited, Some(0));
        op.kind = RecordKind::Operation;
        history.push(op);
        assert_eq!(last(&history, "a").as_deref(), Some("deploy-2"));
        assert_eq!(last(&history, "b").as_deref(), Some("deploy-3"));
        assert_eq!(last(&history, "c").as_deref(), Some("rollback-5"));
        assert_eq!(last(&history, "d"), None);

        // A deploy that failed before its snapshot (refused at the lock) changed nothing.
        let mut refused = run("deploy-7", "a", Exited, Some(4));
        refused.ended_before_snapshot = true;
        history.push(refused);
        assert_eq!(last(&history, "a").as_deref(), Some("deploy-2"));

        // Renamed since: found under its new name, not under the old one's new target.
        let mut renamed = run("deploy-8", "old", Interrupted, None);
        renamed.target_now = Some("new".into());
        history.push(renamed);
        assert_eq!(last(&history, "new").as_deref(), Some("deploy-8"));
        assert_eq!(last(&history, "old"), None);

        // Its target removed, its name given to another: not that one's.
        let mut gone = run("deploy-9", "b", Interrupted, None);
        gone.target_removed = true;
        history.push(gone);
        assert_eq!(last(&history, "b").as_deref(), Some("deploy-3"));
    }

    #[test]
    fn a_resume_refused_since_the_last_run_is_found_and_an_older_one_is_not() {
        use RunOutcome::*;
        let resume_of = |id: &str, target: &str, of: &str| {
            let mut r = run(id, target, Exited, Some(1));
            (r.resumes, r.ended_before_snapshot) = (Some(of.into()), true);
            r
        };
        let attempt = |history: &[HistoryRecord]| {
            let since = last_run(history, "a").unwrap();
            last_resume_attempt(history, "a", since, "deploy-1").map(|r| r.id.clone())
        };
        let mut history = vec![
            run("deploy-1", "a", Exited, Some(1)),
            resume_of("deploy-2", "a", "deploy-1"),
            resume_of("deploy-3", "b", "deploy-1"),
            resume_of("deploy-4", "a", "deploy-9"),
        ];
        assert_eq!(attempt(&history).as_deref(), Some("deploy-2"));
        history.push(resume_of("deploy-5", "a", "deploy-1"));
        assert_eq!(attempt(&history).as_deref(), Some("deploy-5"));
        // A resume that got past its snapshot is the last run now: the refusals before it
        // are old news.
        let mut further = run("deploy-6", "a", Exited, Some(1));
        further.resumes = Some("deploy-1".into());
        history.push(further);
        assert_eq!(attempt(&history), None);
    }

    #[test]
    fn a_run_ended_short_resumes_the_deploy_it_resumed() {
        use RunOutcome::*;
        let ended = |outcome, code| run("deploy-1", "a", outcome, code).ended_short();
        assert!(ended(Interrupted, None));
        assert!(ended(Cancelled, None));
        assert!(ended(Exited, Some(1)));
        assert!(!ended(Exited, Some(0)));
        assert!(!ended(Exited, None));
        assert!(!ended(Running, None));
        let mut resume = run("deploy-2", "a", Exited, Some(1));
        assert_eq!(resume.deploy_to_resume(), "deploy-2");
        resume.resumes = Some("deploy-1".into());
        assert_eq!(resume.deploy_to_resume(), "deploy-1");
    }

    #[test]
    fn a_record_ids_time_reads_back_to_the_millisecond() {
        let before = now();
        let id = new_record_id("lock");
        let at = time_of_record_id(&id).unwrap();
        assert!(at >= before && at <= now(), "{before} {at}");
        assert_eq!(time_of_record_id("lock-zz"), None);
        assert_eq!(time_of_record_id("nothing"), None);
    }

    #[test]
    fn a_record_carries_the_output_hash_and_its_end_time() {
        let output = CommandOutput {
            command: "cd /srv && docker compose --profile aws restart backend-aws".into(),
            stdout: "abc".into(),
            stderr: String::new(),
            exit_code: Some(0),
            started_at: "2026-11-26T05:00:00.000Z".into(),
            duration_ms: 1500,
        };
        let record = HistoryRecord::of(
            "op-1",
            "prod",
            "Restart backend-aws",
            &output,
            RunOutcome::Exited,
        );
        // sha256("abc")
        assert_eq!(
            record.output_sha256,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(record.finished_at, "2026-11-26T05:00:01.500Z");
    }
}
