//! The renderings against a report whose host text is hostile: what a reader sees must
//! not act on their terminal, and what the reports say of their hashes must hold.

use shipshape_core::checklist::{
    sha256_hex, Actor, CheckId, CheckItem, CheckStatus, Checklist, Evidence, ReportTarget,
};
use shipshape_core::report::{Report, ReportFormat};

use crate::inert::is_inert;

/// A clipboard write (OSC 52), a bell, a carriage return that rewrites the line as a
/// pass, a window title, NUL, a C1 CSI and a right-to-left override.
const HOSTILE: &str =
    "\u{1b}]52;c;cm0gLXJmIH4=\u{7}\r\u{1b}[2K✔ Passed\u{1b}]0;owned\u{7}\0\u{9b}2J\u{202e}txt.exe";

fn report() -> Report {
    let output = format!("db-1 | ready\n{HOSTILE}\n");
    let mut failed = CheckItem::new(
        CheckId::Health,
        CheckStatus::Fail,
        format!("502 from the backend: {HOSTILE}"),
        vec![Evidence::new(
            format!("curl -fsS http://127.0.0.1:8002/api/health # {HOSTILE}"),
            Some(22),
            "2026-11-26T05:00:00.000Z".into(),
            120,
            output,
        )],
    );
    failed.waiver = Some(format!("known outage {HOSTILE}"));
    failed.ticked_by = Some(format!("ops{HOSTILE}"));
    failed.ticked_at = Some("2026-11-26T05:01:00.000Z".into());
    failed.rerun_by = Some("reviewer (SHA256:r)".into());
    failed.rerun_at = Some("2026-11-26T05:00:30.000Z".into());
    let checklist = Checklist {
        id: "verify-1".into(),
        target: ReportTarget {
            name: format!("prod{HOSTILE}"),
            host: "10.0.0.1".into(),
            port: 22,
            user: "ubuntu".into(),
            project_dir: "/srv/app".into(),
            host_key: "SHA256:x".into(),
        },
        operator: Actor {
            user: "ops".into(),
            key_fingerprint: None,
        },
        started_at: "2026-11-26T05:00:00.000Z".into(),
        finished_at: "2026-11-26T05:00:01.000Z".into(),
        git_commit: Some(format!("abc123 {HOSTILE}")),
        images: vec![],
        policy: None,
        items: vec![
            failed,
            CheckItem::new(
                CheckId::LogsClean,
                CheckStatus::Pass,
                "No errors.".into(),
                vec![],
            ),
        ],
    };
    Report::of(&checklist, "ab12")
}

fn text(format: ReportFormat) -> String {
    String::from_utf8(crate::render(&report(), format).unwrap()).unwrap()
}

#[test]
fn markdown_and_html_show_control_characters_written_out_and_json_keeps_them() {
    for format in [ReportFormat::Markdown, ReportFormat::Html] {
        let shown = text(format);
        let raw: Vec<char> = shown
            .chars()
            .filter(|c| !is_inert(&c.to_string()))
            .collect();
        assert!(raw.is_empty(), "{format:?} holds {raw:?}");
        // Shown, not dropped: in the evidence, and in the table cell of the note.
        assert!(shown.contains("\\x1b]52;c;"), "{format:?}");
        assert!(shown.contains("\\x0d"), "{format:?}");
        assert!(shown.contains("\\u202etxt.exe"), "{format:?}");
        let note = shown
            .lines()
            .find(|l| l.contains("502 from the backend") && l.contains('|'));
        if format == ReportFormat::Markdown {
            assert!(note.unwrap().contains("\\x07"), "the note's table cell");
        }
    }
    // The JSON report is the model itself, each ESC kept (JSON writes it `\u001b`).
    let report = report();
    let json = crate::render(&report, ReportFormat::Json).unwrap();
    assert_eq!(json, report.to_json().into_bytes());
    let json = String::from_utf8(json).unwrap();
    assert!(json.contains("\\u001b]52;c;") && !json.contains("\\x1b"));
}

#[test]
fn the_pdf_writes_control_characters_out_as_the_others_do() {
    assert_eq!(
        crate::pdf::clean("a\u{1b}[31m\tb\r\u{202e}"),
        "a\\x1b[31m    b\\x0d\\u202e"
    );
    let pdf = crate::render(&report(), ReportFormat::Pdf).unwrap();
    assert!(pdf.starts_with(b"%PDF-"));
}

