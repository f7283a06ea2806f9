//! What the journal stores, and how its entries read back as the history: a run's end
//! replaces its start; a start whose process is gone is a run that was interrupted.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::checklist::{CheckStatus, Checklist, ChecklistChange};
use crate::console::ReportExport;
use crate::deploy::{Approval, DeployRecord, DeployReview, LockHolder, StepRecord};
use crate::error::{Error, Result};
use crate::history::{HistoryRecord, RecordKind, RunOutcome};
use crate::report::Signer;

/// Tagged `entry` (not `kind`: a history record has a field of that name).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "entry", rename_all = "snake_case")]
pub enum Entry {
    OperationStarted(RunStart),
    OperationEnded(HistoryRecord),
    VerificationStarted(RunStart),
    VerificationEnded(Checklist),
    ChecklistChanged(ChecklistChange),
    /// A run that ended in an error before it could finish: it may have begun on the host.
    /// `at` (absent in entries of earlier versions) is when it ended, as in the others.
    Aborted {
        reason: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        at: Option<String>,
    },
    /// A run that never reached the host: it could not connect, so nothing ran there.
    NotStarted {
        reason: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        at: Option<String>,
    },
    /// A run the operator stopped before it ended.
    Cancelled {
        reason: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        at: Option<String>,
    },
    /// A report file made from a verification.
    ReportExported(ReportExport),
    /// A reviewer's co-signature of a report file (found by its hash).
    ReportCosigned {
        sha256: String,
        signer: Signer,
    },
    /// A record from the `history.jsonl` of earlier versions.
    Imported(HistoryRecord),
    /// A deploy or a rollback begins (its id is the record id)...
    DeployStarted(RunStart),
    /// ...each of its steps as it ends...
    DeployStep(StepRecord),
    /// ...and the whole of it once it ends.
    DeployEnded(Box<DeployRecord>),
    /// The host's deploy lock broken deliberately, and why (`at` is absent in entries of
    /// earlier versions).
    LockBroken {
        target: String,
        operator: String,
        reason: String,
        holder: Option<LockHolder>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        at: Option<String>,
    },
    /// A target renamed: entries before it name the target `from`, those after `to`.
    TargetRenamed {
        from: String,
        to: String,
        operator: String,
        at: String,
    },
    /// A target removed: its name is free, and a target added under it later starts
    /// with none of this one's past.
    TargetRemoved {
        name: String,
        operator: String,
        at: String,
    },
    /// What a deploy would change, as a reviewer saw it (its id is the record id)...
    ReviewRecorded(Box<DeployReview>),
    /// ...and a reviewer's signed approval of it.
    ReviewApproved(Approval),
}

impl Entry {
    /// The `kind` column: the same word as the body's `entry` tag.
    pub fn kind(&self) -> &'static str {
        match self {
            Entry::OperationStarted(_) => "operation_started",
            Entry::OperationEnded(_) => "operation_ended",
            Entry::VerificationStarted(_) => "verification_started",
            Entry::VerificationEnded(_) => "verification_ended",
            Entry::ChecklistChanged(_) => "checklist_changed",
            Entry::Aborted { .. } => "aborted",
            Entry::NotStarted { .. } => "not_started",
            Entry::Cancelled { .. } => "cancelled",
            Entry::ReportExported(_) => "report_exported",
            Entry::ReportCosigned { .. } => "report_cosigned",
            Entry::Imported(_) => "imported",
            Entry::DeployStarted(_) => "deploy_started",
            Entry::DeployStep(_) => "deploy_step",
            Entry::DeployEnded(_) => "deploy_ended",
            Entry::LockBroken { .. } => "lock_broken",
            Entry::TargetRenamed { .. } => "target_renamed",
            Entry::TargetRemoved { .. } => "target_removed",
            Entry::ReviewRecorded(_) => "review_recorded",
            Entry::ReviewApproved(_) => "review_approved",
        }
    }
}

