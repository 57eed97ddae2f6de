//! Text pages for multi-page documents (the lägesbild): headings, wrapped paragraphs, tables
//! and small trend lines on A4 portrait, each page under the classification banner and over a
//! footer with "page n of N". Everything is SVG in points, rendered by [`super::render`] with
//! the shipped fonts, so text stays text in the PDF.

use std::fmt::Write as _;

use super::page::xml;
use crate::domain::Classification;

/// A4 portrait, points.
const PAGE_W: f64 = 595.28;
const PAGE_H: f64 = 841.89;
const MARGIN: f64 = 48.0;
const BANNER_H: f64 = 22.0;
const TOP: f64 = BANNER_H + 36.0;
const BOTTOM: f64 = PAGE_H - 44.0;
/// DejaVu Sans averages about 0.55 em per character; wrapping uses a little more to be safe.
const EM_PER_CHAR: f64 = 0.56;

/// A table column: its heading, width (points) and whether numbers are right-aligned.
#[derive(Debug, Clone)]
pub struct Column {
    /// Heading.
    pub heading: String,
    /// Width in points.
    pub width: f64,
    /// Right-aligned (numbers).
    pub right: bool,
}

impl Column {
    /// A left-aligned text column.
    #[must_use]
    pub fn text(heading: &str, width: f64) -> Self {
        Self {
            heading: heading.to_owned(),
            width,
            right: false,
        }
    }

    /// A right-aligned number column.
    #[must_use]
    pub fn number(heading: &str, width: f64) -> Self {
        Self {
            heading: heading.to_owned(),
            width,
            right: true,
        }
    }
}

/// A document being laid out, page by page.
pub struct Document {
    banner: (String, &'static str),
    footer: String,
    pages: Vec<String>,
    current: String,
    y: f64,
}

/// The banner's words and colour for a classification and audience.
#[must_use]
pub fn banner(classification: Classification, audience: &str) -> (String, &'static str) {
    match classification {
        Classification::Restricted => (format!("BEGRÄNSAD – endast för {audience}"), "#a4000f"),
        Classification::Internal => (format!("INTERN – för {audience}"), "#7a4b00"),
        Classification::Open => (format!("ÖPPEN – för {audience}"), "#00603c"),
    }
}

/// Splits `text` into lines of at most `max_chars` characters, at spaces where it can, keeping
/// the text's own line breaks.
#[must_use]
pub fn wrap(text: &str, max_chars: usize) -> Vec<String> {
    let max_chars = max_chars.max(8);
    let mut lines = Vec::new();
    for para in text.split('\n') {
        let mut line = String::new();
        for word in para.split_whitespace() {
            let mut word = word.to_owned();
            // A word longer than a line is cut.
            while word.chars().count() > max_chars {
                if !line.is_empty() {
                    lines.push(std::mem::take(&mut line));
                }
                let head: String = word.chars().take(max_chars).collect();
                word = word.chars().skip(max_chars).collect();
                lines.push(head);
            }
            let needed =
                line.chars().count() + usize::from(!line.is_empty()) + word.chars().count();
            if needed > max_chars && !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(&word);
        }
        lines.push(line);
    }
    lines
}

#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
fn chars_in(width: f64, size: f64) -> usize {
    (width / (EM_PER_CHAR * size)).floor().max(1.0) as usize
}

/// Cuts `s` to what fits in `width` at `size`, ending in "…".
fn fit(s: &str, width: f64, size: f64) -> String {
    let max = chars_in(width, size);
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        let mut cut: String = s.chars().take(max.saturating_sub(1)).collect();
        cut.push('…');
        cut
    }
}

