//! The report of a verification, as auditors receive it: the checklist with its
//! evidence, the change-management fields around it (target and host key, operator,
//! reviewers, times, commit, image digests) and the journal's chain head when it was
//! made. This is the JSON report (`shipshape.report/v1`) and the model the Markdown,
//! HTML and PDF renderings (crate `shipshape-report`) print; its JSON Schema is
//! generated from these types and committed. The schema describes reports as written
//! (serde's serialize side): every field Shipshape writes is required, a `null` one
//! too, so a validator catches a report missing what DESIGN.md says it carries.

pub mod sign;

use std::collections::BTreeMap;
use std::path::Path;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::checklist::{CheckItem, CheckStatus, Checklist, ImageDigest, ReportTarget};
use crate::error::{Error, Result};

pub const SCHEMA: &str = "shipshape.report/v1";

/// The formats a report is written in, chosen by the file's extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ReportFormat {
    Markdown,
    Html,
    Pdf,
    Json,
}

impl ReportFormat {
    pub fn from_path(path: &Path) -> Result<ReportFormat> {
        let extension = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        match extension.as_deref() {
            Some("md") | Some("markdown") => Ok(ReportFormat::Markdown),
            Some("html") | Some("htm") => Ok(ReportFormat::Html),
            Some("pdf") => Ok(ReportFormat::Pdf),
            Some("json") => Ok(ReportFormat::Json),
            _ => Err(Error::BadInput(format!(
                "{}: a report file ends in .md, .html, .pdf or .json, which also chooses its format.",
                crate::input::shown(&path.to_string_lossy())
            ))),
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            ReportFormat::Markdown => "md",
            ReportFormat::Html => "html",
            ReportFormat::Pdf => "pdf",
            ReportFormat::Json => "json",
        }
    }
}

/// A reviewer who co-signed a report file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema, TS)]
pub struct Signer {
    pub user: String,
    pub key_name: String,
    pub fingerprint: String,
    pub signed_at: String,
    /// The signature file written beside the report.
    pub signature_file: String,
}

/// The report's one-word outcome: `passed` (nothing failed, nothing awaits a tick),
/// `failed`, or `incomplete` (nothing failed, items await a tick).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Passed,
    Failed,
    Incomplete,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Passed => "passed",
            Verdict::Failed => "failed",
            Verdict::Incomplete => "incomplete",
        }
    }
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, TS)]
pub struct Report {
    /// Always `shipshape.report/v1`.
    #[schemars(extend("const" = SCHEMA))]
    pub schema: String,
    /// The journal record of the verification.
    pub record_id: String,
    pub target: ReportTarget,
    /// The local account that ran the verification.
    pub operator: String,
    /// The key the verification's connection authenticated with.
    pub operator_key: Option<String>,
    pub started_at: String,
    pub finished_at: String,
    pub generated_at: String,
    pub git_commit: Option<String>,
    pub images: Vec<ImageDigest>,
    /// The policy the verdict was reached by; null for a checklist made before it was
    /// recorded.
    pub policy: Option<crate::checklist::PolicyUsed>,
    pub items: Vec<CheckItem>,
    /// How many items have each status (every status named, zeros too).
    #[schemars(schema_with = "summary_schema")]
    pub summary: BTreeMap<CheckStatus, usize>,
    pub verdict: Verdict,
    /// The journal's chain head when the report was made: it proves which journal
    /// state the report came from.
    pub journal_head: String,
    /// The deploy or rollback this verification ended, with its review, the reviewer's
    /// approval and every step; absent for a verification on its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deploy: Option<crate::deploy::DeployRecord>,
}

