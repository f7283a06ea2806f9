//! The rendered compose config before → after, side by side: reviewers read a change to
//! a service's command or ports the way they read a code review. Unchanged stretches
//! longer than a few lines fold into one "unchanged" row, so a one-line change in a long
//! file stays one screen.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use similar::{DiffOp, TextDiff};
use ts_rs::TS;

/// Unchanged lines kept around each change.
const CONTEXT: usize = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema, TS)]
#[serde(rename_all = "snake_case")]
pub enum DiffKind {
    Same,
    /// A line only before.
    Removed,
    /// A line only after.
    Added,
    /// A line before, replaced by the line after.
    Changed,
    /// Unchanged lines folded away; `before` says how many.
    Folded,
}

/// One row of the side-by-side view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema, TS)]
pub struct DiffRow {
    pub kind: DiffKind,
    /// 1-based line numbers.
    pub before_line: Option<u32>,
    pub before: Option<String>,
    pub after_line: Option<u32>,
    pub after: Option<String>,
}

impl DiffRow {
    fn line(kind: DiffKind, before: Option<(usize, &str)>, after: Option<(usize, &str)>) -> Self {
        DiffRow {
            kind,
            before_line: before.map(|(n, _)| n as u32 + 1),
            before: before.map(|(_, l)| l.to_string()),
            after_line: after.map(|(n, _)| n as u32 + 1),
            after: after.map(|(_, l)| l.to_string()),
        }
    }

    fn folded(lines: usize) -> Self {
        DiffRow {
            kind: DiffKind::Folded,
            before_line: None,
            before: Some(format!("{lines} unchanged line(s)")),
            after_line: None,
            after: None,
        }
    }
}

/// The rows that show `before` → `after`; none when they are the same.
pub fn side_by_side(before: &str, after: &str) -> Vec<DiffRow> {
    let old: Vec<&str> = before.lines().collect();
    let new: Vec<&str> = after.lines().collect();
    let diff = TextDiff::from_slices(&old, &new);
    let groups = diff.grouped_ops(CONTEXT);
    let mut rows = Vec::new();
    let mut shown_to = 0;
    for group in &groups {
        let Some(first) = group.first() else { continue };
        let start = first.old_range().start;
        if start > shown_to {
            rows.push(DiffRow::folded(start - shown_to));
        }
        for op in group {
            push_op(&mut rows, op, &old, &new);
        }
        shown_to = group.last().map_or(shown_to, |op| op.old_range().end);
    }
    if !rows.is_empty() && shown_to < old.len() {
        rows.push(DiffRow::folded(old.len() - shown_to));
    }
    rows
}

fn push_op(rows: &mut Vec<DiffRow>, op: &DiffOp, old: &[&str], new: &[&str]) {
    let at = |lines: &[&'_ str], n: usize| -> (usize, String) { (n, lines[n].to_string()) };
    let (o, n) = (op.old_range(), op.new_range());
    let pairs = o.len().max(n.len());
    for i in 0..pairs {
        let before = (i < o.len()).then(|| at(old, o.start + i));
        let after = (i < n.len()).then(|| at(new, n.start + i));
        let kind = match (op, &before, &after) {
            (DiffOp::Equal { .. }, _, _) => DiffKind::Same,
            (_, Some(_), Some(_)) => DiffKind::Changed,
            (_, Some(_), None) => DiffKind::Removed,
            _ => DiffKind::Added,
        };
        rows.push(DiffRow::line(
            kind,
            before.as_ref().map(|(n, l)| (*n, l.as_str())),
            after.as_ref().map(|(n, l)| (*n, l.as_str())),
        ));
    }
}

/// The rows as a unified diff (`-`, `+`, two spaces), for reports.
pub fn unified(rows: &[DiffRow]) -> String {
    let mut out = String::new();
    for row in rows {
        let mut line = |prefix: &str, text: &Option<String>| {
            if let Some(text) = text {
                out.push_str(prefix);
                out.push_str(text);
                out.push('\n');
            }
        };
        match row.kind {
            DiffKind::Same => line("  ", &row.after),
            DiffKind::Folded => line("… ", &row.before),
            DiffKind::Removed => line("- ", &row.before),
            DiffKind::Added => line("+ ", &row.after),
            DiffKind::Changed => {
                line("- ", &row.before);
                line("+ ", &row.after);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_changed_line_pairs_and_far_lines_fold() {
        let before: String = (1..=20).map(|i| format!("line {i}\n")).collect();
        let after = before.replace("line 10\n", "line ten\n") + "line 21\n";
        let rows = side_by_side(&before, &after);
        let kinds: Vec<DiffKind> = rows.iter().map(|r| r.kind).collect();
        assert_eq!(kinds[0], DiffKind::Folded);
        assert_eq!(rows[0].before.as_deref(), Some("6 unchanged line(s)"));
        let changed = rows.iter().find(|r| r.kind == DiffKind::Changed).unwrap();
        assert_eq!(changed.before.as_deref(), Some("line 10"));
        assert_eq!(changed.after.as_deref(), Some("line ten"));
        assert_eq!(
            (changed.before_line, changed.after_line),
            (Some(10), Some(10))
        );
        let added = rows.iter().find(|r| r.kind == DiffKind::Added).unwrap();
        assert_eq!(added.after.as_deref(), Some("line 21"));
        assert!(
            kinds.contains(&DiffKind::Folded)
                && kinds.iter().filter(|k| **k == DiffKind::Folded).count() == 2
        );
        let text = unified(&rows);
        assert!(text.contains("- line 10\n+ line ten\n"), "{text}");
        assert!(side_by_side(&before, &before).is_empty());
    }
}
