//! The report as a PDF an auditor files: A4, embedded DejaVu fonts (so it prints the
//! same everywhere and its text can be extracted), tables, statuses in colour *and*
//! words, "Page N of M" on every page. Written with krilla: a lean writer with font
//! subsetting and ToUnicode maps, and no browser or system library behind it.
//!
//! Layout happens first into a list of pages of drawing operations, so the page count
//! is known when the footers are drawn.

use krilla::metadata::Metadata;
use krilla::page::PageSettings;
use krilla::Document;
use shipshape_core::checklist::{CheckGroup, CheckItem, CheckStatus};
use shipshape_core::report::{Report, Verdict};

pub(crate) use page::clean;
#[cfg(test)]
pub(crate) use page::{cut, visual_runs};
use page::{Colour, Face, Fonts, Layout, Op, HEIGHT, INK, MARGIN, MUTED, WIDTH};

use crate::words;

mod page;

fn status_colour(status: CheckStatus) -> Colour {
    match status {
        CheckStatus::Pass => (26, 127, 55),
        CheckStatus::Fail => (207, 34, 46),
        // A waived item failed and was accepted: not the colour of a pass.
        CheckStatus::Warn | CheckStatus::Manual | CheckStatus::Waived => (154, 103, 0),
        _ => MUTED,
    }
}

fn status_cell(status: CheckStatus) -> (Face, Colour, String) {
    (
        Face::Bold,
        status_colour(status),
        format!("{} {}", words::icon(status), words::label(status)),
    )
}

fn lay_out(report: &Report, layout: &mut Layout) {
    let t = &report.target;
    layout.paragraph(
        Face::Bold,
        18.0,
        INK,
        &format!("Deployment verification: {}", t.name),
    );
    let verdict_colour = match report.verdict {
        Verdict::Passed => status_colour(CheckStatus::Pass),
        Verdict::Failed => status_colour(CheckStatus::Fail),
        Verdict::Incomplete => status_colour(CheckStatus::Manual),
    };
    layout.y += 4.0;
    layout.paragraph(
        Face::Bold,
        12.0,
        verdict_colour,
        &format!("Verdict: {}", words::verdict(report.verdict)),
    );
    layout.y += 6.0;
    let sans = |text: String| (Face::Sans, INK, text);
    for (i, (field, value)) in words::header_fields(report).into_iter().enumerate() {
        layout.row(
            &[130.0, 369.0],
            &[(Face::Bold, INK, field.to_string()), sans(value)],
            i % 2 == 0,
        );
    }

    layout.heading("Summary", 12.0);
    let counts: Vec<String> = report
        .summary
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(s, n)| format!("{} {}: {n}", words::icon(*s), words::label(*s)))
        .collect();
    layout.paragraph(Face::Sans, 10.0, INK, &counts.join("    "));

    if !report.images.is_empty() {
        layout.heading("Images", 12.0);
        let widths = [90.0, 150.0, 259.0];
        layout.row(
            &widths,
            &[
                (Face::Bold, INK, "Service".into()),
                (Face::Bold, INK, "Image".into()),
                (Face::Bold, INK, "Image id, registry digests".into()),
            ],
            true,
        );
        for image in &report.images {
            // All of them, as the other formats print them.
            let digest = std::iter::once(image.id.as_str())
                .chain(image.digests.iter().map(String::as_str))
                .collect::<Vec<_>>()
                .join(", ");
            layout.row(
                &widths,
                &[
                    sans(image.service.clone()),
                    sans(image.image.clone()),
                    (Face::Mono, INK, digest),
                ],
                false,
            );
        }
    }

    if let Some(part) = crate::deploy::part(report) {
        deploy(layout, &part);
    }

    for group in [CheckGroup::Verification, CheckGroup::NeverDo] {
        layout.heading(words::group(group), 12.0);
        let widths = [88.0, 150.0, 261.0];
        layout.row(
            &widths,
            &[
                (Face::Bold, INK, "Status".into()),
                (Face::Bold, INK, "Item".into()),
                (Face::Bold, INK, "Verdict".into()),
            ],
            true,
        );
        for item in report.items.iter().filter(|i| i.group == group) {
            let mut verdict = item.note.clone();
            if let Some(reason) = &item.waiver {
                verdict += &format!(" Waiver: {reason}");
            }
            let ticked = words::ticked(item);
            if !ticked.is_empty() {
                verdict += &format!(" ({ticked})");
            }
            layout.row(
                &widths,
                &[
                    status_cell(item.status),
                    sans(format!("{} ({})", item.title, item.id.as_str())),
                    sans(verdict),
                ],
                false,
            );
        }
    }

    layout.heading("Evidence", 12.0);
    for item in &report.items {
        evidence(layout, item);
    }
    layout.y += 10.0;
    layout.paragraph(
        Face::Sans,
        7.5,
        MUTED,
        &format!(
            "Made by Shipshape from journal record {} at chain head {}. Each SHA-256 is of the command's full output as captured and stored (after redaction), which the JSON report holds byte for byte; shown here, its control characters are written out (as \\x1b).",
            report.record_id, report.journal_head
        ),
    );
}

