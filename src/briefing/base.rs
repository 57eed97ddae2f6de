//! The basemap on a briefing's map, drawn as the shipped style `web/basemap-style.json` draws it
//! on the screen (same colours, the same zoom rules at the zoom the screen would show this
//! scale): areas, then lines, then names, all as vector paths and text (names stay text in the
//! PDF, so they can be searched and copied).

use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;

use crate::basemap::draw::{BaseDrawing, BaseFeature, BaseLayer};

use super::page::{Frame, lines, polygons, xml};

/// How one group of basemap geometries is painted.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Paint {
    /// Draw order (lower first).
    order: u8,
    /// The SVG attributes.
    attributes: String,
}

/// A width that grows with the zoom between two stops, as the style's `interpolate`.
fn between(zoom: f64, (z0, w0): (f64, f64), (z1, w1): (f64, f64)) -> f64 {
    let t = ((zoom - z0) / (z1 - z0)).clamp(0.0, 1.0);
    w0 + t * (w1 - w0)
}

/// How a feature is painted at `zoom` (`None`: not drawn at this zoom, or a name only).
fn paint(f: &BaseFeature, zoom: f64) -> Option<Paint> {
    let fill = |order: u8, colour: &str, extra: &str| {
        Some(Paint {
            order,
            // Non-zero: vector tiles wind outer rings one way and holes the other, and a
            // polygon drawn again from a neighbouring tile's buffer must stay filled.
            attributes: format!(r#"fill="{colour}" fill-rule="nonzero"{extra}"#),
        })
    };
    let stroke = |order: u8, colour: &str, width: f64, extra: &str| {
        Some(Paint {
            order,
            attributes: format!(
                r#"fill="none" stroke="{colour}" stroke-width="{width:.2}" stroke-linecap="round" stroke-linejoin="round"{extra}"#
            ),
        })
    };
    match (f.layer, f.kind.as_str()) {
        (BaseLayer::Landcover, kind) => fill(
            0,
            match kind {
                "forest" => "#dfe9d5",
                "park" => "#d6ebc9",
                "farmland" => "#f1eedf",
                _ => "#e8ebe0",
            },
            r#" fill-opacity="0.9""#,
        ),
        (BaseLayer::Water, _) => fill(1, "#b9d3e6", ""),
        // No outline: a building cut at a tile's edge would show the cut.
        (BaseLayer::Buildings, _) if zoom >= 13.0 => fill(2, "#dcd7cf", ""),
        (BaseLayer::Roads, "path") if zoom >= 13.0 => {
            stroke(3, "#b8ad9c", 0.7, r#" stroke-dasharray="2,1.5""#)
        }
        (BaseLayer::Roads, "minor") if zoom >= 12.0 => {
            stroke(4, "#ffffff", between(zoom, (12.0, 1.0), (16.0, 5.0)), "")
        }
        (BaseLayer::Roads, "major") => {
            stroke(5, "#f6e3b4", between(zoom, (9.0, 1.0), (16.0, 8.0)), "")
        }
        (BaseLayer::Railways, kind) => stroke(
            6,
            if kind == "subway" {
                "#8a3b3b"
            } else {
                "#6f6f6f"
            },
            1.4,
            r#" stroke-dasharray="3,2""#,
        ),
        (BaseLayer::Boundaries, _) => stroke(7, "#9c8aa5", 1.0, r#" stroke-dasharray="4,2,1,2""#),
        _ => None,
    }
}

/// The basemap's areas and lines, then its names.
pub(super) fn draw(out: &mut String, base: &BaseDrawing, frame: &Frame) {
    // One path per paint: thousands of street pieces are a handful of SVG elements.
    let mut groups: BTreeMap<Paint, String> = BTreeMap::new();
    for f in &base.features {
        let Some(p) = paint(f, base.zoom) else {
            continue;
        };
        let d = groups.entry(p).or_default();
        if matches!(
            f.layer,
            BaseLayer::Landcover | BaseLayer::Water | BaseLayer::Buildings
        ) {
            for polygon in polygons(&f.geometry) {
                d.push_str(&frame.polygon(&polygon));
            }
        } else {
            for line in lines(&f.geometry) {
                d.push_str(&frame.path(&line, false));
            }
        }
    }
    for (p, d) in &groups {
        if !d.is_empty() {
            let _ = write!(out, r#"<path d="{d}" {}/>"#, p.attributes);
        }
    }
    names(out, base, frame);
}

/// A box on the page `[x0, y0, x1, y1]`.
type Box2 = [f64; 4];

fn overlaps(a: &Box2, b: &Box2) -> bool {
    a[0] < b[2] && b[0] < a[2] && a[1] < b[3] && b[1] < a[3]
}

/// About how wide a DejaVu Sans text of `size` is.
#[allow(clippy::cast_precision_loss)]
fn text_width(text: &str, size: f64) -> f64 {
    0.6 * size * text.chars().count() as f64
}

/// Place names (most important first: municipality, district, station), then street names
/// along their streets (from zoom 14, as on the screen), never on top of one another.
fn names(out: &mut String, base: &BaseDrawing, frame: &Frame) {
    let mut placed: Vec<Box2> = Vec::new();
    let mut seen: HashSet<(String, String)> = HashSet::new();
    let rank = |kind: &str| match kind {
        "municipality" => 0,
        "district" => 1,
        "station" => 2,
        _ => 3,
    };
    let mut places: Vec<&BaseFeature> = base
        .features
        .iter()
        .filter(|f| f.layer == BaseLayer::Places && f.name.is_some())
        .collect();
    places.sort_by_key(|f| rank(&f.kind));
    for f in places {
        let (Some(name), geo::Geometry::Point(p)) = (&f.name, &f.geometry) else {
            continue;
        };
        if !seen.insert((name.clone(), f.kind.clone())) {
            continue; // the same place from a neighbouring tile's buffer
        }
        let Some((x, y)) = frame.xy(p.x(), p.y()) else {
            continue;
        };
        let station = f.kind == "station";
        let size = match f.kind.as_str() {
            "municipality" => 12.0,
            "station" => 7.5,
            _ => 8.5,
        };
        let ty = if station {
            y + 4.0 + size
        } else {
            y + size / 3.0
        };
        let w = text_width(name, size);
        let b = [x - w / 2.0, ty - size, x + w / 2.0, ty + 2.0];
        if placed.iter().any(|o| overlaps(o, &b)) {
            continue;
        }
        placed.push(b);
        let colour = if station { "#8a3b3b" } else { "#4a4a4a" };
        if station {
            let _ = write!(
                out,
                r##"<circle cx="{x:.2}" cy="{y:.2}" r="2.6" fill="#ffffff" stroke="#8a3b3b" stroke-width="1.4"/>"##
            );
        }
        let _ = write!(
            out,
            r##"<text x="{x:.2}" y="{ty:.2}" font-size="{size}" fill="{colour}" text-anchor="middle" stroke="#ffffff" stroke-width="1.8" paint-order="stroke">{}</text>"##,
            xml(name)
        );
    }
    if base.zoom < 14.0 {
        return;
    }
    // Each street named once, on its longest straight piece that holds the name.
    // Per name: the piece's two ends on the page and its length.
    type Piece = ((f64, f64), (f64, f64), f64);
    let mut best: BTreeMap<&str, Piece> = BTreeMap::new();
    for f in &base.features {
        let (BaseLayer::Roads, Some(name)) = (f.layer, &f.name) else {
            continue;
        };
        if f.kind == "path" {
            continue;
        }
        for line in lines(&f.geometry) {
            let pts: Vec<(f64, f64)> = line.coords().filter_map(|c| frame.xy(c.x, c.y)).collect();
            for w in pts.windows(2) {
                let (a, b) = (w[0], w[1]);
                let len = (b.0 - a.0).hypot(b.1 - a.1);
                if best.get(name.as_str()).is_none_or(|(_, _, l)| len > *l) {
                    best.insert(name, (a, b, len));
                }
            }
        }
    }
    let size = 7.0;
    for (name, (a, b, len)) in best {
        let w = text_width(name, size);
        if len < w + 4.0 {
            continue;
        }
        let (mx, my) = ((a.0 + b.0) / 2.0, (a.1 + b.1) / 2.0);
        let mut angle = (b.1 - a.1).atan2(b.0 - a.0).to_degrees();
        if angle > 90.0 {
            angle -= 180.0;
        } else if angle < -90.0 {
            angle += 180.0;
        }
        let (c, s) = (
            angle.to_radians().cos().abs(),
            angle.to_radians().sin().abs(),
        );
        let (hw, hh) = ((w * c + size * s) / 2.0, (w * s + size * c) / 2.0);
        let bx = [mx - hw, my - hh, mx + hw, my + hh];
        if placed.iter().any(|o| overlaps(o, &bx)) {
            continue;
        }
        placed.push(bx);
        let _ = write!(
            out,
            r##"<text x="{mx:.2}" y="{:.2}" font-size="{size}" fill="#5a5246" text-anchor="middle" transform="rotate({angle:.1} {mx:.2} {my:.2})" stroke="#ffffff" stroke-width="1.6" paint-order="stroke">{}</text>"##,
            my + size / 3.0,
            xml(name)
        );
    }
}

/// Text without HTML tags (attributions often carry links), entities for `&` left as text.
fn plain(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_tag = false;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            // A tag starts with a letter or '/': a bare '<' is text.
            '<' if !in_tag
                && chars
                    .peek()
                    .is_some_and(|n| n.is_ascii_alphabetic() || *n == '/') =>
            {
                in_tag = true;
            }
            '>' if in_tag => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&copy;", "©")
        .replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&amp;", "&")
}

/// Whose map it is, in the map's corner (right-aligned at `(x, y)`), and whether part of it
/// could not be read.
pub(super) fn credit(out: &mut String, base: &BaseDrawing, x: f64, y: f64) {
    let mut line = String::from("Bakgrundskarta");
    let attribution = base.attribution.as_deref().map(plain);
    match (&base.name, &attribution) {
        (Some(n), Some(a)) if a.contains(n.as_str()) => {
            let _ = write!(line, ": {a}");
        }
        (Some(n), Some(a)) => {
            let _ = write!(line, ": {n} – {a}");
        }
        (Some(t), None) | (None, Some(t)) => {
            let _ = write!(line, ": {t}");
        }
        (None, None) => {}
    }
    let _ = write!(
        out,
        r##"<text x="{x:.2}" y="{y:.2}" font-size="5.5" fill="#333333" text-anchor="end" stroke="#ffffff" stroke-width="1.6" paint-order="stroke">{}</text>"##,
        xml(&line)
    );
    // What is missing from the basemap, said above the credit.
    let missing = if base.too_wide {
        Some(format!(
            "Bakgrundskartan ritas inte i denna skala (fler än {} rutor)",
            crate::basemap::draw::MAX_TILES
        ))
    } else {
        (base.failed > 0).then(|| {
            format!(
                "Bakgrundskartan är ofullständig: {} rutor kunde inte läsas",
                base.failed
            )
        })
    };
    if let Some(text) = missing {
        let _ = write!(
            out,
            r##"<text x="{x:.2}" y="{:.2}" font-size="7" font-weight="bold" fill="#a4000f" text-anchor="end" stroke="#ffffff" stroke-width="1.6" paint-order="stroke">{}</text>"##,
            y - 8.0,
            xml(&text)
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_credit_names_the_map_strips_markup_and_says_when_tiles_are_missing() {
        let mut base = BaseDrawing {
            name: Some("Kommunkarta".into()),
            attribution: Some(
                r#"<a href="https://osm.org/copyright">&copy; OpenStreetMap</a>"#.into(),
            ),
            ..BaseDrawing::default()
        };
        let mut out = String::new();
        credit(&mut out, &base, 100.0, 100.0);
        assert!(
            out.contains("Bakgrundskarta: Kommunkarta – © OpenStreetMap"),
            "{out}"
        );
        assert!(
            !out.contains("href") && !out.contains("ofullständig"),
            "{out}"
        );
        base.failed = 2;
        let mut out = String::new();
        credit(&mut out, &base, 100.0, 100.0);
        assert!(
            out.contains("Bakgrundskartan är ofullständig: 2 rutor kunde inte läsas"),
            "{out}"
        );
        // A bare '<' and entities are text; characters XML forbids never reach the page.
        assert_eq!(plain("a < b &lt;c&gt;&nbsp;d"), "a < b <c> d");
        base.attribution = Some("Karta\u{1}data".into());
        let mut out = String::new();
        credit(&mut out, &base, 100.0, 100.0);
        assert!(
            !out.contains('\u{1}') && out.contains("Karta\u{fffd}data"),
            "{out}"
        );
    }
}
