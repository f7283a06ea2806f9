//! The verification checklist as data: the policy's "Verification Checklist" and its
//! "Never Do" rules as items, each with a status, a one-sentence verdict and the evidence
//! that decided it. Plain data, so the journal can keep it, reports can print it and the
//! UI can show it without knowing how the probes ran; `checks/` fills it in.
//!
//! An operator's ticks and waivers are changes applied on top of what the probes found
//! ([`Checklist::apply`]), each recorded in the journal with who and when.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use ts_rs::TS;

use crate::error::{Error, Result};

/// The items, in the policy's order: the verification list, then the guardrails.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema, TS,
)]
#[serde(rename_all = "kebab-case")]
pub enum CheckId {
    CodeDeployed,
    ImagesPulled,
    ServicesUpdated,
    ServicesRunning,
    EnvConfigured,
    Migrations,
    Health,
    LogsClean,
    NoReload,
    NoSystemdMix,
    AwsProfileOnly,
    ComposeOnly,
}

impl CheckId {
    pub const ALL: [CheckId; 12] = [
        CheckId::CodeDeployed,
        CheckId::ImagesPulled,
        CheckId::ServicesUpdated,
        CheckId::ServicesRunning,
        CheckId::EnvConfigured,
        CheckId::Migrations,
        CheckId::Health,
        CheckId::LogsClean,
        CheckId::NoReload,
        CheckId::NoSystemdMix,
        CheckId::AwsProfileOnly,
        CheckId::ComposeOnly,
    ];

    /// The id as the contract spells it (`code-deployed`).
    pub fn as_str(self) -> &'static str {
        match self {
            CheckId::CodeDeployed => "code-deployed",
            CheckId::ImagesPulled => "images-pulled",
            CheckId::ServicesUpdated => "services-updated",
            CheckId::ServicesRunning => "services-running",
            CheckId::EnvConfigured => "env-configured",
            CheckId::Migrations => "migrations",
            CheckId::Health => "health",
            CheckId::LogsClean => "logs-clean",
            CheckId::NoReload => "no-reload",
            CheckId::NoSystemdMix => "no-systemd-mix",
            CheckId::AwsProfileOnly => "aws-profile-only",
            CheckId::ComposeOnly => "compose-only",
        }
    }

    pub fn parse(text: &str) -> Result<CheckId> {
        CheckId::ALL
            .into_iter()
            .find(|id| id.as_str() == text)
            .ok_or_else(|| {
                let ids: Vec<&str> = CheckId::ALL.iter().map(|id| id.as_str()).collect();
                Error::BadInput(format!(
                    "There is no check `{text}`. The checks are: {}.",
                    ids.join(", ")
                ))
            })
    }

    /// The policy's words for the item.
    pub fn title(self) -> &'static str {
        match self {
            CheckId::CodeDeployed => "Code deployed via SSH",
            CheckId::ImagesPulled => "Latest images pulled",
            CheckId::ServicesUpdated => "Services started/updated",
            CheckId::ServicesRunning => "Services verified running",
            CheckId::EnvConfigured => "Environment variables configured in .env.aws",
            CheckId::Migrations => "Database migrations applied (if needed)",
            CheckId::Health => "Health checks passing",
            CheckId::LogsClean => "Logs checked for errors",
            CheckId::NoReload => "No --reload flag in production (backend uses Gunicorn)",
            CheckId::NoSystemdMix => "Never mix systemd and Docker Compose for a service",
            CheckId::AwsProfileOnly => "Never use profiles other than aws",
            CheckId::ComposeOnly => "Never run production services outside Docker Compose",
        }
    }

    pub fn group(self) -> CheckGroup {
        match self {
            CheckId::NoSystemdMix | CheckId::AwsProfileOnly | CheckId::ComposeOnly => {
                CheckGroup::NeverDo
            }
            _ => CheckGroup::Verification,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(rename_all = "kebab-case")]
pub enum CheckGroup {
    Verification,
    NeverDo,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema, TS,
)]
#[serde(rename_all = "snake_case")]
pub enum CheckStatus {
    Pass,
    Fail,
    /// Something an operator should look at, not a failure.
    Warn,
    /// Not decided yet: its probes are running.
    Pending,
    /// Awaiting an operator's tick.
    Manual,
    /// Failed, and an operator accepted that in writing.
    Waived,
    /// Does not apply to this host.
    Na,
}

