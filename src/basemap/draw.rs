//! The basemap under a briefing's map: the tiles covering the map read from the basemap file,
//! decoded into longitude and latitude, and the layers of `web/basemap-style.json` kept with
//! the zoom each is drawn from (so paper shows what the screen shows at that scale).
//!
//! The zoom is the one at which the screen shows the map's scale, a page point taken for a
//! screen pixel; deeper than the archive's deepest zoom, its deepest tiles are drawn enlarged.

use std::f64::consts::PI;

use geo::{Coord, Geometry, MapCoords};

use super::Basemap;

/// The circumference of the Web Mercator sphere at the equator, in metres.
const EQUATOR_M: f64 = 40_075_016.686;
/// Pixels a tile is drawn across by MapLibre.
const TILE_PX: f64 = 512.0;
/// At most this many tiles under one map (a zoom is given up for a coarser one beyond it).
pub const MAX_TILES: usize = 144;

/// The basemap's kinds of feature, as the shipped style's source layers name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum BaseLayer {
    /// Forest, park, farmland.
    Landcover,
    /// Lakes, sea, rivers as areas.
    Water,
    /// Buildings (from zoom 13).
    Buildings,
    /// Roads and paths (kind: major, minor, path; name).
    Roads,
    /// Railways (kind: rail, subway).
    Railways,
    /// Administrative boundaries.
    Boundaries,
    /// Place and station names (kind: municipality, district, station; name).
    Places,
}

impl BaseLayer {
    /// The source layer's name in a tile.
    #[must_use]
    pub const fn source_layer(self) -> &'static str {
        match self {
            Self::Landcover => "landcover",
            Self::Water => "water",
            Self::Buildings => "buildings",
            Self::Roads => "roads",
            Self::Railways => "railways",
            Self::Boundaries => "boundaries",
            Self::Places => "places",
        }
    }

    /// Every layer, in drawing order.
    pub const ALL: [Self; 7] = [
        Self::Landcover,
        Self::Water,
        Self::Buildings,
        Self::Roads,
        Self::Railways,
        Self::Boundaries,
        Self::Places,
    ];
}

/// One feature of the basemap, in longitude and latitude.
#[derive(Debug, Clone)]
pub struct BaseFeature {
    /// Its layer.
    pub layer: BaseLayer,
    /// Its `kind` property (empty when it has none).
    pub kind: String,
    /// Its `name` property.
    pub name: Option<String>,
    /// The geometry, cut at its tile's edge (with the tile's buffer).
    pub geometry: Geometry<f64>,
}

/// What a briefing draws of the basemap.
#[derive(Debug, Clone, Default)]
pub struct BaseDrawing {
    /// The features, in [`BaseLayer`] order.
    pub features: Vec<BaseFeature>,
    /// The zoom the screen would show the map at (the style's zoom rules follow it).
    pub zoom: f64,
    /// The zoom whose tiles were read.
    pub tile_zoom: u8,
    /// Whose data it is.
    pub attribution: Option<String>,
    /// The archive's name.
    pub name: Option<String>,
    /// Tiles that could not be read or decoded (the page says so).
    pub failed: usize,
    /// The map needs more than [`MAX_TILES`] tiles even at the archive's lowest zoom: nothing is
    /// drawn, and the page says so.
    pub too_wide: bool,
}

/// The zoom at which the screen shows `points_per_metre` at latitude `lat`.
#[must_use]
pub fn screen_zoom(points_per_metre: f64, lat: f64) -> f64 {
    (EQUATOR_M * lat.to_radians().cos() * points_per_metre / TILE_PX).log2()
}

/// The tile column and row of a longitude and latitude at zoom `z` (clamped to the grid).
#[must_use]
pub fn tile_of(lon: f64, lat: f64, z: u8) -> (u32, u32) {
    let n = f64::from(1u32 << z);
    let lat = lat
        .clamp(-crate::tiles::MAX_LATITUDE, crate::tiles::MAX_LATITUDE)
        .to_radians();
    let fx = (lon + 180.0) / 360.0;
    let fy = (1.0 - (lat.tan() + 1.0 / lat.cos()).ln() / PI) / 2.0;
    let top = n - 1.0;
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let cell = |f: f64| (f * n).floor().clamp(0.0, top) as u32;
    (cell(fx), cell(fy))
}

