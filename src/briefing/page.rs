//! The briefing page as SVG, in points (1/72 inch), in SWEREF 99 TM (the map is drawn in the
//! national grid, so metres are metres in every direction and the scale bar is true).
//! The Swedish words of the page come from `web/labels.json` (see [`crate::labels`]).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use geo::{BoundingRect, Geometry, LineString, Polygon};
use serde_json::Value;

use super::{Paper, SYMBOLS_JSON, Scene};
use crate::domain::crs::Sweref99Tm;
use crate::domain::time::{week_label, week_start};
use crate::domain::{Classification, Layer};

pub(crate) use crate::labels::{label, value_label};

/// Escapes text for SVG.
#[must_use]
pub fn xml(s: &str) -> String {
    // Characters XML 1.0 does not allow (control characters but tab, newline and return;
    // U+FFFE, U+FFFF) would make the whole page unreadable: they become a replacement mark.
    let allowed = |c: char| {
        matches!(c, '\t' | '\n' | '\r') || (!c.is_control() && c != '\u{fffe}' && c != '\u{ffff}')
    };
    let s: String = s
        .chars()
        .map(|c| if allowed(c) { c } else { '\u{fffd}' })
        .collect();
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The page size in points.
#[must_use]
pub const fn page_size(paper: Paper, landscape: bool) -> (f64, f64) {
    let (w, h) = match paper {
        Paper::A4 => (595.28, 841.89),
        Paper::A3 => (841.89, 1190.55),
    };
    if landscape { (h, w) } else { (w, h) }
}

/// The map's projection onto the page: SWEREF 99 TM metres, scaled into the map's frame.
pub(super) struct Frame {
    x: f64,
    y: f64,
    h: f64,
    e0: f64,
    n0: f64,
    scale: f64,
    crs: Sweref99Tm,
}

impl Frame {
    /// Where a longitude and latitude land on the page.
    pub(super) fn xy(&self, lon: f64, lat: f64) -> Option<(f64, f64)> {
        let (e, n) = self.crs.from_wgs84(lon, lat).ok()?;
        Some((
            self.x + (e - self.e0) * self.scale,
            self.y + self.h - (n - self.n0) * self.scale,
        ))
    }

    /// A line as SVG path data.
    pub(super) fn path(&self, line: &LineString<f64>, close: bool) -> String {
        let mut d = String::new();
        for (i, c) in line.coords().enumerate() {
            if let Some((x, y)) = self.xy(c.x, c.y) {
                let _ = write!(d, "{}{x:.2},{y:.2} ", if i == 0 { "M" } else { "L" });
            }
        }
        if close {
            d.push('Z');
        }
        d
    }

    /// A polygon (with its holes) as SVG path data.
    pub(super) fn polygon(&self, p: &Polygon<f64>) -> String {
        let mut d = self.path(p.exterior(), true);
        for ring in p.interiors() {
            d.push_str(&self.path(ring, true));
        }
        d
    }
}

fn color(symbols: &Value, layer: &str, key: &str) -> String {
    symbols[layer]["colors"][key]
        .as_str()
        .unwrap_or("#999999")
        .to_owned()
}

/// The colour of count cells (the map client's, from `web/symbols.json`).
fn aggregate_color(symbols: &Value) -> &str {
    symbols["aggregate"]["color"].as_str().unwrap_or("#D55E00")
}

fn nice(target: f64) -> f64 {
    [
        50.0, 100.0, 200.0, 250.0, 500.0, 1000.0, 2000.0, 2500.0, 5000.0, 10_000.0, 20_000.0,
        50_000.0,
    ]
    .into_iter()
    .rev()
    .find(|s| *s <= target)
    .unwrap_or(50.0)
}

fn fmt_m(m: f64) -> String {
    if m >= 1000.0 {
        format!("{} km", m / 1000.0)
    } else {
        format!("{m} m")
    }
}

/// Where things go on the page, and the map's projection.
struct Layout {
    pw: f64,
    ph: f64,
    margin: f64,
    banner_h: f64,
    map_x: f64,
    map_y: f64,
    map_w: f64,
    map_h: f64,
    frame: Frame,
}

fn layout(r: &super::BriefingRequest) -> Option<Layout> {
    let (pw, ph) = page_size(r.paper, r.landscape);
    let margin = 28.0;
    let banner_h = 22.0;
    let side_w = if r.landscape { pw * 0.3 } else { 0.0 };
    let map_x = margin + 34.0;
    let map_y = margin + banner_h + 62.0;
    let map_w = pw - map_x - margin - if r.landscape { side_w + 12.0 } else { 0.0 };
    let map_h = if r.landscape {
        ph - map_y - margin - 24.0
    } else {
        (ph - map_y - margin) * 0.62
    };
    let crs = Sweref99Tm::new().ok()?;
    // Fit the bbox into the frame in SWEREF metres, centred.
    let b = r.bbox;
    let corners: Vec<(f64, f64)> = [(b[0], b[1]), (b[2], b[1]), (b[0], b[3]), (b[2], b[3])]
        .iter()
        .filter_map(|(x, y)| crs.from_wgs84(*x, *y).ok())
        .collect();
    let (emin, emax) = corners
        .iter()
        .fold((f64::MAX, f64::MIN), |a, c| (a.0.min(c.0), a.1.max(c.0)));
    let (nmin, nmax) = corners
        .iter()
        .fold((f64::MAX, f64::MIN), |a, c| (a.0.min(c.1), a.1.max(c.1)));
    let scale = (map_w / (emax - emin).max(1.0)).min(map_h / (nmax - nmin).max(1.0));
    let frame = Frame {
        x: map_x,
        y: map_y,
        h: map_h,
        e0: (emin + emax) / 2.0 - map_w / scale / 2.0,
        n0: (nmin + nmax) / 2.0 - map_h / scale / 2.0,
        scale,
        crs,
    };

    Some(Layout {
        pw,
        ph,
        margin,
        banner_h,
        map_x,
        map_y,
        map_w,
        map_h,
        frame,
    })
}

/// What the map's frame shows, `[min_lon, min_lat, max_lon, max_lat]`: more than the box asked
/// for in one direction, as the frame keeps the map's proportions.
#[must_use]
pub fn map_extent(r: &super::BriefingRequest) -> Option<[f64; 4]> {
    let l = layout(r)?;
    let f = &l.frame;
    let (e1, n1) = (f.e0 + l.map_w / f.scale, f.n0 + l.map_h / f.scale);
    let mut out = [f64::MAX, f64::MAX, f64::MIN, f64::MIN];
    for (e, n) in [(f.e0, f.n0), (e1, f.n0), (f.e0, n1), (e1, n1)] {
        let (lon, lat) = f.crs.to_wgs84(e, n).ok()?;
        out = [
            out[0].min(lon),
            out[1].min(lat),
            out[2].max(lon),
            out[3].max(lat),
        ];
    }
    Some(out)
}

/// Points on the page per SWEREF metre of the map `r` asks for.
#[must_use]
pub fn points_per_metre(r: &super::BriefingRequest) -> Option<f64> {
    Some(layout(r)?.frame.scale)
}

/// Where a WGS84 position lands on the page, in points from the top left (for tests and for
/// anyone placing things on a briefing).
#[must_use]
pub fn position(r: &super::BriefingRequest, lon: f64, lat: f64) -> Option<(f64, f64)> {
    layout(r)?.frame.xy(lon, lat)
}

/// The page as SVG: the banner and title, the map with its ticks, scale bar and north arrow,
/// the legend, the summary per area, and the footer.
#[must_use]
pub fn svg(scene: &Scene) -> String {
    let symbols: Value = serde_json::from_str(SYMBOLS_JSON).unwrap_or(Value::Null);
    let Some(l) = layout(&scene.request) else {
        return String::new();
    };
    let (pw, ph) = (l.pw, l.ph);
    let mut out = String::with_capacity(64 * 1024);
    let _ = write!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{pw}" height="{ph}" viewBox="0 0 {pw} {ph}" font-family="DejaVu Sans">"#
    );
    let _ = write!(
        out,
        r##"<rect width="{pw}" height="{ph}" fill="#ffffff"/>"##
    );
    header(&mut out, scene, &l);
    let present = map(&mut out, scene, &l, &symbols);
    ticks(&mut out, &l);
    scale_and_north(&mut out, &l);
    let (lx, ly) = legend(&mut out, scene, &l, &symbols, &present);
    summary(&mut out, scene, &l, lx, ly);
    footer(&mut out, &l, scene.density_note.as_deref());
    out.push_str("</svg>");
    out
}

