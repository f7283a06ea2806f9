//! The report as a PDF an auditor files: A4, embedded DejaVu fonts (so it prints the
//! same everywhere and its text can be extracted), tables, statuses in colour *and*
//! words, "Page N of M" on every page. Written with krilla: a lean writer with font
//! subsetting and ToUnicode maps, and no browser or system library behind it.
//!
//! Layout happens first into a list of pages of drawing operations, so the page count
//! is known when the footers are drawn.

use std::sync::Arc;

use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point, Rect};
use krilla::metadata::Metadata;
use krilla::page::PageSettings;
use krilla::paint::Fill;
use krilla::text::{Font, TextDirection};
use krilla::{Data, Document};
use shipshape_core::checklist::{CheckGroup, CheckItem, CheckStatus};
use shipshape_core::report::{Report, Verdict};

use crate::words;

const SANS: &[u8] = include_bytes!("../fonts/DejaVuSans.ttf");
const BOLD: &[u8] = include_bytes!("../fonts/DejaVuSans-Bold.ttf");
const MONO: &[u8] = include_bytes!("../fonts/DejaVuSansMono.ttf");

const WIDTH: f32 = 595.0;
const HEIGHT: f32 = 842.0;
const MARGIN: f32 = 48.0;
const BOTTOM: f32 = HEIGHT - 56.0;
/// A PDF keeps the start of each long output: the full output is in the JSON and HTML
/// reports, and its hash is printed either way.
const MAX_OUTPUT_LINES: usize = 60;

#[derive(Clone, Copy)]
enum Face {
    Sans,
    Bold,
    Mono,
}

type Colour = (u8, u8, u8);
const INK: Colour = (27, 31, 36);
const MUTED: Colour = (87, 96, 106);
const RULE: Colour = (208, 215, 222);
const SHADE: Colour = (246, 248, 250);

fn status_colour(status: CheckStatus) -> Colour {
    match status {
        CheckStatus::Pass => (26, 127, 55),
        CheckStatus::Fail => (207, 34, 46),
        // A waived item failed and was accepted: not the colour of a pass.
        CheckStatus::Warn | CheckStatus::Manual | CheckStatus::Waived => (154, 103, 0),
        _ => MUTED,
    }
}

enum Op {
    Text {
        x: f32,
        y: f32,
        face: Face,
        size: f32,
        colour: Colour,
        text: String,
    },
    Rect {
        x: f32,
        y: f32,
        w: f32,
        h: f32,
        colour: Colour,
    },
}

struct Fonts {
    faces: [(Font, rustybuzz::Face<'static>); 3],
}

impl Fonts {
    fn load() -> Fonts {
        let load = |bytes: &'static [u8]| {
            let font =
                Font::new(Data::from(Arc::new(bytes.to_vec())), 0).expect("the bundled font loads");
            let face = rustybuzz::Face::from_slice(bytes, 0).expect("the bundled font parses");
            (font, face)
        };
        Fonts {
            faces: [load(SANS), load(BOLD), load(MONO)],
        }
    }

    fn get(&self, face: Face) -> &(Font, rustybuzz::Face<'static>) {
        &self.faces[face as usize]
    }

    fn width(&self, face: Face, size: f32, text: &str) -> f32 {
        let (font, shaper) = self.get(face);
        let mut buffer = rustybuzz::UnicodeBuffer::new();
        buffer.push_str(text);
        buffer.guess_segment_properties();
        buffer.set_direction(rustybuzz::Direction::LeftToRight); // widths, whichever way
        let shaped = rustybuzz::shape(shaper, &[], buffer);
        let units: i32 = shaped.glyph_positions().iter().map(|p| p.x_advance).sum();
        units as f32 / font.units_per_em() * size
    }
}

/// Lays text out page by page.
struct Layout<'f> {
    fonts: &'f Fonts,
    pages: Vec<Vec<Op>>,
    y: f32,
}

impl<'f> Layout<'f> {
    fn new(fonts: &'f Fonts) -> Self {
        Layout {
            fonts,
            pages: vec![Vec::new()],
            y: MARGIN,
        }
    }

    fn ops(&mut self) -> &mut Vec<Op> {
        self.pages.last_mut().expect("a page")
    }