fn deploy(layout: &mut Layout, part: &crate::deploy::DeployPart) {
    layout.heading(&part.heading, 12.0);
    for (i, (field, value)) in part.fields.iter().enumerate() {
        layout.row(
            &[130.0, 369.0],
            &[
                (Face::Bold, INK, field.to_string()),
                (Face::Sans, INK, clean(value)),
            ],
            i % 2 == 0,
        );
    }
    let page = WIDTH - 2.0 * MARGIN;
    for table in &part.tables {
        layout.y += 6.0;
        layout.paragraph(Face::Bold, 10.0, INK, table.title);
        let widths = vec![page / table.columns.len() as f32; table.columns.len()];
        let head: Vec<_> = table
            .columns
            .iter()
            .map(|c| (Face::Bold, INK, c.to_string()))
            .collect();
        layout.row(&widths, &head, true);
        for row in &table.rows {
            let cells: Vec<_> = row.iter().map(|c| (Face::Sans, INK, clean(c))).collect();
            layout.row(&widths, &cells, false);
        }
    }
    if let Some((title, text)) = &part.diff {
        layout.y += 6.0;
        layout.paragraph(Face::Bold, 10.0, INK, title);
        layout.code(&clean(text));
    }
}

fn evidence(layout: &mut Layout, item: &CheckItem) {
    layout.room(60.0);
    layout.y += 8.0;
    let (_, colour, status) = status_cell(item.status);
    layout.paragraph(
        Face::Bold,
        10.0,
        colour,
        &format!("{status}  {} ({})", item.title, item.id.as_str()),
    );
    layout.paragraph(Face::Sans, 8.5, INK, &item.note);
    for (i, e) in item.evidence.iter().enumerate() {
        layout.y += 3.0;
        let exit = e
            .exit_code
            .map_or("none (did not finish)".into(), |c| c.to_string());
        layout.paragraph(
            Face::Sans,
            7.5,
            MUTED,
            &format!(
                "Command {} of {}: exit code {exit}, started {}, took {} ms, SHA-256 {}",
                i + 1,
                item.evidence.len(),
                e.started_at,
                e.duration_ms,
                e.sha256
            ),
        );
        match e.is_request() {
            true => layout.code(&e.command),
            false => layout.code(&format!("$ {}", e.command)),
        }
        // Whole, as the other formats print it (the signed PDF is what an auditor files,
        // and its hash above is of all of it); cleaned, so a carriage return is shown.
        let mut text = clean(&e.output).trim_end_matches('\n').to_string();
        if text.is_empty() {
            text = "(no output)".into();
        }
        layout.code(&text);
    }
}

pub fn render(report: &Report) -> Result<Vec<u8>, String> {
    let fonts = Fonts::load();
    let mut layout = Layout::new(&fonts);
    lay_out(report, &mut layout);
    let total = layout.pages.len();
    let mut document = Document::new();
    document.set_metadata(
        Metadata::new()
            .title(clean(&format!(
                "Deployment verification: {}",
                report.target.name
            )))
            .creator("Shipshape".to_string())
            .authors(vec![clean(&report.operator)]),
    );
    for (n, ops) in layout.pages.iter().enumerate() {
        let settings = PageSettings::from_wh(WIDTH, HEIGHT).expect("A4 is a valid page");
        let mut page = document.start_page_with(settings);
        let mut surface = page.surface();
        let footer = [
            (
                MARGIN,
                format!("Shipshape · {} · {}", report.target.name, report.record_id),
            ),
            (
                WIDTH
                    - MARGIN
                    - fonts.width(Face::Sans, 7.5, &format!("Page {} of {total}", n + 1)),
                format!("Page {} of {total}", n + 1),
            ),
        ];
        let footer: Vec<Op> = footer
            .into_iter()
            .map(|(x, text)| Op::Text {
                x,
                y: HEIGHT - 28.0,
                face: Face::Sans,
                size: 7.5,
                colour: MUTED,
                text,
            })
            .collect();
        page::draw(&mut surface, &fonts, ops.iter().chain(&footer));
        surface.finish();
        page.finish();
    }
    document
        .finish()
        .map_err(|e| format!("the PDF could not be written: {e:?}"))
}