/// A run as it starts: enough to show it, and to tell later whether its process lives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunStart {
    pub target: String,
    pub operator: String,
    pub title: String,
    pub command: String,
    pub started_at: String,
    pub pid: u32,
    /// This boot of the machine (Linux's `boot_id`): a pid means nothing after a reboot.
    pub boot: String,
    /// When the process started (clock ticks after boot): a pid is reused once its
    /// process is gone, and then names another. Absent in entries of earlier versions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub process_start: Option<u64>,
    /// A deploy that resumes another: that one's id, so a resume cut off before it ends
    /// still names the deploy that can go on. Absent in entries of earlier versions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resumes: Option<String>,
}

impl RunStart {
    pub fn now(target: &str, title: &str, command: &str) -> RunStart {
        RunStart {
            target: target.to_string(),
            operator: crate::history::operator(),
            title: title.to_string(),
            command: command.to_string(),
            started_at: crate::history::now(),
            pid: std::process::id(),
            boot: boot_id(),
            process_start: process_start(std::process::id()),
            resumes: None,
        }
    }

    fn still_running(&self) -> bool {
        if self.boot != boot_id() {
            return false;
        }
        match process_start(self.pid) {
            Some(start) => self.process_start.is_none_or(|recorded| recorded == start),
            None => self.pid == std::process::id(),
        }
    }
}

/// When process `pid` started, in clock ticks after boot (`/proc/PID/stat`'s 22nd
/// field); `None` if it is gone, or where there is no `/proc`.
fn process_start(pid: u32) -> Option<u64> {
    let stat =
        std::fs::read_to_string(Path::new("/proc").join(pid.to_string()).join("stat")).ok()?;
    // The name, the 2nd field, is in parentheses and may hold spaces or parentheses.
    let after_name = &stat[stat.rfind(')')? + 1..];
    after_name.split_whitespace().nth(19)?.parse().ok()
}

fn boot_id() -> String {
    std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

/// The history line of a finished verification.
pub fn verification_record(checklist: &Checklist) -> HistoryRecord {
    let count = |status| checklist.count(status);
    let mut title = format!(
        "Verify: {} passed, {} failed, {} to tick",
        count(CheckStatus::Pass),
        count(CheckStatus::Fail),
        count(CheckStatus::Manual)
    );
    // Every item is counted somewhere: failures accepted in writing, warnings and items
    // that do not apply too.
    for (status, words) in [
        (CheckStatus::Waived, "waived"),
        (CheckStatus::Warn, "warned"),
        (CheckStatus::Na, "not applicable"),
    ] {
        if count(status) > 0 {
            title.push_str(&format!(", {} {words}", count(status)));
        }
    }
    HistoryRecord {
        id: checklist.id.clone(),
        kind: RecordKind::Verification,
        target: checklist.target.name.clone(),
        target_now: None,
        target_removed: false,
        operator: checklist.operator.user.clone(),
        title,
        command: format!("{} checks", checklist.items.len()),
        started_at: checklist.started_at.clone(),
        finished_at: checklist.finished_at.clone(),
        duration_ms: duration_ms(&checklist.started_at, &checklist.finished_at),
        exit_code: Some(checklist.failed() as i64),
        outcome: RunOutcome::Exited,
        output_sha256: String::new(),
        output_bytes: 0,
        resumes: None,
        ended_before_snapshot: false,
    }
}

fn duration_ms(from: &str, to: &str) -> u64 {
    match (humantime::parse_rfc3339(from), humantime::parse_rfc3339(to)) {
        (Ok(from), Ok(to)) => to
            .duration_since(from)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0),
        _ => 0,
    }
}

/// A history line for something recorded that ran nothing of its own.
fn event(id: &str, target: &str, operator: &str, at: &str, title: String) -> HistoryRecord {
    HistoryRecord {
        id: id.to_string(),
        kind: RecordKind::Event,
        target: target.to_string(),
        target_now: None,
        target_removed: false,
        operator: operator.to_string(),
        title,
        command: String::new(),
        started_at: at.to_string(),
        finished_at: at.to_string(),
        duration_ms: 0,
        exit_code: Some(0),
        outcome: RunOutcome::Exited,
        output_sha256: String::new(),
        output_bytes: 0,
        resumes: None,
        ended_before_snapshot: false,
    }
}

