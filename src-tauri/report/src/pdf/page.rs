//! How text is set on an A4 page: the embedded fonts, widths measured by shaping, lines
//! wrapped (prose at spaces, code cut at the width with its spaces kept), each run of a
//! line drawn in its own direction, and the drawing operations a page is laid out into
//! before it is drawn (so the page count is known when the footers are).

use std::sync::Arc;

use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point, Rect};
use krilla::paint::Fill;
use krilla::surface::Surface;
use krilla::text::{Font, TextDirection};
use krilla::Data;

const SANS: &[u8] = include_bytes!("../../fonts/DejaVuSans.ttf");
const BOLD: &[u8] = include_bytes!("../../fonts/DejaVuSans-Bold.ttf");
const MONO: &[u8] = include_bytes!("../../fonts/DejaVuSansMono.ttf");

pub(super) const WIDTH: f32 = 595.0;
pub(super) const HEIGHT: f32 = 842.0;
pub(super) const MARGIN: f32 = 48.0;
pub(super) const BOTTOM: f32 = HEIGHT - 56.0;

#[derive(Clone, Copy)]
pub(super) enum Face {
    Sans,
    Bold,
    Mono,
}

pub(super) type Colour = (u8, u8, u8);
pub(super) const INK: Colour = (27, 31, 36);
pub(super) const MUTED: Colour = (87, 96, 106);
pub(super) const RULE: Colour = (208, 215, 222);
pub(super) const SHADE: Colour = (246, 248, 250);

