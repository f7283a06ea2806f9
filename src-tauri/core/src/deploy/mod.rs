//! The guided deploy as records: its steps in the policy's order, what each did, and the
//! whole run as the journal keeps it. The flow itself is `console/deploy.rs`; the
//! host's lock and the snapshot a rollback returns to are here, as commands and the
//! readers of their output, so they are tested without a host.

pub mod compose_diff;
pub mod lock;
pub mod review;
pub mod snapshot;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::checklist::Actor;
use crate::history::{HistoryRecord, RecordKind, RunOutcome};
use crate::operations::IncomingCommit;
pub use lock::{LockHolder, LockStatus};
pub use review::{Approval, DeployReview};
pub use snapshot::{ServiceImage, Snapshot};

/// The policy's Standard Deployment Workflow, with Shipshape's own steps around it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(rename_all = "snake_case")]
pub enum StepId {
    /// The Never Do checks: a host already breaking the policy is not deployed into.
    Preflight,
    /// What the pull will bring.
    Review,
    Lock,
    Snapshot,
    GitPull,
    Pull,
    Migrate,
    Up,
    Verify,
    Unlock,
    /// Rollback's own: the commit, the images and the env file put back.
    Restore,
}

impl StepId {
    /// Whether the step changes the host (the snapshot, written there, onwards).
    pub fn changes_host(self) -> bool {
        !matches!(
            self,
            StepId::Preflight | StepId::Review | StepId::Lock | StepId::Unlock
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(rename_all = "snake_case")]
pub enum StepStatus {
    Done,
    Failed,
    Skipped,
}

/// One step as it ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema, TS)]
pub struct StepRecord {
    pub step: StepId,
    pub title: String,
    pub status: StepStatus,
    /// Exactly the text sent to the host, in order.
    pub commands: Vec<String>,
    pub started_at: String,
    pub duration_ms: u64,
    /// One sentence: what happened.
    pub note: String,
    /// The history record of an operation it ran, or the verification.
    pub record_ids: Vec<String>,
    /// Taken by the snapshot step.
    pub snapshot: Option<Snapshot>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(rename_all = "snake_case")]
pub enum DeployKind {
    Deploy,
    /// An emergency change back to a deploy's snapshot.
    Rollback,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(rename_all = "snake_case")]
pub enum DeployOutcome {
    Succeeded,
    /// A step failed; the ones after it did not run.
    Failed,
    /// The operator stopped it between two steps.
    Stopped,
    /// Its connection was lost during a step: what that step did on the host is not
    /// known (a verification tells; a resume or a rollback goes on from there).
    Interrupted,
}

/// A whole deploy or rollback, as the journal keeps it and reports show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema, TS)]
pub struct DeployRecord {
    pub id: String,
    pub kind: DeployKind,
    pub target: String,
    pub operator: Actor,
    /// The operator's message (a deploy) or reason (a rollback).
    pub message: String,
    pub started_at: String,
    pub finished_at: String,
    pub outcome: DeployOutcome,
    /// The commits the pull brought, newest first.
    pub commits: Vec<IncomingCommit>,
    pub steps: Vec<StepRecord>,
    /// The verification that ended it.
    pub checklist: Option<String>,
    /// A rollback's: the deploy whose snapshot it returned to.
    pub rolled_back_to: Option<String>,
    /// The deploy this one resumed (cut short or stopped), whose snapshot it kept.
    #[serde(default)]
    pub resumes: Option<String>,
    /// What the deploy's review step found.
    #[serde(default)]
    pub review: Option<DeployReview>,
    /// The reviewer's approval the deploy was started under, if any.
    #[serde(default)]
    pub approval: Option<Approval>,
}

impl DeployRecord {
    /// The last step that ran before a stop (the lock's release comes after it).
    pub fn last_step_before_unlock(&self) -> Option<&StepRecord> {
        self.steps.iter().rev().find(|s| s.step != StepId::Unlock)
    }

    pub fn failed_step(&self) -> Option<&StepRecord> {
        self.steps.iter().find(|s| s.status == StepStatus::Failed)
    }

    pub fn history_record(&self) -> HistoryRecord {
        let what = match self.kind {
            DeployKind::Deploy => "Deploy",
            DeployKind::Rollback => "Roll back",
        };
        let title = match (self.outcome, self.failed_step()) {
            (DeployOutcome::Succeeded, _) => format!("{what}: {}", self.message),
            (DeployOutcome::Failed, Some(step)) => {
                format!("{what} failed at {}: {}", step.title, self.message)
            }
            (DeployOutcome::Failed, None) => format!("{what} failed: {}", self.message),
            (DeployOutcome::Stopped, _) => format!(
                "{what} stopped after {}: {}",
                self.last_step_before_unlock()
                    .map_or("its start", |s| s.title.as_str()),
                self.message
            ),
            (DeployOutcome::Interrupted, step) => format!(
                "{what} interrupted at {}: {}",
                step.map_or("its start", |s| s.title.as_str()),
                self.message
            ),
        };
        HistoryRecord {
            id: self.id.clone(),
            kind: RecordKind::Deploy,
            target: self.target.clone(),
            target_now: None,
            target_removed: false,
            operator: self.operator.user.clone(),
            title,
            command: format!("{} steps", self.steps.len()),
            started_at: self.started_at.clone(),
            finished_at: self.finished_at.clone(),
            duration_ms: self.steps.iter().map(|s| s.duration_ms).sum(),
            // Stopped on request is said as any run the operator stopped is, not as a
            // failure with an exit code no command returned.
            exit_code: match self.outcome {
                DeployOutcome::Succeeded => Some(0),
                DeployOutcome::Failed => Some(1),
                DeployOutcome::Stopped | DeployOutcome::Interrupted => None,
            },
            // An interrupted one reads as any run cut short does, so the next deploy
            // offers what can be done about it.
            outcome: match self.outcome {
                DeployOutcome::Stopped => RunOutcome::Cancelled,
                DeployOutcome::Interrupted => RunOutcome::Interrupted,
                _ => RunOutcome::Exited,
            },
            output_sha256: String::new(),
            output_bytes: 0,
            resumes: self.resumes.clone(),
            // Known once the journal's steps are read with it (`fold_history`).
            ended_before_snapshot: false,
        }
    }
}