/// The tiles at zoom `z` that cover `bbox`.
#[must_use]
pub fn tiles_over(bbox: [f64; 4], z: u8) -> Vec<(u32, u32)> {
    let (x0, y0) = tile_of(bbox[0], bbox[3], z);
    let (x1, y1) = tile_of(bbox[2], bbox[1], z);
    let mut out = Vec::new();
    for x in x0..=x1 {
        for y in y0..=y1 {
            out.push((x, y));
        }
    }
    out
}

/// Tile units of tile `(z, x, y)` with `extent` units a side, to longitude and latitude.
fn unproject(z: u8, x: u32, y: u32, extent: u32) -> impl Fn(Coord<f64>) -> Coord<f64> {
    let n = f64::from(1u32 << z);
    let e = f64::from(extent.max(1));
    move |c: Coord<f64>| {
        let fx = (f64::from(x) + c.x / e) / n;
        let fy = (f64::from(y) + c.y / e) / n;
        Coord {
            x: fx * 360.0 - 180.0,
            y: (PI * (1.0 - 2.0 * fy)).sinh().atan().to_degrees(),
        }
    }
}

fn text(
    props: &std::collections::HashMap<String, crate::tiles::Value>,
    key: &str,
) -> Option<String> {
    props.get(key).and_then(|v| match v {
        crate::tiles::Value::Str(s) => Some(s.clone()),
        _ => None,
    })
}

/// Decodes one tile's features of the shipped style's layers.
///
/// # Errors
/// The bytes are not a vector tile.
pub fn decode_tile(bytes: &[u8], z: u8, x: u32, y: u32) -> Result<Vec<BaseFeature>, String> {
    let layers = crate::tiles::decode_with_extent(bytes)?;
    let mut out = Vec::new();
    for layer in BaseLayer::ALL {
        let Some((extent, features)) = layers.get(layer.source_layer()) else {
            continue;
        };
        let to_lonlat = unproject(z, x, y, *extent);
        for (geometry, props) in features {
            out.push(BaseFeature {
                layer,
                kind: text(props, "kind").unwrap_or_default(),
                name: text(props, "name").filter(|n| !n.trim().is_empty()),
                geometry: geometry.map_coords(&to_lonlat),
            });
        }
    }
    Ok(out)
}