pub(super) enum Op {
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

pub(super) struct Fonts {
    faces: [(Font, rustybuzz::Face<'static>); 3],
}

impl Fonts {
    pub(super) fn load() -> Fonts {
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

    pub(super) fn get(&self, face: Face) -> &(Font, rustybuzz::Face<'static>) {
        &self.faces[face as usize]
    }

    pub(super) fn width(&self, face: Face, size: f32, text: &str) -> f32 {
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
pub(super) struct Layout<'f> {
    fonts: &'f Fonts,
    pub(super) pages: Vec<Vec<Op>>,
    pub(super) y: f32,
}

impl<'f> Layout<'f> {
    pub(super) fn new(fonts: &'f Fonts) -> Self {
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
    pub(super) fn room(&mut self, height: f32) {
        if self.y + height > BOTTOM {
            self.pages.push(Vec::new());
            self.y = MARGIN;
        }
    }

    pub(super) fn text(
        &mut self,
        x: f32,
        y: f32,
        face: Face,
        size: f32,
        colour: Colour,
        text: &str,
    ) {
        self.ops().push(Op::Text {
            x,
            y,
            face,
            size,
            colour,
            text: text.to_string(),
        });
    }

    pub(super) fn rect(&mut self, x: f32, y: f32, w: f32, h: f32, colour: Colour) {
        self.ops().push(Op::Rect { x, y, w, h, colour });
    }

    /// Breaks `text` into lines no wider than `width`, at spaces where it can and inside
    /// a word where it must (hashes, paths).
    pub(super) fn wrap(&self, face: Face, size: f32, text: &str, width: f32) -> Vec<String> {
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
    pub(super) fn cut(&self, size: f32, text: &str, width: f32) -> Vec<String> {
        let per_line = (width / self.fonts.width(Face::Mono, size, "0")).floor();
        cut(text, per_line.max(1.0) as usize)
    }

    /// A paragraph across the page's width (or from `x`).
    pub(super) fn paragraph(&mut self, face: Face, size: f32, colour: Colour, text: &str) {
        let lead = size * 1.4;
        for line in self.wrap(face, size, text, WIDTH - 2.0 * MARGIN) {
            self.room(lead);
            self.y += lead;
            self.text(MARGIN, self.y - size * 0.3, face, size, colour, &line);
        }
    }

    pub(super) fn heading(&mut self, text: &str, size: f32) {
        self.room(size * 3.0);
        self.y += size * 1.2;
        self.paragraph(Face::Bold, size, INK, text);
        self.rect(MARGIN, self.y + 3.0, WIDTH - 2.0 * MARGIN, 0.7, RULE);
        self.y += 8.0;
    }

    /// A table row: cells of text in columns of the given widths, wrapped; the first
    /// cell may carry its own colour and face.
    pub(super) fn row(&mut self, widths: &[f32], cells: &[(Face, Colour, String)], shade: bool) {
        let size = 8.5;
        let lead = size * 1.35;
        let wrapped: Vec<Vec<String>> = cells
            .iter()
            .zip(widths)
            .map(|((face, _, text), w)| self.wrap(*face, size, text, w - 8.0))
            .collect();
        let lines = wrapped.iter().map(Vec::len).max().unwrap_or(1).max(1);
        let total: f32 = widths.iter().sum();
        // A row taller than a page (a step's long note) goes on over the pages it needs,
        // each part a row of its own: nothing is drawn past the page's foot.
        let fits = |y: f32| (((BOTTOM - y - 6.0) / lead).floor().max(0.0)) as usize;
        let mut from = 0;
        while from < lines {
            if fits(self.y) == 0 || (from == 0 && fits(self.y) < lines && fits(MARGIN) >= lines) {
                self.pages.push(Vec::new());
                self.y = MARGIN;
            }
            let part = fits(self.y).max(1).min(lines - from);
            let height = part as f32 * lead + 6.0;
            if shade {
                self.rect(MARGIN, self.y, total, height, SHADE);
            }
            let mut x = MARGIN;
            for (((face, colour, _), cell), w) in cells.iter().zip(&wrapped).zip(widths) {
                for (i, line) in cell.iter().skip(from).take(part).enumerate() {
                    let baseline = self.y + 3.0 + (i as f32 + 1.0) * lead - size * 0.3;
                    self.text(x + 4.0, baseline, *face, size, *colour, line);
                }
                x += w;
            }
            self.y += height;
            self.rect(MARGIN, self.y, total, 0.5, RULE);
            from += part;
        }
    }

    /// Monospaced text in a shaded box, split across pages as needed.
    pub(super) fn code(&mut self, text: &str) {
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
    // Every paragraph: a U+2029 inside a line starts another, which must not be lost.
    let mut drawn = Vec::new();
    for paragraph in &bidi.paragraphs {
        let (levels, runs) = bidi.visual_runs(paragraph, paragraph.range.clone());
        drawn.extend(runs.into_iter().map(|run| {
            let direction = match levels[run.start].is_rtl() {
                true => TextDirection::RightToLeft,
                false => TextDirection::LeftToRight,
            };
            (&line[run], direction)
        }));
    }
    drawn
}

/// Text a PDF can show: control characters and bidi overrides written out as every
/// rendering writes them ([`crate::inert::clean`]), tabs as spaces.
pub(crate) fn clean(text: &str) -> String {
    crate::inert::clean(text).replace('\t', "    ")
}

/// Draws `ops` (a page's, then its footer's) on `surface`.
pub(super) fn draw<'o>(surface: &mut Surface, fonts: &Fonts, ops: impl Iterator<Item = &'o Op>) {
    for op in ops {
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
}

fn fill(colour: Colour) -> Fill {
    Fill {
        paint: rgb::Color::new(colour.0, colour.1, colour.2).into(),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_taller_than_a_page_goes_on_over_the_next_pages() {
        let fonts = Fonts::load();
        let mut layout = Layout::new(&fonts);
        layout.y = BOTTOM - 100.0;
        let note: Vec<String> = (0..150).map(|i| format!("line{i}")).collect();
        let cells = [
            (Face::Bold, INK, "Step".to_string()),
            (Face::Sans, INK, note.join("\n")),
        ];
        layout.row(&[100.0, 399.0], &cells, true);
        assert!(layout.pages.len() >= 3, "{} pages", layout.pages.len());
        let mut drawn = Vec::new();
        for op in layout.pages.iter().flatten() {
            if let Op::Text { y, text, .. } = op {
                assert!(
                    *y <= BOTTOM,
                    "{text} drawn at {y}, past the foot at {BOTTOM}"
                );
                drawn.push(text.clone());
            }
        }
        let lines: Vec<&String> = drawn.iter().filter(|t| t.starts_with("line")).collect();
        assert_eq!(lines.len(), 150);
        assert_eq!(lines.last().map(|s| s.as_str()), Some("line149"));
    }
}