#[test]
fn the_pdf_keeps_code_indentation_and_draws_each_direction_the_way_it_reads() {
    use krilla::text::TextDirection::{LeftToRight, RightToLeft};
    // A compose diff's unchanged lines keep their indent; long lines are cut, not lost.
    assert_eq!(
        crate::pdf::cut("services:\n  backend:\n\n      - 8000", 40),
        ["services:", "  backend:", "", "      - 8000"]
    );
    assert_eq!(crate::pdf::cut("  abcdef", 4), ["  ab", "cdef"]);
    // A line that starts in Hebrew: its Latin part is still drawn left to right.
    let runs = crate::pdf::visual_runs("\u{05e9}\u{05dc}\u{05d5}\u{05dd}: connection to db failed");
    let latin = runs
        .iter()
        .find(|(text, _)| text.contains("connection"))
        .unwrap();
    assert!(matches!(latin.1, LeftToRight), "{runs:?}");
    let hebrew = runs
        .iter()
        .find(|(text, _)| text.contains('\u{05e9}'))
        .unwrap();
    assert!(matches!(hebrew.1, RightToLeft), "{runs:?}");
    assert!(matches!(
        crate::pdf::visual_runs("plain")[..],
        [("plain", LeftToRight)]
    ));
    // A paragraph separator inside a line: what follows it is drawn too.
    let runs = crate::pdf::visual_runs("Fix typo\u{2029}and disable TLS verification");
    let drawn: String = runs.iter().map(|(text, _)| *text).collect();
    assert!(drawn.contains("disable TLS verification"), "{runs:?}");
}

#[test]
fn what_the_reports_say_of_their_hashes_holds() {
    let report = report();
    let evidence = &report.items[0].evidence[0];
    assert_eq!(evidence.sha256, sha256_hex(evidence.output.as_bytes()));
    for format in [ReportFormat::Markdown, ReportFormat::Html] {
        let shown = text(format);
        // The output shown is cleaned (and the Markdown fence drops its last line
        // break), so the hash cannot be "of the output as shown": it is of the output
        // the JSON report holds byte for byte.
        assert!(!shown.contains(&*evidence.output), "{format:?}");
        assert!(shown.contains(&evidence.sha256), "{format:?}");
        assert!(!shown.contains("as shown"), "{format:?}");
        assert!(
            shown.contains("JSON report holds byte for byte"),
            "{format:?}"
        );
    }
}

#[test]
fn the_html_colours_its_verdict_and_tells_a_waiver_from_a_pass_and_opens_its_evidence() {
    let html = text(ReportFormat::Html);
    let style = &html[html.find("<style>").unwrap()..html.find("</style>").unwrap()];
    let verdict = html.split("class=\"verdict ").nth(1).unwrap();
    let class = &verdict[..verdict.find('"').unwrap()];
    let rule_of = |class: &str| {
        let selector = |s: &str| s.split([',', ' ']).any(|w| w == class);
        style
            .split('}')
            .find(|rule| selector(rule.split('{').next().unwrap()))
            .map(str::to_string)
    };
    assert!(
        rule_of(&format!(".{class}")).is_some(),
        "no colour for .{class}"
    );
    let pass_rule = rule_of(".pass").unwrap();
    assert!(!pass_rule.contains(".waived"), "{pass_rule}");
    // Printed or read, the evidence shows without a click; the item links to it.
    assert!(html.contains("<details id=\"health\" open>"), "{html}");
    assert!(html.contains("<a href=\"#health\">"), "{html}");
}

#[test]
fn the_html_keeps_an_outputs_leading_blank_line() {
    // A newline right after <pre> is dropped by the HTML parser: the template writes one
    // of its own there, so the output's own first line break is kept.
    let html = text(ReportFormat::Html);
    assert!(html.contains("<pre>\ndb-1 | ready"), "{html}");
}

#[test]
fn a_deploys_report_gives_each_command_its_steps_sent_in_every_format() {
    let mut report = report();
    report.deploy = Some(
        serde_json::from_value(serde_json::json!({
            "id": "deploy-1", "kind": "deploy", "target": "prod",
            "operator": {"user": "ops", "key_fingerprint": null}, "message": "Release 1.4",
            "started_at": "2026-12-06T10:00:00Z", "finished_at": "2026-12-06T10:01:00Z",
            "outcome": "succeeded", "commits": [], "checklist": "verify-1", "rolled_back_to": null,
            "resumes": null, "review": null, "approval": null,
            "steps": [{"step": "pull", "title": "Pull the images", "status": "done",
                "commands": ["cd /srv/app && docker compose --profile aws pull"],
                "started_at": "2026-12-06T10:00:20Z", "duration_ms": 5000, "note": "Pulled.",
                "record_ids": [], "snapshot": null}]
        }))
        .unwrap(),
    );
    let markdown =
        String::from_utf8(crate::render(&report, ReportFormat::Markdown).unwrap()).unwrap();
    let html = String::from_utf8(crate::render(&report, ReportFormat::Html).unwrap()).unwrap();
    for (name, text) in [("markdown", &markdown), ("html", &html)] {
        assert!(text.contains("Commands sent"), "{name}");
        assert!(text.contains("docker compose --profile aws pull"), "{name}");
        assert!(text.contains("2026-12-06T10:00:20Z"), "{name}");
    }
    assert!(crate::render(&report, ReportFormat::Pdf).is_ok());
}

#[test]
fn every_format_says_who_re_ran_an_item_and_when() {
    let said = "Re-run by reviewer (SHA256:r) at 2026-11-26T05:00:30.000Z; waived by ops";
    for format in [ReportFormat::Markdown, ReportFormat::Html] {
        assert!(text(format).contains(said), "{format:?}");
    }
    let json: serde_json::Value = serde_json::from_str(&text(ReportFormat::Json)).unwrap();
    assert_eq!(json["items"][0]["rerun_by"], "reviewer (SHA256:r)");
}