/// Reads and decodes the basemap under `bbox` for a map drawn at `points_per_metre`.
pub async fn gather(basemap: &Basemap, bbox: [f64; 4], points_per_metre: f64) -> BaseDrawing {
    let declared = basemap.declared();
    let zoom = screen_zoom(points_per_metre, (bbox[1] + bbox[3]) / 2.0);
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let wanted = zoom.floor().clamp(0.0, 24.0) as u8;
    let mut drawing = BaseDrawing {
        zoom,
        attribution: declared.attribution.clone(),
        name: declared.name.clone(),
        ..BaseDrawing::default()
    };
    // Only where the archive has tiles.
    let bbox = match declared.bounds {
        Some(b) => {
            let clipped = [
                bbox[0].max(b[0]),
                bbox[1].max(b[1]),
                bbox[2].min(b[2]),
                bbox[3].min(b[3]),
            ];
            if clipped[0] >= clipped[2] || clipped[1] >= clipped[3] {
                return drawing;
            }
            clipped
        }
        None => bbox,
    };
    let mut z = wanted.clamp(declared.min_zoom, declared.max_zoom.max(declared.min_zoom));
    let mut tiles = tiles_over(bbox, z);
    while tiles.len() > MAX_TILES && z > declared.min_zoom {
        z -= 1;
        tiles = tiles_over(bbox, z);
    }
    drawing.tile_zoom = z;
    if tiles.len() > MAX_TILES {
        drawing.too_wide = true;
        return drawing;
    }
    for (x, y) in tiles {
        match basemap.tile(z, x, y).await {
            Ok(None) => {}
            Ok(Some(bytes)) => match decode_tile(&bytes, z, x, y) {
                Ok(f) => drawing.features.extend(f),
                Err(e) => {
                    tracing::warn!(z, x, y, error = %e, "a basemap tile does not decode");
                    drawing.failed += 1;
                }
            },
            Err(e) => {
                tracing::warn!(z, x, y, error = %e, "a basemap tile cannot be read");
                drawing.failed += 1;
            }
        }
    }
    drawing.features.sort_by_key(|f| f.layer);
    drawing
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn screen_zoom_follows_maplibre_metres_per_pixel() {
        // MapLibre at zoom 12, latitude 59.2: 40 075 016.686 · cos(59.2°) / (512 · 2^12)
        // metres a pixel.
        let m_per_px = EQUATOR_M * 59.2_f64.to_radians().cos() / (512.0 * 4096.0);
        let z = screen_zoom(1.0 / m_per_px, 59.2);
        assert!((z - 12.0).abs() < 1e-9, "{z}");
    }

    #[test]
    fn tiles_cover_the_box_and_agree_with_the_tile_arithmetic() {
        let bbox = [17.80, 59.22, 17.90, 59.26];
        for z in [8u8, 12, 14] {
            let tiles = tiles_over(bbox, z);
            for corner in [(bbox[0], bbox[1]), (bbox[2], bbox[3])] {
                let t = tile_of(corner.0, corner.1, z);
                assert!(tiles.contains(&t));
                let id = crate::tiles::TileId::new(u32::from(z), t.1, t.0).unwrap();
                let (u, v) = id.to_tile(corner.0, corner.1);
                let e = f64::from(crate::tiles::EXTENT);
                assert!(
                    (0.0..=e).contains(&u) && (0.0..=e).contains(&v),
                    "{z}: {u},{v}"
                );
                // And back.
                let back = unproject(z, t.0, t.1, crate::tiles::EXTENT)(Coord { x: u, y: v });
                assert!((back.x - corner.0).abs() < 1e-9 && (back.y - corner.1).abs() < 1e-9);
            }
        }
    }

    #[tokio::test]
    async fn a_tile_that_does_not_decode_is_counted_not_hidden() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("broken.pmtiles");
        let file = std::fs::File::create(&path).unwrap();
        let mut w = pmtiles::PmTilesWriter::new(pmtiles::TileType::Mvt)
            .min_zoom(12)
            .max_zoom(12)
            .create(file)
            .unwrap();
        let good = super::super::overview::tiles()
            .into_iter()
            .find(|((z, _, _), _)| *z == 12)
            .unwrap();
        let ((_, gx, gy), bytes) = good;
        w.add_tile(pmtiles::TileCoord::new(12, gx, gy).unwrap(), &bytes)
            .unwrap();
        // A neighbour whose bytes are no vector tile (a field number of 0 is never valid).
        w.add_tile(
            pmtiles::TileCoord::new(12, gx + 1, gy).unwrap(),
            &[0x00, 0xff, 0x07],
        )
        .unwrap();
        w.finalize().unwrap();
        let basemap = Basemap::open(&path).await.unwrap();
        // Points per metre for zoom 12.5 at 59.2° N.
        let ppm = 512.0 * 2f64.powf(12.5) / (EQUATOR_M * 59.2_f64.to_radians().cos());
        let a = unproject(12, gx, gy, 4096)(Coord {
            x: 2048.0,
            y: 2048.0,
        });
        let b = unproject(12, gx + 1, gy, 4096)(Coord {
            x: 2048.0,
            y: 2048.0,
        });
        let drawing = gather(&basemap, [a.x, a.y - 0.001, b.x, a.y + 0.001], ppm).await;
        assert_eq!(drawing.tile_zoom, 12);
        assert_eq!(drawing.failed, 1);
        assert!(!drawing.features.is_empty(), "the good tile is still drawn");
    }
}
