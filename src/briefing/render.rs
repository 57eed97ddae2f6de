//! One SVG page, then PDF (krilla-svg: vector, text stays text) or PNG (resvg), with the fonts
//! shipped in `assets/fonts/` so no system font is ever used.

use std::sync::{Arc, OnceLock};

use krilla::Document;
use krilla::geom::Size;
use krilla::page::PageSettings;
use krilla_svg::{SurfaceExt, SvgSettings};
use resvg::usvg;
use resvg::usvg::fontdb;

/// DejaVu Sans (free licence in `assets/fonts/`): the briefings' text, and the map client's
/// labels (served at `/fonts/DejaVuSans.ttf`), so screen and paper read alike.
pub const FONT_REGULAR: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
/// DejaVu Sans Bold (`/fonts/DejaVuSans-Bold.ttf`).
pub const FONT_BOLD: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans-Bold.ttf");

/// The shipped fonts.
const FONTS: &[&[u8]] = &[FONT_REGULAR, FONT_BOLD];

/// The family every text of a briefing uses.
pub const FONT_FAMILY: &str = "DejaVu Sans";

fn options() -> &'static usvg::Options<'static> {
    static OPTIONS: OnceLock<usvg::Options<'static>> = OnceLock::new();
    OPTIONS.get_or_init(|| {
        let mut db = fontdb::Database::new();
        for f in FONTS {
            db.load_font_data(f.to_vec());
        }
        usvg::Options {
            font_family: FONT_FAMILY.into(),
            fontdb: Arc::new(db),
            ..usvg::Options::default()
        }
    })
}

/// Rendering failed (a bug: the SVG is ours).
#[derive(Debug, thiserror::Error)]
#[error("cannot render the briefing: {0}")]
pub struct RenderError(pub String);

fn tree(svg: &str) -> Result<usvg::Tree, RenderError> {
    usvg::Tree::from_str(svg, options()).map_err(|e| RenderError(e.to_string()))
}

/// A PDF of one or more SVG pages (sizes in points).
///
/// # Errors
/// Only if an SVG does not parse or krilla refuses it.
pub fn pdf(pages: &[String]) -> Result<Vec<u8>, RenderError> {
    let mut document = Document::new();
    for svg in pages {
        let t = tree(svg)?;
        let (w, h) = (t.size().width(), t.size().height());
        let settings =
            PageSettings::from_wh(w, h).ok_or_else(|| RenderError("empty page".into()))?;
        let mut page = document.start_page_with(settings);
        let mut surface = page.surface();
        let size = Size::from_wh(w, h).ok_or_else(|| RenderError("empty page".into()))?;
        surface
            .draw_svg(&t, size, SvgSettings::default())
            .ok_or_else(|| RenderError("the SVG could not be drawn".into()))?;
        surface.finish();
        page.finish();
    }
    document.finish().map_err(|e| RenderError(format!("{e:?}")))
}

/// A PNG with a transparent background of an SVG in pixels (map overlays).
///
/// # Errors
/// Only if the SVG does not parse or the image would be empty.
pub fn png_overlay(svg: &str) -> Result<Vec<u8>, RenderError> {
    let t = tree(svg)?;
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let (w, h) = (
        t.size().width().round() as u32,
        t.size().height().round() as u32,
    );
    let mut pixmap =
        tiny_skia::Pixmap::new(w, h).ok_or_else(|| RenderError(format!("{w}×{h} px is empty")))?;
    resvg::render(&t, tiny_skia::Transform::identity(), &mut pixmap.as_mut());
    pixmap.encode_png().map_err(|e| RenderError(e.to_string()))
}

/// A PNG of one SVG page at `dpi` (the SVG is in points, 72 to the inch).
///
/// # Errors
/// Only if the SVG does not parse or the image would be empty.
pub fn png(svg: &str, dpi: u32) -> Result<Vec<u8>, RenderError> {
    let t = tree(svg)?;
    #[allow(clippy::cast_precision_loss)]
    let scale = dpi as f32 / 72.0;
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let (w, h) = (
        (t.size().width() * scale).round() as u32,
        (t.size().height() * scale).round() as u32,
    );
    let mut pixmap =
        tiny_skia::Pixmap::new(w, h).ok_or_else(|| RenderError(format!("{w}×{h} px is empty")))?;
    pixmap.fill(tiny_skia::Color::WHITE);
    resvg::render(
        &t,
        tiny_skia::Transform::from_scale(scale, scale),
        &mut pixmap.as_mut(),
    );
    pixmap.encode_png().map_err(|e| RenderError(e.to_string()))
}
