//! Mapbox Vector Tiles (MVT 2.1) in the OGC WebMercatorQuad tile matrix set: tile arithmetic,
//! geometries cut into a tile, dense points gridded so a tile stays small, and the encoding.
//!
//! Nothing here knows about roles or grants: `service::tiles` decides what goes into a tile and
//! hands plain geometries and properties to [`LayerBuilder`].

use std::collections::HashMap;
use std::f64::consts::PI;

use geo::{
    BooleanOps, BoundingRect, Coord, Geometry, LineString, MapCoords, MultiLineString, Rect,
};
use geo::{Orient, Simplify, orient::Direction};
use geozero::mvt::{Message, TagsBuilder, Tile, TileValue, tile};

/// Tile coordinate units per tile side (the MVT default).
pub const EXTENT: u32 = 4096;
/// Units kept beyond each edge, so symbols at an edge are drawn whole by both neighbours.
pub const BUFFER: f64 = 64.0;
/// The deepest zoom level offered (a tile is then about 10 m across at Stockholm's latitude).
pub const MAX_ZOOM: u8 = 22;
/// The most a tile may weigh, however dense the data: larger layers are gridded.
pub const MAX_TILE_BYTES: usize = 500 * 1024;
/// More points than this in one tile's layer are gridded into [`GRID_UNITS`] cells.
pub const MAX_POINTS: usize = 4000;
/// The side of a gridding cell in tile units (8 px when a tile is drawn 512 px wide).
pub const GRID_UNITS: f64 = 64.0;
/// The highest latitude Web Mercator covers.
pub const MAX_LATITUDE: f64 = 85.051_128_779_806_59;

/// One tile of WebMercatorQuad: zoom (`tileMatrix`), row (`tileRow`, y from the north) and
/// column (`tileCol`, x from the antimeridian).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TileId {
    /// Zoom level, 0 to [`MAX_ZOOM`].
    pub z: u8,
    /// Column.
    pub x: u32,
    /// Row.
    pub y: u32,
}

impl TileId {
    /// A checked tile.
    ///
    /// # Errors
    /// A zoom above [`MAX_ZOOM`], or a row or column outside the zoom's 2^z.
    pub fn new(z: u32, y: u32, x: u32) -> Result<Self, String> {
        let z8 = u8::try_from(z)
            .ok()
            .filter(|z| *z <= MAX_ZOOM)
            .ok_or_else(|| format!("tileMatrix {z} is not offered; use 0 to {MAX_ZOOM}"))?;
        let n = 1u64 << z;
        if u64::from(x) >= n || u64::from(y) >= n {
            return Err(format!(
                "tile {z}/{y}/{x} is outside tile matrix {z}, whose rows and columns run from 0 to {}",
                n - 1
            ));
        }
        Ok(Self { z: z8, x, y })
    }

    fn n(self) -> f64 {
        f64::from(1u32 << self.z.min(31))
    }

    /// The tile's bounds `[min_lon, min_lat, max_lon, max_lat]`, grown by `margin` tile units
    /// on every side (clamped to the world).
    #[must_use]
    pub fn bounds_with(self, margin: f64) -> [f64; 4] {
        let n = self.n();
        let e = f64::from(EXTENT);
        let fx0 = (f64::from(self.x) - margin / e) / n;
        let fx1 = (f64::from(self.x) + 1.0 + margin / e) / n;
        let fy0 = (f64::from(self.y) - margin / e) / n;
        let fy1 = (f64::from(self.y) + 1.0 + margin / e) / n;
        let lon = |f: f64| f.clamp(0.0, 1.0) * 360.0 - 180.0;
        let lat = |f: f64| {
            let f = f.clamp(0.0, 1.0);
            (PI * (1.0 - 2.0 * f)).sinh().atan().to_degrees()
        };
        [lon(fx0), lat(fy1), lon(fx1), lat(fy0)]
    }

    /// The tile's bounds without margin.
    #[must_use]
    pub fn bounds(self) -> [f64; 4] {
        self.bounds_with(0.0)
    }