/// A run that ended without its own end record takes the time its end was noted.
fn ended_at(record: &mut HistoryRecord, ended: Option<String>) {
    if let Some(ended) = ended {
        record.duration_ms = duration_ms(&record.started_at, &ended);
        record.finished_at = ended;
    }
}

fn unfinished(id: &str, kind: RecordKind, start: &RunStart) -> HistoryRecord {
    let outcome = match start.still_running() {
        true => RunOutcome::Running,
        false => RunOutcome::Interrupted,
    };
    HistoryRecord {
        id: id.to_string(),
        kind,
        target: start.target.clone(),
        target_now: None,
        target_removed: false,
        operator: start.operator.clone(),
        title: start.title.clone(),
        command: start.command.clone(),
        started_at: start.started_at.clone(),
        finished_at: String::new(),
        duration_ms: 0,
        exit_code: None,
        outcome,
        output_sha256: String::new(),
        output_bytes: 0,
        resumes: start.resumes.clone(),
        ended_before_snapshot: false,
    }
}

/// One line per run, in the order the runs started, and one for each thing recorded that
/// ran nothing of its own (an approval, a lock broken, a rename) when it was recorded.
pub fn fold_history(entries: Vec<(String, Entry)>) -> Vec<HistoryRecord> {
    let mut records: Vec<HistoryRecord> = Vec::new();
    let mut at: HashMap<String, usize> = HashMap::new();
    let place = |id: &str,
                 record: HistoryRecord,
                 records: &mut Vec<HistoryRecord>,
                 at: &mut HashMap<String, usize>| match at.get(id) {
        Some(&i) => records[i] = record,
        None => {
            at.insert(id.to_string(), records.len());
            records.push(record);
        }
    };
    let mut checklists: HashMap<String, Checklist> = HashMap::new();
    let mut reviews: HashMap<String, Box<DeployReview>> = HashMap::new();
    // Which target each line is of, across renames: it is shown by the name it goes by
    // now, beside the one it had (a deploy interrupted before a rename is still its own).
    let mut lineages = super::lineage::Lineages::default();
    let mut lineage_of: HashMap<String, usize> = HashMap::new();
    // The runs that journalled a snapshot (a deploy's, or the one a resume kept).
    let mut snapshotted: HashSet<String> = HashSet::new();
    for (id, entry) in entries {
        match &entry {
            Entry::TargetRenamed { from, to, .. } => lineages.renamed(from, to),
            Entry::TargetRemoved { name, .. } => {
                // Its own line belongs to it, before its name is freed.
                lineage_of.insert(id.clone(), lineages.of(name));
                lineages.removed(name);
            }
            _ => {}
        }
        let key = id.clone();
        match entry {
            Entry::OperationStarted(start) => place(
                &id,
                unfinished(&id, RecordKind::Operation, &start),
                &mut records,
                &mut at,
            ),
            Entry::VerificationStarted(start) => place(
                &id,
                unfinished(&id, RecordKind::Verification, &start),
                &mut records,
                &mut at,
            ),
            Entry::OperationEnded(record) | Entry::Imported(record) => {
                place(&id, record, &mut records, &mut at)
            }
            Entry::VerificationEnded(checklist) => {
                place(&id, verification_record(&checklist), &mut records, &mut at);
                checklists.insert(id, checklist);
            }
            Entry::Aborted { reason, at: ended } => {
                if let Some(&i) = at.get(&id) {
                    let record = &mut records[i];
                    record.outcome = RunOutcome::Interrupted;
                    record.title = format!("{} (failed: {reason})", record.title);
                    ended_at(record, ended);
                }
            }
            Entry::NotStarted { reason, at: ended } => {
                if let Some(&i) = at.get(&id) {
                    let record = &mut records[i];
                    record.outcome = RunOutcome::NotStarted;
                    record.title = format!("{} (not started: {reason})", record.title);
                    ended_at(record, ended);
                }
            }
            Entry::Cancelled { at: ended, .. } => {
                if let Some(&i) = at.get(&id) {
                    let record = &mut records[i];
                    record.outcome = RunOutcome::Cancelled;
                    record.title = format!("{} (cancelled)", record.title);
                    ended_at(record, ended);
                }
            }
            Entry::ReportExported(_) | Entry::ReportCosigned { .. } => {}
            Entry::DeployStarted(start) => place(
                &id,
                unfinished(&id, RecordKind::Deploy, &start),
                &mut records,
                &mut at,
            ),
            // An unfinished deploy names the last step it completed.
            Entry::DeployStep(step) => {
                if step.snapshot.is_some() {
                    snapshotted.insert(id.clone());
                }
                if let Some(&i) = at.get(&id) {
                    let record = &mut records[i];
                    let title = record.title.split(" (last step").next().unwrap_or_default();
                    record.title = format!("{title} (last step: {})", step.title);
                }
            }
            Entry::DeployEnded(deploy) => {
                place(&id, deploy.history_record(), &mut records, &mut at)
            }
            Entry::LockBroken {
                target,
                operator,
                reason,
                holder,
                at: when,
            } => {
                let held_by = holder.map_or("no holder known".into(), |h| {
                    format!("held by {}", h.describe())
                });
                let title = format!("Deploy lock broken ({held_by}): {reason}");
                // Entries of earlier versions have no time: their id has it.
                let when = when
                    .or_else(|| crate::history::time_of_record_id(&id))
                    .unwrap_or_default();
                place(
                    &id,
                    event(&id, &target, &operator, &when, title),
                    &mut records,
                    &mut at,
                );
            }
            Entry::TargetRenamed {
                from,
                to,
                operator,
                at: when,
            } => {
                let title = format!("Target {from} renamed {to}");
                place(
                    &id,
                    event(&id, &to, &operator, &when, title),
                    &mut records,
                    &mut at,
                );
            }
            Entry::TargetRemoved {
                name,
                operator,
                at: when,
            } => {
                let title = format!("Target {name} removed");
                place(
                    &id,
                    event(&id, &name, &operator, &when, title),
                    &mut records,
                    &mut at,
                );
            }
            // A review is recorded each time one is looked at: only an approved one is a
            // line of the history.
            Entry::ReviewRecorded(review) => {
                reviews.insert(id, review);
            }
            Entry::ReviewApproved(approval) => {
                let Some(review) = reviews.get(&id) else {
                    continue;
                };
                let moved = review.images.iter().filter(|i| i.changes).count();
                let migrations = match approval.migrations.is_empty() {
                    true => String::new(),
                    false => format!(", to run {}", approval.migrations.join(", ")),
                };
                let title = format!(
                    "Deploy review approved by {} ({}){migrations}: {} commit(s), {} file(s), {moved} image(s) move",
                    approval.reviewer,
                    approval.key_fingerprint,
                    review.commits.len(),
                    review.files.len()
                );
                let record = event(
                    &id,
                    &review.target,
                    &approval.user,
                    &approval.approved_at,
                    title,
                );
                place(&id, record, &mut records, &mut at);
            }
            Entry::ChecklistChanged(change) => {
                if let Some(checklist) = checklists.get_mut(&id) {
                    checklist.apply(&change);
                    place(&id, verification_record(checklist), &mut records, &mut at);
                }
            }
        }
        if let Some(&i) = at.get(&key) {
            let target = &records[i].target;
            lineage_of.entry(key).or_insert_with(|| lineages.of(target));
        }
    }
    for (id, &i) in &at {
        let Some(&lineage) = lineage_of.get(id) else {
            continue;
        };
        match lineages.name_of(lineage) {
            Some(now) if now != records[i].target => records[i].target_now = Some(now.to_string()),
            Some(_) => {}
            None => records[i].target_removed = true,
        }
    }
    // Only a deploy that ended by itself (failed or stopped, its end journalled): one cut
    // off may have been cut off in its snapshot, and is said to have been, with what the
    // host is in not known.
    for record in &mut records {
        record.ended_before_snapshot = record.kind == RecordKind::Deploy
            && record.id.starts_with("deploy-")
            && record.failed_or_stopped()
            && !snapshotted.contains(&record.id);
    }
    records
}

/// The records of an older `history.jsonl`; a torn last line is skipped.
pub fn legacy_records(path: &Path) -> Result<Vec<HistoryRecord>> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::storage(path, e)),
    };
    Ok(text
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect())
}