impl Document {
    /// A new document under `banner` (see [`banner`]) with `footer` on every page.
    #[must_use]
    pub fn new(banner: (String, &'static str), footer: &str) -> Self {
        Self {
            banner,
            footer: footer.to_owned(),
            pages: Vec::new(),
            current: String::new(),
            y: TOP,
        }
    }

    /// The usable width.
    #[must_use]
    pub const fn width() -> f64 {
        PAGE_W - 2.0 * MARGIN
    }

    /// Starts a new page (unless the current one is empty).
    pub fn page_break(&mut self) {
        if !self.current.is_empty() {
            self.pages.push(std::mem::take(&mut self.current));
        }
        self.y = TOP;
    }

    /// Makes room for `h` points, starting a new page when they do not fit.
    fn room(&mut self, h: f64) {
        if self.y + h > BOTTOM {
            self.page_break();
        }
    }

    /// Adds vertical space.
    pub fn space(&mut self, h: f64) {
        self.y += h;
    }

    /// A heading: level 1 (a section, on a new page) or 2.
    pub fn heading(&mut self, text: &str, level: u8) {
        let size = if level <= 1 { 16.0 } else { 12.0 };
        if level <= 1 {
            self.page_break();
        }
        self.room(size * 2.5);
        self.y += size * 1.2;
        let _ = write!(
            self.current,
            r##"<text x="{MARGIN}" y="{:.1}" font-size="{size}" font-weight="bold" fill="#1a1a1a">{}</text>"##,
            self.y,
            xml(&fit(text, Self::width(), size * 1.15))
        );
        self.y += size * 0.6;
    }

    /// A paragraph, wrapped, at `size` points (`grey` for notes).
    pub fn paragraph(&mut self, text: &str, size: f64, grey: bool) {
        let fill = if grey { "#555555" } else { "#1a1a1a" };
        for line in wrap(text, chars_in(Self::width(), size)) {
            self.room(size * 1.35);
            self.y += size * 1.35;
            let _ = write!(
                self.current,
                r#"<text x="{MARGIN}" y="{:.1}" font-size="{size}" fill="{fill}">{}</text>"#,
                self.y,
                xml(&line)
            );
        }
        self.y += size * 0.5;
    }

    /// A table with a heading row repeated on every page it runs over; cells are cut to their
    /// column. A row may carry a trend line in its last column (`sparks`).
    pub fn table(&mut self, columns: &[Column], rows: &[Vec<String>], sparks: Option<&[Vec<f64>]>) {
        const SIZE: f64 = 7.5;
        const ROW_H: f64 = 11.0;
        let head = |doc: &mut Self| {
            doc.room(ROW_H * 2.0);
            doc.y += ROW_H;
            let mut x = MARGIN;
            for c in columns {
                let (tx, anchor) = if c.right {
                    (x + c.width - 2.0, "end")
                } else {
                    (x, "start")
                };
                let _ = write!(
                    doc.current,
                    r##"<text x="{tx:.1}" y="{:.1}" font-size="{SIZE}" font-weight="bold" text-anchor="{anchor}">{}</text>"##,
                    doc.y,
                    xml(&fit(&c.heading, c.width - 2.0, SIZE * 1.1))
                );
                x += c.width;
            }
            let _ = write!(
                doc.current,
                r##"<line x1="{MARGIN}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="#777777" stroke-width="0.6"/>"##,
                doc.y + 3.0,
                MARGIN + Self::width(),
                doc.y + 3.0
            );
        };
        head(self);
        for (i, row) in rows.iter().enumerate() {
            if self.y + ROW_H > BOTTOM {
                self.page_break();
                head(self);
            }
            self.y += ROW_H;
            let mut x = MARGIN;
            for (c, cell) in columns.iter().zip(row) {
                let (tx, anchor) = if c.right {
                    (x + c.width - 2.0, "end")
                } else {
                    (x, "start")
                };
                let _ = write!(
                    self.current,
                    r#"<text x="{tx:.1}" y="{:.1}" font-size="{SIZE}" text-anchor="{anchor}">{}</text>"#,
                    self.y,
                    xml(&fit(cell, c.width - 2.0, SIZE))
                );
                x += c.width;
            }
            if let Some(values) = sparks.and_then(|s| s.get(i))
                && let Some(last) = columns.last()
            {
                self.spark(x - last.width, self.y, last.width - 4.0, values);
            }
        }
        self.y += 6.0;
    }

    /// A small trend line in a box `w` wide whose baseline is at `y`.
    fn spark(&mut self, x: f64, y: f64, w: f64, values: &[f64]) {
        if values.len() < 2 {
            return;
        }
        let max = values.iter().copied().fold(0.0_f64, f64::max).max(1.0);
        #[allow(clippy::cast_precision_loss)]
        let step = w / (values.len() - 1) as f64;
        let points: Vec<String> = values
            .iter()
            .enumerate()
            .map(|(i, v)| {
                #[allow(clippy::cast_precision_loss)]
                let px = x + step * i as f64;
                format!("{px:.1},{:.1}", y - 7.5 * v / max)
            })
            .collect();
        let _ = write!(
            self.current,
            r##"<polyline points="{}" fill="none" stroke="#1f5fa8" stroke-width="0.8"/>"##,
            points.join(" ")
        );
    }

    /// Adds a whole page made elsewhere (a map page), as it is.
    pub fn full_page(&mut self, svg: String) {
        self.page_break();
        self.pages.push(svg);
    }

    /// The pages as SVG, each with banner and "page n of N".
    #[must_use]
    pub fn finish(mut self) -> Vec<String> {
        self.page_break();
        let n = self.pages.len();
        let (banner, fill) = &self.banner;
        self.pages
            .into_iter()
            .enumerate()
            .map(|(i, body)| {
                if body.starts_with("<svg") {
                    return body;
                }
                let mut out = String::with_capacity(body.len() + 1024);
                let _ = write!(
                    out,
                    r##"<svg xmlns="http://www.w3.org/2000/svg" width="{PAGE_W}" height="{PAGE_H}" viewBox="0 0 {PAGE_W} {PAGE_H}" font-family="DejaVu Sans"><rect width="{PAGE_W}" height="{PAGE_H}" fill="#ffffff"/><rect x="0" y="0" width="{PAGE_W}" height="{BANNER_H}" fill="{fill}"/><text x="{}" y="15" font-size="11" font-weight="bold" fill="#ffffff" text-anchor="middle">{}</text>"##,
                    PAGE_W / 2.0,
                    xml(banner)
                );
                out.push_str(&body);
                let _ = write!(
                    out,
                    r##"<text x="{MARGIN}" y="{:.1}" font-size="7" fill="#555555">{}</text><text x="{:.1}" y="{:.1}" font-size="7" fill="#555555" text-anchor="end">Sida {} av {n}</text></svg>"##,
                    PAGE_H - 20.0,
                    xml(&self.footer),
                    PAGE_W - MARGIN,
                    PAGE_H - 20.0,
                    i + 1
                );
                out
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap_keeps_words_and_breaks() {
        let lines = wrap("ett två tre fyra\nfem", 8);
        assert_eq!(lines, vec!["ett två", "tre fyra", "fem"]);
        let long = wrap("abcdefghijklmnopqrstu", 8);
        assert!(long.iter().all(|l| l.chars().count() <= 8), "{long:?}");
        assert_eq!(long.concat(), "abcdefghijklmnopqrstu");
    }

    #[test]
    fn long_tables_run_over_pages_with_their_heading() {
        let mut doc = Document::new(banner(Classification::Open, "test"), "fot");
        let rows: Vec<Vec<String>> = (0..200).map(|i| vec![format!("rad {i}")]).collect();
        doc.table(&[Column::text("Rubrik", 100.0)], &rows, None);
        let pages = doc.finish();
        assert!(pages.len() >= 3, "{} pages", pages.len());
        for (i, p) in pages.iter().enumerate() {
            assert!(p.contains("Rubrik"), "page {i} repeats the heading");
            assert!(p.contains(&format!("Sida {} av {}", i + 1, pages.len())));
            assert!(p.contains("ÖPPEN – för test"));
        }
        let all = pages.concat();
        assert!(all.contains("rad 0") && all.contains("rad 199"));
    }
}
