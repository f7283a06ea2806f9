//! The report as GitHub-flavoured Markdown: tables for the header and the checklist,
//! then each item's evidence. Host output can hold anything (pipes, backticks, HTML), so
//! table cells are escaped and output goes in fences longer than any backtick run in it.
//! The whole document then passes through [`crate::inert::clean`], so no text in it,
//! wherever it sits, can drive the terminal of someone who runs `cat` on it.

use std::fmt::Write;

use shipshape_core::checklist::{CheckGroup, CheckItem};
use shipshape_core::report::Report;

use crate::words;

/// Escapes text for a table cell or a paragraph: every ASCII punctuation mark that
/// Markdown could read as syntax is backslash-escaped, and line feeds become spaces (a
/// carriage return is left for [`render`]'s cleaning to write out).
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' => out.push(' '),
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '#' | '!' | '~' | '&' => {
                out.push('\\');
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

/// A fence of backticks longer than any run of backticks in `text` (at least three).
pub fn fence_for(text: &str) -> String {
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    "`".repeat((longest + 1).max(3))
}

fn fenced(out: &mut String, info: &str, text: &str) {
    let fence = fence_for(text);
    let body = text.strip_suffix('\n').unwrap_or(text);
    let _ = writeln!(out, "{fence}{info}\n{body}\n{fence}\n");
}

/// The report in Markdown, with every control character written out.
pub fn render(report: &Report) -> String {
    crate::inert::clean(&document(report)).into_owned()
}

fn document(report: &Report) -> String {
    let mut out = String::new();
    let t = &report.target;
    let _ = writeln!(out, "# Deployment verification: {}\n", escape(&t.name));
    let _ = writeln!(
        out,
        "**Verdict: {}**\n",
        words::verdict(report.verdict).to_uppercase()
    );
    out.push_str("| Field | Value |\n| --- | --- |\n");
    for (field, value) in words::header_fields(report) {
        let _ = writeln!(out, "| {field} | {} |", escape(&value));
    }

    out.push_str("\n## Summary\n\n| Status | Items |\n| --- | --- |\n");
    for (status, count) in &report.summary {
        let _ = writeln!(
            out,
            "| {} {} | {count} |",
            words::icon(*status),
            words::label(*status)
        );
    }

    if !report.images.is_empty() {
        out.push_str("\n## Images\n\n| Service | Image | Image id | Registry digest |\n| --- | --- | --- | --- |\n");
        for image in &report.images {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} |",
                escape(&image.service),
                escape(&image.image),
                escape(&image.id),
                escape(&image.digests.join(", "))
            );
        }
    }

    if let Some(part) = crate::deploy::part(report) {
        deploy(&mut out, &part);
    }

    for group in [CheckGroup::Verification, CheckGroup::NeverDo] {
        let _ = writeln!(out, "\n## {}\n", words::group(group));
        out.push_str(
            "| Status | Item | Verdict | Ticked, waived or re-run |\n| --- | --- | --- | --- |\n",
        );
        for item in report.items.iter().filter(|i| i.group == group) {
            let _ = writeln!(
                out,
                "| {} {} | {} (`{}`) | {} | {} |",
                words::icon(item.status),
                words::label(item.status),
                escape(&item.title),
                item.id.as_str(),
                escape(&item.note),
                escape(&words::ticked(item))
            );
        }
    }

    out.push_str("\n## Evidence\n");
    for item in &report.items {
        evidence(&mut out, item);
    }
    let _ = writeln!(
        out,
        "\n---\n\nMade by Shipshape from journal record {} at chain head {}. {}",
        escape(&report.record_id),
        escape(&report.journal_head),
        FOOTNOTE
    );
    out
}

/// What the hashes are of: outputs are shown cleaned and without their last line break.
const FOOTNOTE: &str = "Each output's SHA-256 is of the output as captured and stored (after redaction), which the JSON report holds byte for byte; shown here, its control characters are written out (as `\\x1b`) and its last line break is left off.";

fn deploy(out: &mut String, part: &crate::deploy::DeployPart) {
    let _ = writeln!(out, "\n## {}\n", escape(&part.heading));
    out.push_str("| Field | Value |\n| --- | --- |\n");
    for (field, value) in &part.fields {
        let _ = writeln!(out, "| {field} | {} |", escape(value));
    }
    for table in &part.tables {
        let _ = writeln!(out, "\n### {}\n", table.title);
        let _ = writeln!(out, "| {} |", table.columns.join(" | "));
        let _ = writeln!(out, "|{}", " --- |".repeat(table.columns.len()));
        for row in &table.rows {
            let cells: Vec<String> = row.iter().map(|c| escape(c)).collect();
            let _ = writeln!(out, "| {} |", cells.join(" | "));
        }
    }
    if let Some((title, text)) = &part.diff {
        let _ = writeln!(out, "\n### {}\n", escape(title));
        fenced(out, "diff", text);
    }
}

fn evidence(out: &mut String, item: &CheckItem) {
    let _ = writeln!(
        out,
        "\n### {} {} (`{}`)\n\n{}: {}\n",
        words::icon(item.status),
        escape(&item.title),
        item.id.as_str(),
        words::label(item.status),
        escape(&item.note)
    );
    if let Some(reason) = &item.waiver {
        let _ = writeln!(out, "Waiver: {}\n", escape(reason));
    }
    let ticked = words::ticked(item);
    if !ticked.is_empty() {
        let _ = writeln!(out, "{}\n", escape(&ticked));
    }
    for (i, e) in item.evidence.iter().enumerate() {
        let _ = writeln!(
            out,
            "Command {} of {}: exit code {}, started {}, took {} ms, output SHA-256 `{}`\n",
            i + 1,
            item.evidence.len(),
            e.exit_code
                .map_or("none (did not finish)".to_string(), |c| c.to_string()),
            escape(&e.started_at),
            e.duration_ms,
            e.sha256
        );
        fenced(out, if e.is_request() { "http" } else { "sh" }, &e.command);
        if e.output.is_empty() {
            out.push_str("(no output)\n\n");
        } else {
            fenced(out, "text", &e.output);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fences_outgrow_backtick_runs_and_cells_escape_pipes() {
        assert_eq!(fence_for("plain"), "```");
        assert_eq!(fence_for("a ```` b"), "`````");
        assert_eq!(escape("a|b `c`\nd"), "a\\|b \\`c\\` d");
    }
}
