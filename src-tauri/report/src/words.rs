//! The words every rendering shares, so the Markdown, HTML and PDF reports say the same
//! thing the same way: status icons beside their names (never colour alone), the
//! header's fields, the verdict.

use shipshape_core::checklist::{CheckGroup, CheckItem, CheckStatus};
use shipshape_core::report::{Report, Verdict};

pub fn icon(status: CheckStatus) -> &'static str {
    match status {
        CheckStatus::Pass => "✔",
        CheckStatus::Fail => "✘",
        CheckStatus::Warn => "⚠",
        CheckStatus::Pending => "…",
        CheckStatus::Manual => "☐",
        CheckStatus::Waived => "⊘",
        CheckStatus::Na => "–",
    }
}

pub fn label(status: CheckStatus) -> &'static str {
    status.label()
}

pub fn verdict(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Passed => "Passed",
        Verdict::Failed => "Failed",
        Verdict::Incomplete => "Incomplete: items (or warnings) await a tick",
    }
}

pub fn group(group: CheckGroup) -> &'static str {
    match group {
        CheckGroup::Verification => "Verification checklist",
        CheckGroup::NeverDo => "Never Do rules",
    }
}

/// "Re-run by ops (SHA256:…) at …; ticked by ops (SHA256:…) at …", either part, or
/// empty: what a person did to the item after the verification.
pub fn ticked(item: &CheckItem) -> String {
    let rerun = match (&item.rerun_by, &item.rerun_at) {
        (Some(by), Some(at)) => Some(format!("Re-run by {by} at {at}")),
        _ => None,
    };
    let ticked = match (&item.ticked_by, &item.ticked_at) {
        (Some(by), Some(at)) if item.waiver.is_some() => Some(format!("waived by {by} at {at}")),
        (Some(by), Some(at)) => Some(format!("ticked by {by} at {at}")),
        _ => None,
    };
    match (rerun, ticked) {
        (Some(rerun), Some(ticked)) => format!("{rerun}; {ticked}"),
        (Some(rerun), None) => rerun,
        (None, Some(ticked)) => capitalized(&ticked),
        (None, None) => String::new(),
    }
}

fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}

/// The header: what an auditor's change record asks for, in order.
pub fn header_fields(report: &Report) -> Vec<(&'static str, String)> {
    let t = &report.target;
    vec![
        ("Target", t.name.clone()),
        ("Host", format!("{}@{}:{}", t.user, t.host, t.port)),
        ("Host key", t.host_key.clone()),
        ("Project directory", t.project_dir.clone()),
        (
            "Operator",
            match &report.operator_key {
                Some(key) => format!("{} ({key})", report.operator),
                None => report.operator.clone(),
            },
        ),
        ("Started", report.started_at.clone()),
        ("Finished", report.finished_at.clone()),
        (
            "Git commit",
            report
                .git_commit
                .clone()
                .unwrap_or_else(|| "unknown".into()),
        ),
        (
            "Policy",
            match &report.policy {
                Some(policy) => format!("{} (sha256 {})", policy.source, policy.sha256),
                None => "not recorded".into(),
            },
        ),
        ("Journal record", report.record_id.clone()),
        ("Journal chain head", report.journal_head.clone()),
        ("Report made", report.generated_at.clone()),
        ("Schema", report.schema.clone()),
    ]
}