impl CheckStatus {
    pub const ALL: [CheckStatus; 7] = [
        CheckStatus::Pass,
        CheckStatus::Fail,
        CheckStatus::Warn,
        CheckStatus::Pending,
        CheckStatus::Manual,
        CheckStatus::Waived,
        CheckStatus::Na,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CheckStatus::Pass => "pass",
            CheckStatus::Fail => "fail",
            CheckStatus::Warn => "warn",
            CheckStatus::Pending => "pending",
            CheckStatus::Manual => "manual",
            CheckStatus::Waived => "waived",
            CheckStatus::Na => "na",
        }
    }

    /// The word a person reads beside the icon.
    pub fn label(self) -> &'static str {
        match self {
            CheckStatus::Pass => "Passed",
            CheckStatus::Fail => "Failed",
            CheckStatus::Warn => "Warning",
            CheckStatus::Pending => "Running",
            CheckStatus::Manual => "Needs a tick",
            CheckStatus::Waived => "Waived",
            CheckStatus::Na => "Not applicable",
        }
    }
}

/// One command run on the host, as it ran: the output is stored after redaction, and
/// `sha256` is of `output` exactly as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema, TS)]
pub struct Evidence {
    pub command: String,
    pub exit_code: Option<i64>,
    pub started_at: String,
    #[ts(type = "number")]
    pub duration_ms: u64,
    pub output: String,
    pub sha256: String,
}

impl Evidence {
    pub fn new(
        command: String,
        exit_code: Option<i64>,
        started_at: String,
        duration_ms: u64,
        output: String,
    ) -> Evidence {
        let sha256 = sha256_hex(output.as_bytes());
        Evidence {
            command,
            exit_code,
            started_at,
            duration_ms,
            output,
            sha256,
        }
    }

    /// Requests to the Docker engine's socket ([`crate::checks::engine`]), not a shell
    /// command: shown without a prompt.
    pub fn is_request(&self) -> bool {
        self.command.starts_with("GET ")
    }
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    data_encoding::HEXLOWER.encode(&Sha256::digest(bytes))
}

/// Who did something: the local account and the key that authenticated the session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema, TS)]
pub struct Actor {
    pub user: String,
    /// `SHA256:...` of the key used for the connection.
    pub key_fingerprint: Option<String>,
}

impl std::fmt::Display for Actor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.key_fingerprint {
            Some(fingerprint) => write!(f, "{} ({fingerprint})", self.user),
            None => f.write_str(&self.user),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema, TS)]
pub struct CheckItem {
    pub id: CheckId,
    pub title: String,
    pub group: CheckGroup,
    pub status: CheckStatus,
    /// What the probes found, in one sentence.
    pub note: String,
    /// The status the probes gave, before any tick or waiver.
    pub probed_status: CheckStatus,
    pub evidence: Vec<Evidence>,
    /// Who ticked or waived the item, and when.
    pub ticked_by: Option<String>,
    pub ticked_at: Option<String>,
    /// The written reason an operator accepted a failure.
    pub waiver: Option<String>,
    /// Who ran the item's probes again after the verification, and when: its note and
    /// evidence are from then, not from the run the header names. Written only for an
    /// item re-run, so records and reports from before it was kept read (and validate
    /// against the report schema) as never re-run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rerun_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rerun_at: Option<String>,
}

impl CheckItem {
    pub fn new(id: CheckId, status: CheckStatus, note: String, evidence: Vec<Evidence>) -> Self {
        CheckItem {
            id,
            title: id.title().to_string(),
            group: id.group(),
            status,
            note,
            probed_status: status,
            evidence,
            ticked_by: None,
            ticked_at: None,
            waiver: None,
            rerun_by: None,
            rerun_at: None,
        }
    }
}

/// Where the checklist was run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema, TS)]
pub struct ReportTarget {
    pub name: String,
    pub host: String,
    pub port: u16,
    pub user: String,
    pub project_dir: String,
    /// The pinned host key's fingerprint (`SHA256:...`).
    pub host_key: String,
}

