//! Mapbox Vector Tiles (MVT 2.1) in the OGC WebMercatorQuad tile matrix set: tile arithmetic,
//! geometries cut into a tile, dense points gridded so a tile stays small, and the encoding.
//!
//! Nothing here knows about roles or grants: `service::tiles` decides what goes into a tile and
//! hands plain geometries and properties to [`LayerBuilder`].

use std::collections::HashMap;
use std::f64::consts::PI;

use bytes::Bytes;
use geo::{
    BooleanOps, BoundingRect, Coord, Geometry, LineString, MapCoords, MultiLineString, Rect,
};
use geo::{Orient, Simplify, orient::Direction};
use geozero::mvt::{Message, Tile, TileValue};

mod mvt;

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

pub use mvt::{Key, Tags, ValueRef};

/// A point in tile units, its weight and where its tag pairs lie in the layer's [`Tags`].
type TilePoint = (f64, f64, u64, (usize, usize));

/// One layer of one tile, being built: points kept (they may yet be gridded), other
/// geometries cut to the tile as they come, and properties interned into the layer's tables.
pub struct LayerBuilder {
    tile: TileId,
    name: String,
    added: usize,
    /// Grid the points however few there are (the caller has decided).
    force_grid: bool,
    tags: Tags,
    points: Vec<TilePoint>,
    others: Vec<(Geometry<f64>, (usize, usize))>,
}

/// A finished layer and what was done to it.
#[derive(Debug, Clone)]
pub struct Built {
    /// The encoded tile (one layer), shared: a kept tile is answered without a copy.
    pub bytes: Bytes,
    /// Its entity tag ([`etag`]), worked out once when the tile was cut.
    pub etag: String,
    /// Features put in (a gridded point counts as its points).
    pub features: usize,
    /// Whether points were gridded (each point feature then carries `count`).
    pub gridded: bool,
}

impl Built {
    /// A tile of `bytes` holding `features`, `gridded` or not, with its entity tag.
    #[must_use]
    pub fn new(bytes: Vec<u8>, features: usize, gridded: bool) -> Self {
        Self {
            etag: etag(&bytes),
            bytes: Bytes::from(bytes),
            features,
            gridded,
        }
    }
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
            added: 0,
            force_grid: false,
            tags: Tags::default(),
            points: Vec::new(),
            others: Vec::new(),
        }
    }

    /// How many features have been added.
    #[must_use]
    pub fn len(&self) -> usize {
        self.added
    }

    /// How many features are in the tile (those cut away entirely, or outside it, are not).
    #[must_use]
    pub fn kept(&self) -> usize {
        self.points.len() + self.others.len()
    }

    /// Whether nothing has been added.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Grids the points whatever their number (for a caller that has decided the tile holds
    /// too many features to list; their properties are then not asked for).
    pub fn grid_points(&mut self) {
        self.force_grid = true;
    }

    /// Adds a feature (longitude and latitude); `weight` is what it counts for when points are
    /// gridded (1 for a feature, the count for a counted cell).
    pub fn add(&mut self, geometry: &Geometry<f64>, weight: u64, props: Props) {
        self.add_with(geometry, weight, |tags| {
            for (k, v) in &props {
                tags.value(k, v);
            }
        });
    }

    /// Adds a feature whose properties `props` writes straight into the layer's tables
    /// (without building a [`Props`] first). Nothing outside the tile and its buffer is kept,
    /// and `props` is not called for it.
    pub fn add_with(
        &mut self,
        geometry: &Geometry<f64>,
        weight: u64,
        props: impl FnOnce(&mut Tags),
    ) {
        self.added += 1;
        if let Geometry::Point(p) = geometry {
            let (x, y) = self.tile.to_tile(p.x(), p.y());
            if !in_buffer(x, y) {
                return;
            }
            let from = self.tags.mark();
            props(&mut self.tags);
            self.points.push((x, y, weight, (from, self.tags.mark())));
        } else {
            let tile = self.tile;
            let g = geometry.map_coords(|c| {
                let (x, y) = tile.to_tile(c.x, c.y);
                Coord { x, y }
            });
            if let Some(g) = cut(g) {
                let from = self.tags.mark();
                props(&mut self.tags);
                self.others.push((g, (from, self.tags.mark())));
            }
        }
    }

    /// The layer encoded: points gridded when there are more than [`MAX_POINTS`] or when the
    /// tile would weigh more than [`MAX_TILE_BYTES`]; lines and polygons clipped to the tile
    /// with its buffer and simplified to a unit.
    #[must_use]
    pub fn finish(self) -> Built {
        let total = self.added;
        if !self.force_grid && self.points.len() <= MAX_POINTS {
            // A point with a handful of properties takes 20 to 30 bytes.
            let mut features =
                mvt::Features::with_capacity(self.points.len() + self.others.len(), 32);
            for (x, y, _, (from, to)) in &self.points {
                features.point(self.tags.pairs(*from, *to), unit(*x), unit(*y));
            }
            write_others(&mut features, &self.others, &self.tags);
            let bytes = mvt::tile(&self.name, &features, &self.tags, EXTENT);
            if bytes.len() <= MAX_TILE_BYTES {
                return Built::new(bytes, total, false);
            }
        }
        // Gridded: the points' own properties are left behind; the other geometries keep
        // theirs, interned again into fresh tables.
        let mut tags = Tags::default();
        let mut features = mvt::Features::default();
        for (x, y, count) in grid(&self.points) {
            let from = tags.mark();
            tags.uint("count", count);
            tags.value("cluster", &Value::Bool(true));
            features.point(tags.pairs(from, tags.mark()), unit(x), unit(y));
        }
        let mut others = Vec::with_capacity(self.others.len());
        for (g, (from, to)) in self.others {
            let start = tags.mark();
            copy_pairs(&self.tags, from, to, &mut tags);
            others.push((g, (start, tags.mark())));
        }
        write_others(&mut features, &others, &tags);
        let bytes = mvt::tile(&self.name, &features, &tags, EXTENT);
        // Said gridded only when there were points to grid.
        Built::new(bytes, total, !self.points.is_empty())
    }
}

