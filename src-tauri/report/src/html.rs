//! The report as one self-contained HTML file: no external requests (inline styles, a
//! meta CSP that allows nothing else), a print stylesheet, and askama's escaping of every
//! value by default, since host output can hold any markup. Escaping for HTML leaves
//! control characters be, and the file is read with `cat` too, so the whole page then
//! passes through [`crate::inert::clean`].

use askama::Template;
use shipshape_core::checklist::{CheckGroup, CheckItem};
use shipshape_core::report::Report;

use crate::words;

pub struct EvidenceView {
    pub command: String,
    pub exit: String,
    pub started_at: String,
    pub duration_ms: u64,
    pub output: String,
    pub sha256: String,
}

pub struct ItemView {
    pub id: &'static str,
    pub status: &'static str,
    pub icon: &'static str,
    pub label: &'static str,
    pub title: String,
    pub note: String,
    pub waiver: Option<String>,
    pub ticked: String,
    pub evidence: Vec<EvidenceView>,
}

impl ItemView {
    fn of(item: &CheckItem) -> ItemView {
        ItemView {
            id: item.id.as_str(),
            status: item.status.as_str(),
            icon: words::icon(item.status),
            label: words::label(item.status),
            title: item.title.clone(),
            note: item.note.clone(),
            waiver: item.waiver.clone(),
            ticked: words::ticked(item),
            evidence: item
                .evidence
                .iter()
                .map(|e| EvidenceView {
                    command: e.command.clone(),
                    exit: e
                        .exit_code
                        .map_or("none (did not finish)".into(), |c| c.to_string()),
                    started_at: e.started_at.clone(),
                    duration_ms: e.duration_ms,
                    output: e.output.clone(),
                    sha256: e.sha256.clone(),
                })
                .collect(),
        }
    }
}

#[derive(Template)]
#[template(path = "report.html")]
struct Page<'a> {
    report: &'a Report,
    verdict: &'static str,
    header: Vec<(&'static str, String)>,
    summary: Vec<(&'static str, &'static str, &'static str, usize)>,
    groups: Vec<(&'static str, Vec<ItemView>)>,
    items: Vec<ItemView>,
    deploy: Option<crate::deploy::DeployPart>,
}

/// The report as an HTML page, with every control character written out.
pub fn render(report: &Report) -> String {
    let group = |g: CheckGroup| {
        let items = report
            .items
            .iter()
            .filter(|i| i.group == g)
            .map(ItemView::of)
            .collect();
        (words::group(g), items)
    };
    Page {
        report,
        verdict: words::verdict(report.verdict),
        header: words::header_fields(report),
        summary: report
            .summary
            .iter()
            .map(|(s, n)| (s.as_str(), words::icon(*s), words::label(*s), *n))
            .collect(),
        groups: vec![group(CheckGroup::Verification), group(CheckGroup::NeverDo)],
        items: report.items.iter().map(ItemView::of).collect(),
        deploy: crate::deploy::part(report),
    }
    .render()
    .map(|page| crate::inert::clean(&page).into_owned())
    .expect("the report template renders")
}