/// An image a running service uses, by tag and content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema, TS)]
pub struct ImageDigest {
    pub service: String,
    pub image: String,
    pub id: String,
    pub digests: Vec<String>,
}

/// Which policy judged the host: where it came from, and a digest of the rules in effect
/// (the builtin policy with the file's fields laid over it), so a report says which
/// ports, services, probes and patterns its verdict was reached by.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema, TS)]
pub struct PolicyUsed {
    /// `builtin`, or the target's policy file.
    pub source: String,
    /// SHA-256 of the policy in effect, as JSON.
    pub sha256: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Checklist {
    /// The journal record it belongs to.
    pub id: String,
    pub target: ReportTarget,
    pub operator: Actor,
    pub started_at: String,
    pub finished_at: String,
    /// The commit the project is on.
    pub git_commit: Option<String>,
    pub images: Vec<ImageDigest>,
    pub items: Vec<CheckItem>,
    /// The policy the items were decided by (absent in checklists made before it was
    /// recorded).
    #[serde(default)]
    pub policy: Option<PolicyUsed>,
}

/// What an operator did to one item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum ItemChange {
    /// Confirms an item that needs a person (or one that warned).
    Tick,
    /// Takes a tick or waiver back.
    Untick,
    /// Accepts a failed item, with the reason in writing.
    Waive { reason: String },
    /// New probe results for the item, written as `result`: the change's own `item`
    /// names which one.
    Rerun {
        #[serde(rename = "result")]
        item: Box<CheckItem>,
    },
}

/// A change to one item of a recorded checklist, with who and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct ChecklistChange {
    pub checklist: String,
    pub item: CheckId,
    pub by: Actor,
    pub at: String,
    #[serde(flatten)]
    pub change: ItemChange,
}

/// [`ChecklistChange`] as it is read: the same fields.
#[derive(Deserialize)]
struct ChangeRead {
    checklist: String,
    item: CheckId,
    by: Actor,
    at: String,
    #[serde(flatten)]
    change: ItemChange,
}

/// Earlier versions wrote a re-run's results under a second `item` key, beside the
/// change's own (the item's id): JSON that a strict read refuses, so every re-run was
/// left out of each later reading of the journal (reports, the Checklist screen). Read
/// as a map, the results are the last `item`, and they carry the item's id.
impl<'de> Deserialize<'de> for ChecklistChange {
    fn deserialize<D: serde::Deserializer<'de>>(reader: D) -> std::result::Result<Self, D::Error> {
        let fields = serde_json::Map::deserialize(reader)?;
        ChecklistChange::try_from(fields).map_err(serde::de::Error::custom)
    }
}

impl TryFrom<serde_json::Map<String, serde_json::Value>> for ChecklistChange {
    type Error = serde_json::Error;

    fn try_from(
        mut fields: serde_json::Map<String, serde_json::Value>,
    ) -> serde_json::Result<Self> {
        if let Some(serde_json::Value::Object(results)) = fields.get("item") {
            let id = results.get("id").cloned().unwrap_or_default();
            let results = fields.insert("item".into(), id);
            fields.insert("result".into(), results.unwrap_or_default());
        }
        let read: ChangeRead = serde_json::from_value(serde_json::Value::Object(fields))?;
        Ok(ChecklistChange {
            checklist: read.checklist,
            item: read.item,
            by: read.by,
            at: read.at,
            change: read.change,
        })
    }
}

impl Checklist {
    pub fn item(&self, id: CheckId) -> Option<&CheckItem> {
        self.items.iter().find(|item| item.id == id)
    }

    /// Whether `change` may be made now, as an operator asks it: what [`check_change`]
    /// asks, and a waiver's reason one line of plain text like every other reason (kept
    /// in the journal and every later report, where a line break could forge a row).
    /// Changes read back from the journal are not asked this again: a waiver recorded by
    /// an earlier version stands.
    ///
    /// [`check_change`]: Checklist::check_change
    pub fn check_new_change(&self, id: CheckId, change: &ItemChange) -> Result<()> {
        if let ItemChange::Waive { reason } = change {
            crate::input::line("The waiver's reason", reason)?;
            if reason.trim().chars().count() < 10 {
                return Err(Error::BadInput(
                    "A waiver needs a written reason of at least 10 characters.".into(),
                ));
            }
        }
        self.check_change(id, change)
    }