    /// Starts a new page unless `height` more fits on this one.
    fn room(&mut self, height: f32) {
        if self.y + height > BOTTOM {
            self.pages.push(Vec::new());
            self.y = MARGIN;
        }
    }

    fn text(&mut self, x: f32, y: f32, face: Face, size: f32, colour: Colour, text: &str) {
        self.ops().push(Op::Text {
            x,
            y,
            face,
            size,
            colour,
            text: text.to_string(),
        });
    }

    fn rect(&mut self, x: f32, y: f32, w: f32, h: f32, colour: Colour) {
        self.ops().push(Op::Rect { x, y, w, h, colour });
    }

    /// Breaks `text` into lines no wider than `width`, at spaces where it can and inside
    /// a word where it must (hashes, paths).
    fn wrap(&self, face: Face, size: f32, text: &str, width: f32) -> Vec<String> {
        let mut lines = Vec::new();
        for paragraph in clean(text).split('\n') {
            let mut line = String::new();
            for word in paragraph.split(' ') {
                let candidate = if line.is_empty() {
                    word.to_string()
                } else {
                    format!("{line} {word}")
                };
                if self.fonts.width(face, size, &candidate) <= width {
                    line = candidate;
                    continue;
                }
                if !line.is_empty() {
                    lines.push(std::mem::take(&mut line));
                }
                for c in word.chars() {
                    line.push(c);
                    if self.fonts.width(face, size, &line) > width {
                        line.pop();
                        lines.push(std::mem::replace(&mut line, c.to_string()));
                    }
                }
            }
            lines.push(line);
        }
        lines
    }

    /// Monospaced text cut at the width, every space kept: indentation is what tells
    /// structure in YAML, diffs and tracebacks, and word wrapping would drop it.
    fn cut(&self, size: f32, text: &str, width: f32) -> Vec<String> {
        let per_line = (width / self.fonts.width(Face::Mono, size, "0")).floor();
        cut(text, per_line.max(1.0) as usize)
    }

    /// A paragraph across the page's width (or from `x`).
    fn paragraph(&mut self, face: Face, size: f32, colour: Colour, text: &str) {
        let lead = size * 1.4;
        for line in self.wrap(face, size, text, WIDTH - 2.0 * MARGIN) {
            self.room(lead);
            self.y += lead;
            self.text(MARGIN, self.y - size * 0.3, face, size, colour, &line);
        }
    }

    fn heading(&mut self, text: &str, size: f32) {
        self.room(size * 3.0);
        self.y += size * 1.2;
        self.paragraph(Face::Bold, size, INK, text);
        self.rect(MARGIN, self.y + 3.0, WIDTH - 2.0 * MARGIN, 0.7, RULE);
        self.y += 8.0;
    }

    /// A table row: cells of text in columns of the given widths, wrapped; the first
    /// cell may carry its own colour and face.
    fn row(&mut self, widths: &[f32], cells: &[(Face, Colour, String)], shade: bool) {
        let size = 8.5;
        let lead = size * 1.35;
        let wrapped: Vec<Vec<String>> = cells
            .iter()
            .zip(widths)
            .map(|((face, _, text), w)| self.wrap(*face, size, text, w - 8.0))
            .collect();
        let lines = wrapped.iter().map(Vec::len).max().unwrap_or(1).max(1);
        let height = lines as f32 * lead + 6.0;
        self.room(height);
        let total: f32 = widths.iter().sum();
        if shade {
            self.rect(MARGIN, self.y, total, height, SHADE);
        }
        let mut x = MARGIN;
        for (((face, colour, _), lines), w) in cells.iter().zip(&wrapped).zip(widths) {
            for (i, line) in lines.iter().enumerate() {
                let baseline = self.y + 3.0 + (i as f32 + 1.0) * lead - size * 0.3;
                self.text(x + 4.0, baseline, *face, size, *colour, line);
            }
            x += w;
        }
        self.y += height;
        self.rect(MARGIN, self.y, total, 0.5, RULE);
    }