    /// Where a longitude and latitude fall in the tile, in tile units (y down; outside the tile
    /// gives values below 0 or above [`EXTENT`]).
    #[must_use]
    pub fn to_tile(self, lon: f64, lat: f64) -> (f64, f64) {
        let n = self.n();
        let e = f64::from(EXTENT);
        let lat = lat.clamp(-MAX_LATITUDE, MAX_LATITUDE).to_radians();
        let fx = (lon + 180.0) / 360.0;
        let fy = (1.0 - (lat.tan() + 1.0 / lat.cos()).ln() / PI) / 2.0;
        (
            (fx * n - f64::from(self.x)) * e,
            (fy * n - f64::from(self.y)) * e,
        )
    }
}

/// A property value in a tile.
pub type Value = TileValue;

/// A feature's properties in a tile: name and value.
pub type Props = Vec<(String, Value)>;

/// A point in tile units, its weight and its properties.
type TilePoint = (f64, f64, u64, Props);

/// One layer of one tile, being built.
pub struct LayerBuilder {
    tile: TileId,
    name: String,
    points: Vec<TilePoint>,
    others: Vec<(Geometry<f64>, Props)>,
}

/// A finished layer and what was done to it.
#[derive(Debug, Clone)]
pub struct Built {
    /// The encoded tile (one layer).
    pub bytes: Vec<u8>,
    /// Features put in (a gridded point counts as its points).
    pub features: usize,
    /// Whether points were gridded (each point feature then carries `count`).
    pub gridded: bool,
}

/// Rounds, drops repeated vertices, and reports whether enough are left.
fn snap_line(ls: &LineString<f64>, min: usize) -> Option<LineString<f64>> {
    let mut out: Vec<Coord<f64>> = Vec::with_capacity(ls.0.len());
    for c in &ls.0 {
        let r = Coord {
            x: c.x.round(),
            y: c.y.round(),
        };
        if out.last() != Some(&r) {
            out.push(r);
        }
    }
    (out.len() >= min).then(|| LineString::new(out))
}

fn snap_polygon(p: &geo::Polygon<f64>) -> Option<geo::Polygon<f64>> {
    let exterior = snap_line(p.exterior(), 4)?;
    let holes = p
        .interiors()
        .iter()
        .filter_map(|r| snap_line(r, 4))
        .collect();
    Some(geo::Polygon::new(exterior, holes))
}

impl LayerBuilder {
    /// An empty layer named `name` (the collection id).
    #[must_use]
    pub fn new(tile: TileId, name: &str) -> Self {
        Self {
            tile,
            name: name.to_owned(),
            points: Vec::new(),
            others: Vec::new(),
        }
    }

    /// How many features have been added.
    #[must_use]
    pub fn len(&self) -> usize {
        self.points.len() + self.others.len()
    }

    /// Whether nothing has been added.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Adds a feature (longitude and latitude); `weight` is what it counts for when points are
    /// gridded (1 for a feature, the count for a counted cell).
    pub fn add(&mut self, geometry: &Geometry<f64>, weight: u64, props: Props) {
        if let Geometry::Point(p) = geometry {
            let (x, y) = self.tile.to_tile(p.x(), p.y());
            self.points.push((x, y, weight, props));
        } else {
            let tile = self.tile;
            let g = geometry.map_coords(|c| {
                let (x, y) = tile.to_tile(c.x, c.y);
                Coord { x, y }
            });
            self.others.push((g, props));
        }
    }

    /// The layer encoded: points gridded when there are more than [`MAX_POINTS`] or when the
    /// tile would weigh more than [`MAX_TILE_BYTES`]; lines and polygons clipped to the tile
    /// with its buffer and simplified to a unit.
    #[must_use]
    pub fn finish(self) -> Built {
        let total = self.points.len() + self.others.len();
        let mut others = Vec::with_capacity(self.others.len());
        for (g, props) in self.others {
            if let Some(g) = cut(g) {
                others.push((g, props));
            }
        }
        let points: Vec<TilePoint> = self
            .points
            .into_iter()
            .filter(|(x, y, ..)| in_buffer(*x, *y))
            .collect();
        if points.len() <= MAX_POINTS {
            let bytes = encode(
                &self.name,
                points.iter().map(|(x, y, _, p)| (*x, *y, p.as_slice())),
                &others,
            );
            if bytes.len() <= MAX_TILE_BYTES {
                return Built {
                    bytes,
                    features: total,
                    gridded: false,
                };
            }
        }
        let cells = grid(&points);
        let cell_props: Vec<(f64, f64, Props)> = cells
            .into_iter()
            .map(|(x, y, count)| {
                (
                    x,
                    y,
                    vec![
                        ("count".to_owned(), Value::Uint(count)),
                        ("cluster".to_owned(), Value::Bool(true)),
                    ],
                )
            })
            .collect();
        let bytes = encode(
            &self.name,
            cell_props.iter().map(|(x, y, p)| (*x, *y, p.as_slice())),
            &others,
        );
        Built {
            bytes,
            features: total,
            gridded: true,
        }
    }
}