    /// Whether `change` may be made now; the reason it may not, in plain words.
    pub fn check_change(&self, id: CheckId, change: &ItemChange) -> Result<()> {
        let item = self.item(id).ok_or_else(|| {
            Error::BadInput(format!("This checklist has no item {}.", id.as_str()))
        })?;
        let refuse = |why: &str| Err(Error::BadInput(format!("{}: {why}", item.title)));
        match change {
            ItemChange::Tick => match item.probed_status {
                CheckStatus::Manual | CheckStatus::Warn => Ok(()),
                CheckStatus::Fail => {
                    refuse("it failed; to accept that, waive it with a written reason.")
                }
                CheckStatus::Pending => refuse("its probes are still running."),
                _ => refuse("the probes decided it; there is nothing to tick."),
            },
            ItemChange::Untick if item.ticked_by.is_none() => refuse("it is not ticked or waived."),
            ItemChange::Untick => Ok(()),
            ItemChange::Waive { reason } if reason.trim().len() < 10 => {
                refuse("a waiver needs a written reason of at least 10 characters.")
            }
            ItemChange::Waive { .. } => match item.probed_status {
                CheckStatus::Fail | CheckStatus::Warn => Ok(()),
                _ => refuse("only a failed item can be waived."),
            },
            ItemChange::Rerun { item: new } if new.id != id => {
                refuse("the new results are for another item.")
            }
            ItemChange::Rerun { .. } => Ok(()),
        }
    }

    /// Applies a recorded change; one that does not apply is ignored, as it was refused
    /// when it was made.
    pub fn apply(&mut self, change: &ChecklistChange) {
        if self.check_change(change.item, &change.change).is_err() {
            return;
        }
        let Some(item) = self.items.iter_mut().find(|i| i.id == change.item) else {
            return;
        };
        let by = Some(change.by.to_string());
        let at = Some(change.at.clone());
        match &change.change {
            ItemChange::Tick => {
                item.status = CheckStatus::Pass;
                (item.ticked_by, item.ticked_at, item.waiver) = (by, at, None);
            }
            ItemChange::Untick => {
                item.status = item.probed_status;
                (item.ticked_by, item.ticked_at, item.waiver) = (None, None, None);
            }
            ItemChange::Waive { reason } => {
                item.status = CheckStatus::Waived;
                (item.ticked_by, item.ticked_at) = (by, at);
                item.waiver = Some(reason.trim().to_string());
            }
            ItemChange::Rerun { item: new } => {
                *item = (**new).clone();
                (item.rerun_by, item.rerun_at) = (by, at);
            }
        }
    }

    /// How many items have each status.
    pub fn summary(&self) -> Vec<(CheckStatus, usize)> {
        CheckStatus::ALL
            .iter()
            .map(|s| (*s, self.count(*s)))
            .collect()
    }

    /// How many items have `status`.
    pub fn count(&self, status: CheckStatus) -> usize {
        self.items.iter().filter(|i| i.status == status).count()
    }

    /// A checklist of `items` on a target `prod`, recorded as `verify-1`, for tests.
    #[cfg(test)]
    pub(crate) fn for_tests(items: Vec<CheckItem>) -> Checklist {
        Checklist {
            id: "verify-1".into(),
            target: ReportTarget {
                name: "prod".into(),
                host: "10.0.0.1".into(),
                port: 22,
                user: "ubuntu".into(),
                project_dir: "/srv".into(),
                host_key: "SHA256:x".into(),
            },
            operator: Actor {
                user: "ops".into(),
                key_fingerprint: None,
            },
            started_at: "t0".into(),
            finished_at: "t1".into(),
            git_commit: None,
            images: vec![],
            policy: None,
            items,
        }
    }

    /// True if an item failed (items awaiting a tick are not failures).
    pub fn failed(&self) -> bool {
        self.items.iter().any(|i| i.status == CheckStatus::Fail)
    }
}

#[cfg(test)]
mod tests;