/// What the legend lists: (draw order, symbol key) → how many are drawn.
type Present = BTreeMap<(u8, String), usize>;

/// The classification banner, the title, the area and the window.
fn header(out: &mut String, scene: &Scene, l: &Layout) {
    let r = &scene.request;
    let Layout {
        pw,
        margin,
        banner_h,
        ..
    } = *l;
    // Classification banner.
    let (banner, fill) = match scene.classification {
        Classification::Restricted => (format!("BEGRÄNSAD – endast för {}", r.audience), "#a4000f"),
        Classification::Internal => (format!("INTERN – för {}", r.audience), "#7a4b00"),
        Classification::Open => (format!("ÖPPEN – för {}", r.audience), "#00603c"),
    };
    let _ = write!(
        out,
        r##"<rect x="0" y="0" width="{pw}" height="{banner_h}" fill="{fill}"/><text x="{}" y="15" font-size="11" font-weight="bold" fill="#ffffff" text-anchor="middle">{}</text>"##,
        pw / 2.0,
        xml(&banner)
    );
    // Title and window.
    let weeks = format!(
        "v. {}–{}",
        week_label(week_start(r.from.midnight().assume_utc().unix_timestamp())),
        week_label(week_start(r.to.midnight().assume_utc().unix_timestamp()))
    );
    // A long title gets smaller type rather than running off the page (bold DejaVu is about
    // 0.7 em a character).
    #[allow(clippy::cast_precision_loss)]
    let title_size =
        (18.0_f64).min((pw - 2.0 * margin) / (0.7 * r.title.chars().count().max(1) as f64));
    let _ = write!(
        out,
        r##"<text x="{margin}" y="{}" font-size="{title_size:.2}" font-weight="bold" fill="#1a1a1a">{}</text>"##,
        banner_h + 30.0,
        xml(&r.title)
    );
    let area = r
        .area
        .as_deref()
        .map(|a| format!("Område: {a} · "))
        .unwrap_or_default();
    let _ = write!(
        out,
        r##"<text x="{margin}" y="{}" font-size="9.5" fill="#333333">{}Period {} – {} ({}) · Data per {} UTC</text>"##,
        banner_h + 48.0,
        xml(&area),
        r.from,
        r.to,
        xml(&weeks),
        r.as_of
            .format(time::macros::format_description!(
                "[year]-[month]-[day] [hour]:[minute]"
            ))
            .unwrap_or_default()
    );
}