    /// Monospaced text in a shaded box, split across pages as needed.
    fn code(&mut self, text: &str) {
        let size = 7.5;
        let lead = size * 1.3;
        let lines = self.cut(size, text, WIDTH - 2.0 * MARGIN - 8.0);
        for line in lines {
            self.room(lead);
            self.rect(MARGIN, self.y, WIDTH - 2.0 * MARGIN, lead, SHADE);
            self.y += lead;
            self.text(
                MARGIN + 4.0,
                self.y - size * 0.3,
                Face::Mono,
                size,
                INK,
                &line,
            );
        }
        self.y += 4.0;
    }
}

/// `text`, cleaned, in lines of at most `per_line` characters.
pub(crate) fn cut(text: &str, per_line: usize) -> Vec<String> {
    let mut lines = Vec::new();
    for paragraph in clean(text).split('\n') {
        let chars: Vec<char> = paragraph.chars().collect();
        match chars.is_empty() {
            true => lines.push(String::new()),
            false => lines.extend(chars.chunks(per_line).map(|c| c.iter().collect())),
        }
    }
    lines
}

/// A line's runs in the order they are drawn, left to right, each with its direction
/// (Unicode's bidirectional algorithm, the line read as left-to-right text): a line that
/// starts with Hebrew or Arabic keeps its Latin part readable, and each part reads as it
/// would in the HTML report.
pub(crate) fn visual_runs(line: &str) -> Vec<(&str, TextDirection)> {
    let bidi = unicode_bidi::BidiInfo::new(line, Some(unicode_bidi::Level::ltr()));
    let Some(paragraph) = bidi.paragraphs.first() else {
        return Vec::new();
    };
    let (levels, runs) = bidi.visual_runs(paragraph, paragraph.range.clone());
    runs.into_iter()
        .map(|run| {
            let direction = match levels[run.start].is_rtl() {
                true => TextDirection::RightToLeft,
                false => TextDirection::LeftToRight,
            };
            (&line[run], direction)
        })
        .collect()
}

/// Text a PDF can show: control characters and bidi overrides written out as every
/// rendering writes them ([`crate::inert::clean`]), tabs as spaces.
pub(crate) fn clean(text: &str) -> String {
    crate::inert::clean(text).replace('\t', "    ")
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
                (Face::Bold, INK, "Registry digest or image id".into()),
            ],
            true,
        );
        for image in &report.images {
            let digest = image
                .digests
                .first()
                .cloned()
                .unwrap_or_else(|| image.id.clone());
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
        // Cleaned before it is split, so a carriage return is shown, not dropped.
        let output = clean(&e.output);
        let lines: Vec<&str> = output.lines().collect();
        let shown = lines.len().min(MAX_OUTPUT_LINES);
        let mut text = lines[..shown].join("\n");
        if lines.len() > shown {
            text += &format!(
                "\n[… {} more lines: the full output is in the HTML report, and byte for byte in the JSON report]",
                lines.len() - shown
            );
        }
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
        for op in ops.iter().chain(&footer) {
            match op {
                Op::Rect { x, y, w, h, colour } => {
                    let mut path = PathBuilder::new();
                    if let Some(rect) = Rect::from_xywh(*x, *y, *w, *h) {
                        path.push_rect(rect);
                    }
                    if let Some(path) = path.finish() {
                        surface.set_fill(Some(fill(*colour)));
                        surface.draw_path(&path);
                    }
                }
                Op::Text {
                    x,
                    y,
                    face,
                    size,
                    colour,
                    text,
                } => {
                    surface.set_fill(Some(fill(*colour)));
                    let font = fonts.get(*face).0.clone();
                    // The page footers' target name and record come here unwrapped.
                    let text = clean(text);
                    let mut x = *x;
                    for (run, direction) in visual_runs(&text) {
                        surface.draw_text(
                            Point::from_xy(x, *y),
                            font.clone(),
                            *size,
                            run,
                            false,
                            direction,
                        );
                        x += fonts.width(*face, *size, run);
                    }
                }
            }
        }
        surface.finish();
        page.finish();
    }
    document
        .finish()
        .map_err(|e| format!("the PDF could not be written: {e:?}"))
}

fn fill(colour: Colour) -> Fill {
    Fill {
        paint: rgb::Color::new(colour.0, colour.1, colour.2).into(),
        ..Default::default()
    }
}