fn in_buffer(x: f64, y: f64) -> bool {
    let e = f64::from(EXTENT);
    (-BUFFER..=e + BUFFER).contains(&x) && (-BUFFER..=e + BUFFER).contains(&y)
}

/// Points summed per [`GRID_UNITS`] cell, each placed at its points' weighted mean.
fn grid(points: &[TilePoint]) -> Vec<(f64, f64, u64)> {
    let mut cells: HashMap<(i64, i64), (f64, f64, u64)> = HashMap::new();
    for (x, y, w, _) in points {
        // Truncation is the point: the cell a coordinate falls in.
        #[allow(clippy::cast_possible_truncation)]
        let key = (
            (x / GRID_UNITS).floor() as i64,
            (y / GRID_UNITS).floor() as i64,
        );
        let c = cells.entry(key).or_insert((0.0, 0.0, 0));
        #[allow(clippy::cast_precision_loss)]
        let wf = *w as f64;
        c.0 += x * wf;
        c.1 += y * wf;
        c.2 += w;
    }
    let mut out: Vec<_> = cells.into_iter().collect();
    out.sort_unstable_by_key(|(k, _)| *k);
    out.into_iter()
        .filter(|(_, (_, _, n))| *n > 0)
        .map(|(_, (sx, sy, n))| {
            #[allow(clippy::cast_precision_loss)]
            let nf = n as f64;
            (sx / nf, sy / nf, n)
        })
        .collect()
}

/// A line or polygon (in tile units) clipped to the tile and its buffer, simplified and snapped
/// to whole units; `None` when nothing is left.
fn cut(g: Geometry<f64>) -> Option<Geometry<f64>> {
    let e = f64::from(EXTENT);
    let clip = Rect::new(
        Coord {
            x: -BUFFER,
            y: -BUFFER,
        },
        Coord {
            x: e + BUFFER,
            y: e + BUFFER,
        },
    );
    let bounds = g.bounding_rect()?;
    if bounds.max().x < clip.min().x
        || bounds.min().x > clip.max().x
        || bounds.max().y < clip.min().y
        || bounds.min().y > clip.max().y
    {
        return None;
    }
    let inside = bounds.min().x >= clip.min().x
        && bounds.min().y >= clip.min().y
        && bounds.max().x <= clip.max().x
        && bounds.max().y <= clip.max().y;
    match g {
        Geometry::LineString(ls) => lines(MultiLineString::new(vec![ls]), inside, clip),
        Geometry::MultiLineString(ml) => lines(ml, inside, clip),
        Geometry::Polygon(p) => polygons(geo::MultiPolygon::new(vec![p]), inside, clip),
        Geometry::MultiPolygon(mp) => polygons(mp, inside, clip),
        Geometry::MultiPoint(mp) => {
            let kept: Vec<geo::Point<f64>> =
                mp.0.into_iter()
                    .filter(|p| in_buffer(p.x(), p.y()))
                    .collect();
            (!kept.is_empty()).then(|| Geometry::MultiPoint(geo::MultiPoint::new(kept)))
        }
        Geometry::Point(p) => in_buffer(p.x(), p.y()).then_some(Geometry::Point(p)),
        _ => None,
    }
}