/// The map, clipped to its frame: base, count cells, features, area names; returns what
/// the legend must list.
fn map(out: &mut String, scene: &Scene, l: &Layout, symbols: &Value) -> Present {
    let r = &scene.request;
    let Layout {
        map_x,
        map_y,
        map_w,
        map_h,
        ref frame,
        ..
    } = *l;
    // The map: clipped to its frame.
    let _ = write!(
        out,
        r#"<defs><clipPath id="map"><rect x="{map_x}" y="{map_y}" width="{map_w}" height="{map_h}"/></clipPath></defs><g clip-path="url(#map)">"#
    );
    let _ = write!(
        out,
        r##"<rect x="{map_x}" y="{map_y}" width="{map_w}" height="{map_h}" fill="#f4f1ea"/>"##
    );
    // Over a basemap, the areas are outlines with a faint veil (the streets stay readable).
    let veil = if let Some(base) = &scene.base {
        super::base::draw(out, base, frame);
        "0.15"
    } else {
        "0.6"
    };
    for (_, g) in &scene.areas {
        for p in polygons(g) {
            let _ = write!(
                out,
                r##"<path d="{}" fill="#ffffff" fill-opacity="{veil}" stroke="#333333" stroke-width="0.8"/>"##,
                frame.polygon(&p)
            );
        }
    }
    for (g, n) in &scene.cells {
        #[allow(clippy::cast_precision_loss)]
        let opacity = (0.3 + (*n as f64) / 50.0).min(0.9);
        for p in polygons(g) {
            let _ = write!(
                out,
                r#"<path d="{}" fill="{}" fill-opacity="{opacity:.2}"/>"#,
                frame.polygon(&p),
                aggregate_color(symbols)
            );
        }
    }
    // The density surface beneath everything else, in the web client's colours.
    for (p, share) in &scene.density {
        let c = match *share {
            s if s < 0.05 => continue,
            s if s < 0.3 => "#fde0c5",
            s if s < 0.6 => "#E69F00",
            s if s < 0.85 => "#D55E00",
            _ => "#7a2a00",
        };
        let _ = write!(
            out,
            r#"<path d="{}" fill="{c}" fill-opacity="0.55"/>"#,
            frame.polygon(p)
        );
    }
    let mut present: Present = BTreeMap::new();
    let order = |l: Layer| match l {
        Layer::PatrolRoutes => 0,
        Layer::Cameras => 1,
        Layer::RiskEnvironments => 2,
        Layer::Incidents => 3,
        _ => 4,
    };
    let mut marks: Vec<&super::Mark> = scene.marks.iter().collect();
    marks.sort_by_key(|m| order(m.layer));
    let mut dots: BTreeMap<(u8, String, String, String), String> = BTreeMap::new();
    for m in marks {
        *present.entry((order(m.layer), m.key.clone())).or_default() += 1;
        match (m.layer, &m.geometry) {
            (Layer::PatrolRoutes, g) => {
                let c = color(symbols, "patrol_routes", &m.key);
                for l in lines(g) {
                    let _ = write!(
                        out,
                        r#"<path d="{}" fill="none" stroke="{c}" stroke-width="2.2" stroke-linecap="round"/>"#,
                        frame.path(&l, false)
                    );
                }
            }
            (layer, g) => {
                let Some(p) = point_of(g) else { continue };
                let Some((x, y)) = frame.xy(p.x(), p.y()) else {
                    continue;
                };
                let (c, radius, extra) = match layer {
                    Layer::Incidents => (color(symbols, "incidents", &m.key), 3.2, r##" stroke="#ffffff" stroke-width="0.6""##.to_owned()),
                    Layer::RiskEnvironments if m.stale => (color(symbols, "risk_environments", &m.key), 4.8, r##" fill-opacity="0.35" stroke="#555555" stroke-width="1.4" stroke-dasharray="2,1""##.to_owned()),
                    Layer::RiskEnvironments => (color(symbols, "risk_environments", &m.key), 4.8, r##" stroke="#000000" stroke-width="0.6""##.to_owned()),
                    Layer::Cameras if m.stale => (color(symbols, "cameras", &m.key), 2.4, r##" fill-opacity="0.35" stroke="#555555" stroke-width="0.8" stroke-dasharray="1.5,0.8""##.to_owned()),
                    Layer::Cameras => (color(symbols, "cameras", &m.key), 2.4, r##" stroke="#ffffff" stroke-width="0.5""##.to_owned()),
                    _ => ("#999999".to_owned(), 2.0, String::new()),
                };
                // Circles of one symbol become one path: ten thousand incidents are a handful
                // of SVG nodes, which keeps parsing and the PDF small and fast.
                let d = dots
                    .entry((order(layer), c, radius.to_string(), extra))
                    .or_default();
                let _ = write!(
                    d,
                    "M{:.2},{y:.2}a{radius},{radius} 0 1,0 {:.2},0a{radius},{radius} 0 1,0 -{:.2},0Z",
                    x - radius,
                    2.0 * radius,
                    2.0 * radius
                );
            }
        }
    }
    for ((_, c, _, extra), d) in &dots {
        let _ = write!(out, r#"<path d="{d}" fill="{c}"{extra}/>"#);
    }
    for (name, g) in &scene.areas {
        if let Some(rect) = g.bounding_rect()
            && let Some((x, y)) = frame.xy(rect.center().x, rect.center().y)
        {
            let _ = write!(
                out,
                r##"<text x="{x:.1}" y="{y:.1}" font-size="8" font-weight="bold" fill="#222222" text-anchor="middle" stroke="#ffffff" stroke-width="2" paint-order="stroke">{}</text>"##,
                xml(name)
            );
        }
    }
    let incidents_asked = r.layers.contains(&Layer::Incidents);
    let any_incident =
        scene.marks.iter().any(|m| m.layer == Layer::Incidents) || !scene.cells.is_empty();
    if incidents_asked && !any_incident {
        let _ = write!(
            out,
            r##"<text x="{}" y="{}" font-size="16" fill="#555555" text-anchor="middle">{}</text>"##,
            map_x + map_w / 2.0,
            map_y + map_h / 2.0,
            if scene.suppressed {
                "Inga rutor med minst 3 händelser att visa"
            } else {
                "Inga händelser i perioden"
            }
        );
    }
    if let Some(base) = &scene.base {
        super::base::credit(out, base, map_x + map_w - 4.0, map_y + map_h - 4.0);
    }
    out.push_str("</g>");
    let _ = write!(
        out,
        r##"<rect x="{map_x}" y="{map_y}" width="{map_w}" height="{map_h}" fill="none" stroke="#1a1a1a" stroke-width="0.8"/>"##
    );

    present
}

/// SWEREF 99 TM grid ticks on the frame's bottom and left edges.
fn ticks(out: &mut String, l: &Layout) {
    let Layout {
        map_x,
        map_y,
        map_w,
        map_h,
        ref frame,
        ..
    } = *l;
    // SWEREF 99 TM grid ticks on the frame's bottom and left edges.
    let step = nice(map_w / frame.scale / 4.0);
    let mut e = (frame.e0 / step).ceil() * step;
    while e <= frame.e0 + map_w / frame.scale {
        let x = map_x + (e - frame.e0) * frame.scale;
        let _ = write!(
            out,
            r##"<line x1="{x:.1}" y1="{}" x2="{x:.1}" y2="{}" stroke="#1a1a1a" stroke-width="0.6"/><text x="{x:.1}" y="{}" font-size="6.5" text-anchor="middle" fill="#333333">E {}</text>"##,
            map_y + map_h,
            map_y + map_h + 4.0,
            map_y + map_h + 11.0,
            e.round()
        );
        e += step;
    }
    let mut n = (frame.n0 / step).ceil() * step;
    while n <= frame.n0 + map_h / frame.scale {
        let y = map_y + map_h - (n - frame.n0) * frame.scale;
        let _ = write!(
            out,
            r##"<line x1="{}" y1="{y:.1}" x2="{map_x}" y2="{y:.1}" stroke="#1a1a1a" stroke-width="0.6"/><text x="{}" y="{:.1}" font-size="6.5" text-anchor="middle" fill="#333333" transform="rotate(-90 {} {:.1})">N {}</text>"##,
            map_x - 4.0,
            map_x - 8.0,
            y,
            map_x - 8.0,
            y,
            n.round()
        );
        n += step;
    }
}

/// The scale bar and the north arrow.
fn scale_and_north(out: &mut String, l: &Layout) {
    let Layout {
        map_x,
        map_y,
        map_w,
        map_h,
        ref frame,
        ..
    } = *l;
    // Scale bar and north arrow.
    let bar_m = nice(map_w / frame.scale / 4.0);
    let bar = bar_m * frame.scale;
    let (bx, by) = (map_x + 12.0, map_y + map_h - 14.0);
    let _ = write!(
        out,
        r##"<rect x="{}" y="{}" width="{}" height="18" fill="#ffffff" fill-opacity="0.85"/><rect x="{bx}" y="{by}" width="{:.1}" height="4" fill="#1a1a1a"/><rect x="{bx}" y="{by}" width="{:.1}" height="4" fill="#ffffff" stroke="#1a1a1a" stroke-width="0.5"/><text x="{bx}" y="{}" font-size="7">0</text><text x="{:.1}" y="{}" font-size="7" text-anchor="end">{}</text>"##,
        bx - 4.0,
        by - 10.0,
        bar + 8.0,
        bar,
        bar / 2.0,
        by - 2.0,
        bx + bar,
        by - 2.0,
        fmt_m(bar_m)
    );
    let (nx, ny) = (map_x + map_w - 20.0, map_y + 14.0);
    let _ = write!(
        out,
        r##"<path d="M{nx},{ny} l-6,18 l6,-5 l6,5 Z" fill="#1a1a1a"/><text x="{nx}" y="{}" font-size="9" font-weight="bold" text-anchor="middle">N</text>"##,
        ny + 28.0
    );
}

/// The legend, beside the map (landscape) or under it (portrait); returns where the next
/// block starts.
fn legend(
    out: &mut String,
    scene: &Scene,
    l: &Layout,
    symbols: &Value,
    present: &Present,
) -> (f64, f64) {
    let r = &scene.request;
    let Layout {
        map_x,
        map_y,
        map_w,
        map_h,
        ..
    } = *l;
    // Legend and summary: beside the map (landscape) or under it (portrait).
    let (lx, mut ly) = if r.landscape {
        (map_x + map_w + 16.0, map_y + 8.0)
    } else {
        (map_x, map_y + map_h + 26.0)
    };
    let _ = write!(
        out,
        r##"<text x="{lx}" y="{ly}" font-size="10" font-weight="bold">Teckenförklaring</text>"##
    );
    ly += 14.0;
    for ((layer, key), count) in present {
        let (layer_name, shape) = match layer {
            0 => ("patrol_routes", "line"),
            1 => ("cameras", "dot"),
            2 => ("risk_environments", "dot"),
            _ => ("incidents", "dot"),
        };
        let c = color(symbols, layer_name, key);
        if shape == "line" {
            let _ = write!(
                out,
                r#"<line x1="{lx}" y1="{}" x2="{}" y2="{}" stroke="{c}" stroke-width="2.2"/>"#,
                ly - 3.0,
                lx + 10.0,
                ly - 3.0
            );
        } else {
            let _ = write!(
                out,
                r##"<circle cx="{}" cy="{}" r="3.5" fill="{c}" stroke="#333333" stroke-width="0.4"/>"##,
                lx + 5.0,
                ly - 3.0
            );
        }
        let _ = write!(
            out,
            r#"<text x="{}" y="{ly}" font-size="8">{} ({count})</text>"#,
            lx + 15.0,
            xml(&label(layer_name, key))
        );
        ly += 11.0;
    }
    if scene.marks.iter().any(|m| m.stale) {
        let _ = write!(
            out,
            r##"<circle cx="{}" cy="{}" r="3.5" fill="#E69F00" fill-opacity="0.35" stroke="#555555" stroke-dasharray="2,1"/><text x="{}" y="{ly}" font-size="8">Ej omprövad i tid</text>"##,
            lx + 5.0,
            ly - 3.0,
            lx + 15.0
        );
        ly += 11.0;
    }
    if !scene.cells.is_empty() {
        let _ = write!(
            out,
            r#"<rect x="{lx}" y="{}" width="10" height="7" fill="{}" fill-opacity="0.6"/><text x="{}" y="{ly}" font-size="8">Antal händelser per 250 m-ruta (minst 3)</text>"#,
            ly - 7.0,
            aggregate_color(symbols),
            lx + 15.0
        );
        ly += 11.0;
    }
    if present.is_empty() && scene.cells.is_empty() {
        let _ = write!(
            out,
            r#"<text x="{lx}" y="{ly}" font-size="8">{}</text>"#,
            if scene.suppressed {
                "Inga antal att visa"
            } else {
                "Inga händelser"
            }
        );
        ly += 11.0;
    }
    (lx, ly)
}

/// The summary per area: the window against the previous one ("–" where counts are held
/// back).
fn summary(out: &mut String, scene: &Scene, l: &Layout, lx: f64, mut ly: f64) {
    let r = &scene.request;
    let Layout { pw, ph, margin, .. } = *l;
    ly += 10.0;
    let _ = write!(
        out,
        r##"<text x="{lx}" y="{ly}" font-size="10" font-weight="bold">Händelser per område</text>"##
    );
    ly += 12.0;
    let _ = write!(
        out,
        r##"<text x="{lx}" y="{ly}" font-size="7" fill="#333333">Perioden mot föregående lika långa period</text>"##
    );
    ly += 12.0;
    if scene.suppressed {
        // Counts-only roles: small counts are not shown, and the page says so where it counts.
        let _ = write!(
            out,
            r##"<text x="{lx}" y="{ly}" font-size="7" fill="#333333">– = visas inte: färre än 3 per ruta, vecka och kategori skyddas</text>"##
        );
        ly += 12.0;
    }
    let bottom = ph - margin - 10.0;
    let right = if r.landscape { pw - margin } else { lx + 300.0 };
    let shown = |n: usize| -> String {
        if scene.suppressed && n == 0 {
            "–".to_owned()
        } else {
            n.to_string()
        }
    };
    if scene.summary.is_empty() {
        let _ = write!(
            out,
            r#"<text x="{lx}" y="{ly}" font-size="8">{}</text>"#,
            if scene.suppressed {
                "Inga antal att visa (färre än 3 visas inte)"
            } else {
                "Inga händelser"
            }
        );
    }
    'areas: for (area, cats) in &scene.summary {
        let (now, before) = cats.values().fold((0, 0), |a, v| (a.0 + v.0, a.1 + v.1));
        let (now, before) = (shown(now), shown(before));
        let name = if area.is_empty() {
            "Utanför områdena"
        } else {
            area
        };
        if ly > bottom {
            let _ = write!(
                out,
                r#"<text x="{lx}" y="{ly}" font-size="7">… fler områden i underlaget</text>"#
            );
            break 'areas;
        }
        let _ = write!(
            out,
            r#"<text x="{}" y="{ly}" font-size="8" font-weight="bold">{}</text><text x="{}" y="{ly}" font-size="8" font-weight="bold" text-anchor="end">{now}</text><text x="{}" y="{ly}" font-size="8" text-anchor="end">{before}</text>"#,
            lx,
            xml(name),
            right - 30.0,
            right
        );
        ly += 10.0;
        for (cat, (a, b)) in cats {
            if ly > bottom {
                break 'areas;
            }
            let (a, b) = (shown(*a), shown(*b));
            let _ = write!(
                out,
                r#"<text x="{}" y="{ly}" font-size="7">{}</text><text x="{}" y="{ly}" font-size="7" text-anchor="end">{a}</text><text x="{}" y="{ly}" font-size="7" text-anchor="end">{b}</text>"#,
                lx + 8.0,
                xml(&label("incidents", cat)),
                right - 30.0,
                right
            );
            ly += 9.0;
        }
    }
}

/// The footer: source, CRS and scale.
fn footer(out: &mut String, l: &Layout, density: Option<&str>) {
    let Layout {
        ph,
        margin,
        ref frame,
        ..
    } = *l;
    let _ = write!(
        out,
        r##"<text x="{margin}" y="{}" font-size="6.5" fill="#555555">lagesbild · SWEREF 99 TM · Områdesgränser ungefärliga (geodata/) · Skala 1:{:.0}</text>"##,
        ph - 12.0,
        1.0 / (frame.scale / 72.0 * 0.0254)
    );
    if let Some(note) = density {
        let _ = write!(
            out,
            r##"<text x="{margin}" y="{}" font-size="6.5" fill="#555555">{}</text>"##,
            ph - 21.0,
            xml(note)
        );
    }
}

pub(super) fn polygons(g: &Geometry<f64>) -> Vec<Polygon<f64>> {
    match g {
        Geometry::Polygon(p) => vec![p.clone()],
        Geometry::MultiPolygon(m) => m.0.clone(),
        Geometry::Rect(r) => vec![r.to_polygon()],
        _ => Vec::new(),
    }
}

pub(super) fn lines(g: &Geometry<f64>) -> Vec<LineString<f64>> {
    match g {
        Geometry::LineString(l) => vec![l.clone()],
        Geometry::MultiLineString(m) => m.0.clone(),
        _ => Vec::new(),
    }
}

fn point_of(g: &Geometry<f64>) -> Option<geo::Point<f64>> {
    use geo::Centroid;
    match g {
        Geometry::Point(p) => Some(*p),
        other => other.centroid(),
    }
}