/// A coordinate in whole tile units (the buffer keeps it far inside `i32`).
#[allow(clippy::cast_possible_truncation)]
fn unit(v: f64) -> i32 {
    v.round() as i32
}

/// The pairs `from..to` of `source` added again to `target` (their values re-encoded).
fn copy_pairs(source: &Tags, from: usize, to: usize, target: &mut Tags) {
    for pair in source.pairs(from, to).chunks_exact(2) {
        target.copy_from(source, pair[0], pair[1]);
    }
}

/// Lines and polygons (already cut, in tile units) as features.
fn write_others(
    features: &mut mvt::Features,
    others: &[(Geometry<f64>, (usize, usize))],
    tags: &Tags,
) {
    use geozero::ToMvt;
    for (g, (from, to)) in others {
        let Ok(f) = g.to_mvt_unscaled() else {
            continue;
        };
        // A geometry MVT has no type for (a collection) is left out.
        let Some(kind) = f
            .r#type
            .and_then(|t| u32::try_from(t).ok())
            .filter(|t| *t > 0)
        else {
            continue;
        };
        features.push(tags.pairs(*from, *to), kind, &f.geometry);
    }
}

fn in_buffer(x: f64, y: f64) -> bool {
    let e = f64::from(EXTENT);
    (-BUFFER..=e + BUFFER).contains(&x) && (-BUFFER..=e + BUFFER).contains(&y)
}

/// Fixed-point steps per tile unit when positions are summed for gridding.
const FIXED: f64 = 65_536.0;

/// Points summed per [`GRID_UNITS`] cell, each placed at its points' weighted mean. The sums
/// are kept in fixed point, so they do not depend on the order the points come in (an
/// R-tree's order differs between instances; the tile's bytes and `ETag` must not). Points
/// lie within the buffer, so the cells form a small dense grid.
fn grid(points: &[TilePoint]) -> Vec<(f64, f64, u64)> {
    // Cells from -BUFFER to EXTENT + BUFFER, one more for the far edge.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let side = ((f64::from(EXTENT) + 2.0 * BUFFER) / GRID_UNITS).ceil() as usize + 1;
    let mut cells: Vec<(i128, i128, u64)> = vec![(0, 0, 0); side * side];
    let cell = |v: f64| -> usize {
        // Truncation is the point: the cell a coordinate falls in (in_buffer kept it in range).
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let i = ((v + BUFFER) / GRID_UNITS).floor().max(0.0) as usize;
        i.min(side - 1)
    };
    for (x, y, w, _) in points {
        // Fixed point: the buffer keeps the values far inside i64.
        #[allow(clippy::cast_possible_truncation)]
        let (fx, fy) = ((x * FIXED).round() as i64, (y * FIXED).round() as i64);
        let c = &mut cells[cell(*y) * side + cell(*x)];
        let wi = i128::from(*w);
        c.0 += i128::from(fx) * wi;
        c.1 += i128::from(fy) * wi;
        c.2 += w;
    }
    // Column by column (x, then y), as the cells were ordered before.
    let mut out = Vec::new();
    for cx in 0..side {
        for cy in 0..side {
            let (sx, sy, n) = cells[cy * side + cx];
            if n > 0 {
                // The mean in fixed point, back to tile units (well inside f64's exact range).
                #[allow(clippy::cast_precision_loss)]
                let mean = |s: i128| (s / i128::from(n)) as f64 / FIXED;
                out.push((mean(sx), mean(sy), n));
            }
        }
    }
    out
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
    Ok(decode_with_extent(bytes)?
        .into_iter()
        .map(|(name, (_, features))| (name, features))
        .collect())
}

/// Reads a tile back: per layer name, its extent (tile units per side) and its features.
///
/// # Errors
/// When the bytes are not a vector tile.
pub fn decode_with_extent(bytes: &[u8]) -> Result<HashMap<String, (u32, Vec<Decoded>)>, String> {
    let tile = Tile::decode(bytes).map_err(|e| e.to_string())?;
    let mut out = HashMap::new();
    for layer in tile.layers {
        let extent = layer.extent.unwrap_or(EXTENT);
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
        out.insert(layer.name, (extent, features));
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
