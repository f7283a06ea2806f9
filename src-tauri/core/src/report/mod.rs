//! The report of a verification, as auditors receive it: the checklist with its
//! evidence, the change-management fields around it (target and host key, operator,
//! reviewers, times, commit, image digests) and the journal's chain head when it was
//! made. This is the JSON report (`shipshape.report/v1`) and the model the Markdown,
//! HTML and PDF renderings (crate `shipshape-report`) print; its JSON Schema is
//! generated from these types and committed.

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

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, TS)]
pub struct Report {
    /// Always `shipshape.report/v1`.
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
    pub items: Vec<CheckItem>,
    /// How many items have each status (every status named, zeros too).
    pub summary: BTreeMap<CheckStatus, usize>,
    /// `passed` (nothing failed, nothing awaits a tick), `failed`, or `incomplete`.
    pub verdict: String,
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
            "failed"
        } else if count(CheckStatus::Manual) + count(CheckStatus::Pending) > 0 {
            "incomplete"
        } else {
            "passed"
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
            items: checklist.items.clone(),
            summary,
            verdict: verdict.to_string(),
            journal_head: journal_head.to_string(),
            deploy: None,
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("reports serialize") + "\n"
    }
}

/// The JSON Schema of [`Report`], as committed in `schemas/`.
pub fn json_schema() -> String {
    let schema = schemars::schema_for!(Report);
    serde_json::to_string_pretty(&schema).expect("schemas serialize") + "\n"
}