impl Report {
    pub fn of(checklist: &Checklist, journal_head: &str) -> Report {
        let summary: BTreeMap<CheckStatus, usize> = checklist.summary().into_iter().collect();
        let count = |s| summary.get(&s).copied().unwrap_or(0);
        let verdict = if count(CheckStatus::Fail) > 0 {
            Verdict::Failed
        } else if count(CheckStatus::Manual)
            + count(CheckStatus::Warn)
            + count(CheckStatus::Pending)
            > 0
        {
            // A warning nobody acknowledged (ticked, or waived) is not a pass: what it
            // could not tell (is HEAD origin/main?) is still unknown.
            Verdict::Incomplete
        } else {
            Verdict::Passed
        };
        Report {
            schema: SCHEMA.to_string(),
            record_id: checklist.id.clone(),
            target: checklist.target.clone(),
            operator: checklist.operator.user.clone(),
            operator_key: checklist.operator.key_fingerprint.clone(),
            started_at: checklist.started_at.clone(),
            finished_at: checklist.finished_at.clone(),
            generated_at: crate::history::now(),
            git_commit: checklist.git_commit.clone(),
            images: checklist.images.clone(),
            policy: checklist.policy.clone(),
            items: checklist.items.clone(),
            summary,
            verdict,
            journal_head: journal_head.to_string(),
            deploy: None,
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("reports serialize") + "\n"
    }
}

/// The JSON Schema of [`Report`] as Shipshape writes it, as committed in `schemas/`.
pub fn json_schema() -> String {
    let schema = schemars::generate::SchemaSettings::draft2020_12()
        .for_serialize()
        .into_generator()
        .into_root_schema_for::<Report>();
    serde_json::to_string_pretty(&schema).expect("schemas serialize") + "\n"
}

/// `summary`: a count for each status, every one named ([`Report::of`] writes zeros
/// too) and no other.
fn summary_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    let names: Vec<&str> = CheckStatus::ALL.iter().map(|s| s.as_str()).collect();
    let count = serde_json::json!({ "type": "integer", "minimum": 0 });
    let properties: serde_json::Map<String, serde_json::Value> = names
        .iter()
        .map(|name| (name.to_string(), count.clone()))
        .collect();
    schemars::json_schema!({
        "type": "object",
        "properties": properties,
        "required": names,
        "additionalProperties": false,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::*;

    #[test]
    fn the_schema_holds_reports_to_what_shipshape_writes() {
        let schema: Value = serde_json::from_str(&json_schema()).unwrap();
        let report = &schema["properties"];
        assert_eq!(report["schema"]["const"], SCHEMA);
        assert_eq!(
            schema["$defs"]["Verdict"]["enum"],
            json!(["passed", "failed", "incomplete"])
        );
        let required =
            |at: &Value, field: &str| at["required"].as_array().unwrap().contains(&json!(field));
        // Present even when null: the operator's key, the commit, an unfinished
        // command's exit code, an item's tick.
        for field in [
            "operator_key",
            "git_commit",
            "summary",
            "verdict",
            "journal_head",
        ] {
            assert!(required(&schema, field), "{field}");
        }
        assert!(
            !required(&schema, "deploy"),
            "absent for a verification on its own"
        );
        assert!(required(&schema["$defs"]["Evidence"], "exit_code"));
        for field in ["ticked_by", "ticked_at", "waiver"] {
            assert!(required(&schema["$defs"]["CheckItem"], field), "{field}");
        }
        // Added later: reports made before them still validate.
        for field in ["rerun_by", "rerun_at"] {
            assert!(!required(&schema["$defs"]["CheckItem"], field), "{field}");
            assert!(schema["$defs"]["CheckItem"]["properties"][field].is_object());
        }
        let summary = &report["summary"];
        assert_eq!(summary["additionalProperties"], false);
        for status in CheckStatus::ALL {
            assert!(required(summary, status.as_str()), "{status:?}");
        }
    }

    #[test]
    fn a_warning_nobody_ticked_leaves_the_verdict_incomplete() {
        use crate::checklist::{Actor, CheckId, CheckItem, ChecklistChange, ItemChange};
        let ops = Actor {
            user: "ops".into(),
            key_fingerprint: None,
        };
        let mut checklist = Checklist::for_tests(vec![
            CheckItem::new(CheckId::Health, CheckStatus::Pass, "200".into(), vec![]),
            CheckItem::new(
                CheckId::CodeDeployed,
                CheckStatus::Warn,
                "origin could not be asked".into(),
                vec![],
            ),
        ]);
        assert_eq!(Report::of(&checklist, "h").verdict, Verdict::Incomplete);
        checklist.apply(&ChecklistChange {
            checklist: "verify-1".into(),
            item: CheckId::CodeDeployed,
            by: ops,
            at: "t2".into(),
            change: ItemChange::Tick,
        });
        assert_eq!(Report::of(&checklist, "h").verdict, Verdict::Passed);
    }
}