fn lines(ml: MultiLineString<f64>, inside: bool, clip: Rect<f64>) -> Option<Geometry<f64>> {
    let ml = if inside {
        ml
    } else {
        clip.to_polygon().clip(&ml, false)
    };
    let parts: Vec<LineString<f64>> =
        ml.0.iter()
            .filter_map(|l| snap_line(&l.simplify(0.5), 2))
            .collect();
    match parts.len() {
        0 => None,
        1 => parts.into_iter().next().map(Geometry::LineString),
        _ => Some(Geometry::MultiLineString(MultiLineString::new(parts))),
    }
}

fn polygons(mp: geo::MultiPolygon<f64>, inside: bool, clip: Rect<f64>) -> Option<Geometry<f64>> {
    let mp = if inside {
        mp
    } else {
        mp.intersection(&clip.to_polygon())
    };
    // MVT wants exterior rings with a positive area in tile units (y down): geo's default.
    let parts: Vec<geo::Polygon<f64>> =
        mp.0.iter()
            .filter_map(|p| snap_polygon(&p.simplify(0.5)))
            .map(|p| p.orient(Direction::Default))
            .collect();
    match parts.len() {
        0 => None,
        1 => parts.into_iter().next().map(Geometry::Polygon),
        _ => Some(Geometry::MultiPolygon(geo::MultiPolygon::new(parts))),
    }
}

fn encode<'a>(
    name: &str,
    points: impl Iterator<Item = (f64, f64, &'a [(String, Value)])>,
    others: &[(Geometry<f64>, Props)],
) -> Vec<u8> {
    use geozero::ToMvt;
    let mut tags = TagsBuilder::new();
    let mut features = Vec::new();
    let mut push = |g: &Geometry<f64>, props: &[(String, Value)]| {
        let Ok(mut f) = g.to_mvt_unscaled() else {
            return;
        };
        for (k, v) in props {
            let (ki, vi) = tags.insert_ref(k, v.clone());
            f.tags.push(ki);
            f.tags.push(vi);
        }
        features.push(f);
    };
    for (x, y, props) in points {
        push(
            &Geometry::Point(geo::Point::new(x.round(), y.round())),
            props,
        );
    }
    for (g, props) in others {
        push(g, props);
    }
    let (keys, values) = tags.into_tags();
    let layer = tile::Layer {
        version: 2,
        name: name.to_owned(),
        features,
        keys,
        values: values.into_iter().map(Into::into).collect(),
        extent: Some(EXTENT),
    };
    Tile {
        layers: vec![layer],
    }
    .encode_to_vec()
}

/// The entity tag of a tile's bytes (the same bytes give the same tag on every instance, so a
/// tag never outlives the content it names: nothing is cached to go stale).
#[must_use]
pub fn etag(bytes: &[u8]) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(bytes);
    let hex: String = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
    format!("\"t{hex}\"")
}

/// One decoded feature: its geometry in tile units and its properties.
pub type Decoded = (Geometry<f64>, HashMap<String, Value>);

/// Reads a tile back: per layer name, its features (for tests and tools).
///
/// # Errors
/// When the bytes are not a vector tile.
pub fn decode(bytes: &[u8]) -> Result<HashMap<String, Vec<Decoded>>, String> {
    let tile = Tile::decode(bytes).map_err(|e| e.to_string())?;
    let mut out = HashMap::new();
    for layer in tile.layers {
        let mut features = Vec::with_capacity(layer.features.len());
        for f in &layer.features {
            let mut writer = geozero::geo_types::GeoWriter::new();
            geozero::mvt::process_geom(f, &mut writer).map_err(|e| e.to_string())?;
            let geometry = writer
                .take_geometry()
                .ok_or_else(|| "a feature without geometry".to_owned())?;
            let mut props = HashMap::new();
            for pair in f.tags.chunks(2) {
                let (Some(k), Some(v)) = (
                    pair.first().and_then(|i| layer.keys.get(*i as usize)),
                    pair.get(1).and_then(|i| layer.values.get(*i as usize)),
                ) else {
                    return Err("a tag points past the key or value table".into());
                };
                let v = Value::try_from(v.clone()).map_err(|()| "an empty value".to_owned())?;
                props.insert(k.clone(), v);
            }
            features.push((geometry, props));
        }
        out.insert(layer.name, features);
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
