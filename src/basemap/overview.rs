//! The demo's own overview map, written as a PMTiles archive at start (`serve --demo` without a
//! `basemap` setting), so the demo's picture has places to read it by with nothing downloaded.
//!
//! What it holds, and whence (see `geodata/README.md`):
//! - `boundaries` and `places` (district): the project's own approximate district outlines
//!   (`geodata/areas.geojson`), named at a point inside each;
//! - `places` (station) and `railways`: railway and metro stations, public facts (Trafikverket's
//!   station positions; metro stations © OpenStreetMap contributors, ODbL), joined by straight
//!   lines in the order the trains run: a schematic, not the track;
//! - `places` (municipality): the two municipalities' reference points;
//! - `roads` (minor) and `buildings`: the demo's fictitious street grid and blocks
//!   ([`crate::demo::reference`]), the same the camera views are cut by.
//!
//! There is no water or land cover: no shoreline is shipped. The archive says it is an
//! overview map, and whose data it holds, in its attribution.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use geo::{BoundingRect, Coord, Geometry, InteriorPoint, LineString, Point};

use crate::domain::Properties;
use crate::tiles::{LayerBuilder, Props, TileId, Value};

/// The lowest zoom written.
pub const MIN_ZOOM: u8 = 8;
/// The deepest zoom written (MapLibre and the briefings enlarge it beyond).
pub const MAX_ZOOM: u8 = 15;
/// What the archive is called (shown with the attribution).
pub const NAME: &str = "Översiktskarta (demo)";
/// Whose data it holds.
pub const ATTRIBUTION: &str =
    "Översiktskarta (demo) · stationer: Trafikverket, © OpenStreetMap-bidragsgivare (ODbL)";

/// A station: name, longitude, latitude (public facts, rounded to about a metre).
type Station = (&'static str, f64, f64);

/// Commuter and regional rail through the two municipalities, in running order.
const RAIL: &[&[Station]] = &[
    &[
        ("Flemingsberg", 17.94784, 59.21926),
        ("Tullinge", 17.90527, 59.20570),
        ("Tumba", 17.83839, 59.19949),
        ("Rönninge", 17.75223, 59.19351),
        ("Östertälje", 17.65839, 59.18499),
        ("Södertälje hamn", 17.64722, 59.17763),
        ("Södertälje C", 17.62835, 59.19114),
    ],
    &[
        ("Södertälje hamn", 17.64722, 59.17763),
        ("Södertälje Syd", 17.64549, 59.16342),
        ("Järna", 17.56839, 59.09382),
        ("Mölnbo", 17.41829, 59.04736),
    ],
    &[("Järna", 17.56839, 59.09382), ("Hölö", 17.53481, 59.02593)],
];

/// The red metro line's southern end, in running order.
const METRO: &[Station] = &[
    ("Skärholmen", 17.90675, 59.27692),
    ("Vårberg", 17.89065, 59.27601),
    ("Vårby gård", 17.88366, 59.26508),
    ("Masmo", 17.88150, 59.24978),
    ("Fittja", 17.86070, 59.24736),
    ("Alby", 17.84481, 59.23931),
    ("Hallunda", 17.82509, 59.24328),
    ("Norsborg", 17.81273, 59.24390),
];

/// The municipalities' reference points (as the police's open API uses them).
const MUNICIPALITIES: &[Station] = &[
    ("Botkyrka", 17.84086, 59.24594),
    ("Södertälje", 17.62569, 59.19536),
];

/// One feature of the overview: layer, its zooms, the geometry and properties.
struct Item {
    layer: &'static str,
    min_zoom: u8,
    geometry: Geometry<f64>,
    props: Props,
}

fn props(kind: &str, name: Option<&str>) -> Props {
    let mut p = vec![("kind".to_owned(), Value::Str(kind.to_owned()))];
    if let Some(n) = name {
        p.push(("name".to_owned(), Value::Str(n.to_owned())));
    }
    p
}

/// Everything the overview holds.
fn items() -> Vec<Item> {
    let mut out = Vec::new();
    let stamp = time::OffsetDateTime::UNIX_EPOCH;
    for area in crate::demo::areas(stamp) {
        let Properties::Area(a) = &area.properties else {
            continue;
        };
        let polygons: Vec<geo::Polygon<f64>> = match &*area.geometry() {
            Geometry::Polygon(p) => vec![p.clone()],
            Geometry::MultiPolygon(mp) => mp.0.clone(),
            _ => Vec::new(),
        };
        for p in &polygons {
            out.push(Item {
                layer: "boundaries",
                min_zoom: MIN_ZOOM,
                geometry: Geometry::LineString(p.exterior().clone()),
                props: props("district", None),
            });
        }
        if let Some(point) = area.geometry().interior_point() {
            out.push(Item {
                layer: "places",
                min_zoom: 11,
                geometry: Geometry::Point(point),
                props: props("district", Some(&a.name)),
            });
        }
    }
    let mut stations: HashMap<&str, (f64, f64)> = HashMap::new();
    for (line, kind) in RAIL
        .iter()
        .map(|l| (*l, "rail"))
        .chain(std::iter::once((METRO, "subway")))
    {
        out.push(Item {
            layer: "railways",
            min_zoom: MIN_ZOOM,
            geometry: Geometry::LineString(LineString::new(
                line.iter()
                    .map(|(_, x, y)| Coord { x: *x, y: *y })
                    .collect(),
            )),
            props: props(kind, None),
        });
        for (name, x, y) in line {
            stations.insert(name, (*x, *y));
        }
    }
    let mut names: Vec<_> = stations.into_iter().collect();
    names.sort_by(|a, b| a.0.cmp(b.0));
    for (name, (x, y)) in names {
        out.push(Item {
            layer: "places",
            min_zoom: 10,
            geometry: Geometry::Point(Point::new(x, y)),
            props: props("station", Some(name)),
        });
    }
    for (name, x, y) in MUNICIPALITIES {
        out.push(Item {
            layer: "places",
            min_zoom: MIN_ZOOM,
            geometry: Geometry::Point(Point::new(*x, *y)),
            props: props("municipality", Some(name)),
        });
    }
    let (paths, buildings) = crate::demo::reference();
    out.extend(paths.into_iter().map(|g| Item {
        layer: "roads",
        min_zoom: 12,
        geometry: g,
        props: props("minor", None),
    }));
    out.extend(buildings.into_iter().map(|g| Item {
        layer: "buildings",
        min_zoom: 13,
        geometry: g,
        props: Props::new(),
    }));
    out
}

/// The source layers in the order they are written into a tile.
const LAYERS: [&str; 5] = ["buildings", "roads", "railways", "boundaries", "places"];

/// The overview's tiles: `(z, x, y)` and the encoded tile, for every tile with something in it.
#[must_use]
pub fn tiles() -> Vec<((u8, u32, u32), Vec<u8>)> {
    cut(&items())
}

/// `items` cut into tiles: `(z, x, y)` and the encoded tile, for every tile with something in it.
fn cut(items: &[Item]) -> Vec<((u8, u32, u32), Vec<u8>)> {
    let mut out = Vec::new();
    for z in MIN_ZOOM..=MAX_ZOOM {
        // Which items touch which tile (by their bounds, with the tile buffer's worth of slack).
        let mut buckets: std::collections::BTreeMap<(u32, u32), Vec<usize>> =
            std::collections::BTreeMap::new();
        for (i, item) in items.iter().enumerate() {
            if item.min_zoom > z {
                continue;
            }
            let Some(r) = item.geometry.bounding_rect() else {
                continue;
            };
            let slack = 360.0 / f64::from(1u32 << z) * crate::tiles::BUFFER
                / f64::from(crate::tiles::EXTENT);
            let (x0, y0) = super::draw::tile_of(r.min().x - slack, r.max().y + slack, z);
            let (x1, y1) = super::draw::tile_of(r.max().x + slack, r.min().y - slack, z);
            for x in x0..=x1 {
                for y in y0..=y1 {
                    buckets.entry((x, y)).or_default().push(i);
                }
            }
        }
        for ((x, y), members) in buckets {
            let Ok(id) = TileId::new(u32::from(z), y, x) else {
                continue;
            };
            let mut bytes = Vec::new();
            for layer in LAYERS {
                let mut builder = LayerBuilder::new(id, layer);
                for i in &members {
                    let item = &items[*i];
                    if item.layer == layer {
                        builder.add(&item.geometry, 1, item.props.clone());
                    }
                }
                // A layer whose features were all cut away (a bounding box reaching in, a
                // line passing by) is left out.
                if builder.kept() > 0 {
                    bytes.extend_from_slice(&builder.finish().bytes);
                }
            }
            if !bytes.is_empty() {
                out.push(((z, x, y), bytes));
            }
        }
    }
    out
}

/// Where the overview is written: the system's temporary folder (it is made again at every
/// start, the same bytes every time).
#[must_use]
pub fn default_path() -> PathBuf {
    use std::os::unix::fs::MetadataExt;
    // One per user: another user's file in a shared /tmp cannot be replaced.
    let uid = std::fs::metadata("/proc/self").map_or(0, |m| m.uid());
    std::env::temp_dir().join(format!("lagesbild-oversiktskarta-{uid}.pmtiles"))
}

/// Writes the overview to `path` (through a temporary file and a rename, so a server reading
/// the previous one is never handed half a file).
///
/// # Errors
/// The file cannot be written.
pub fn write(path: &Path) -> Result<(), String> {
    let partial = path.with_extension(format!("pmtiles.{}.part", uuid::Uuid::new_v4()));
    let written = write_to(&partial);
    let moved = written.and_then(|()| {
        std::fs::rename(&partial, path)
            .map_err(|e| format!("cannot write the overview map '{}': {e}", path.display()))
    });
    if moved.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    moved
}

/// Writes the archive to `partial`.
fn write_to(partial: &Path) -> Result<(), String> {
    let items = items();
    let mut tiles = cut(&items);
    // Hilbert order: the archive is then "clustered", read fastest.
    tiles.sort_by_key(|((z, x, y), _)| {
        pmtiles::TileCoord::new(*z, *x, *y)
            .map(|c| pmtiles::TileId::from(c).value())
            .unwrap_or(u64::MAX)
    });
    let file = std::fs::File::create(partial)
        .map_err(|e| format!("cannot write the overview map '{}': {e}", partial.display()))?;
    let metadata = serde_json::json!({
        "name": NAME,
        "attribution": ATTRIBUTION,
        "description": "Översiktskarta för demon: ungefärliga områden, stationer (schematiska linjer) och påhittade gator",
        "vector_layers": LAYERS.iter().map(|l| serde_json::json!({"id": l, "fields": {"kind": "String", "name": "String"}})).collect::<Vec<_>>(),
    });
    let (mut w0, mut s0, mut w1, mut n1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
    for item in &items {
        if let Some(r) = item.geometry.bounding_rect() {
            w0 = w0.min(r.min().x);
            s0 = s0.min(r.min().y);
            w1 = w1.max(r.max().x);
            n1 = n1.max(r.max().y);
        }
    }
    let mut writer = pmtiles::PmTilesWriter::new(pmtiles::TileType::Mvt)
        .min_zoom(MIN_ZOOM)
        .max_zoom(MAX_ZOOM)
        .bounds(w0, s0, w1, n1)
        .center((w0 + w1) / 2.0, (s0 + n1) / 2.0)
        .center_zoom(11)
        .metadata(metadata.to_string())
        .create(std::io::BufWriter::new(file))
        .map_err(|e| format!("cannot write the overview map: {e}"))?;
    for ((z, x, y), bytes) in &tiles {
        let coord = pmtiles::TileCoord::new(*z, *x, *y).map_err(|e| e.to_string())?;
        writer
            .add_tile(coord, bytes)
            .map_err(|e| format!("cannot write the overview map: {e}"))?;
    }
    writer
        .finalize()
        .map_err(|e| format!("cannot write the overview map: {e}"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn the_overview_is_the_same_every_time_and_every_tile_reads_back() {
        let a = tiles();
        assert_eq!(a, tiles(), "deterministic: the same bytes at every start");
        let mut stations = std::collections::BTreeSet::new();
        for ((z, x, y), bytes) in &a {
            let layers = crate::tiles::decode(bytes).unwrap();
            assert!(!layers.is_empty(), "{z}/{x}/{y}");
            for (name, features) in &layers {
                assert!(LAYERS.contains(&name.as_str()), "{name}");
                assert!(!features.is_empty(), "{z}/{x}/{y}: an empty layer {name}");
                for (g, props) in features {
                    // Nothing beyond the tile and its buffer.
                    let r = g.bounding_rect().unwrap();
                    let (lo, hi) = (
                        -crate::tiles::BUFFER - 1.0,
                        f64::from(crate::tiles::EXTENT) + crate::tiles::BUFFER + 1.0,
                    );
                    assert!(
                        r.min().x >= lo && r.min().y >= lo && r.max().x <= hi && r.max().y <= hi,
                        "{z}/{x}/{y} {name}: {r:?}"
                    );
                    if name == "roads" || name == "buildings" {
                        assert!(*z >= 12, "streets only from zoom 12");
                    }
                    if let Some(Value::Str(n)) = props.get("name")
                        && props.get("kind") == Some(&Value::Str("station".into()))
                    {
                        stations.insert(n.clone());
                    }
                }
            }
        }
        for s in [
            "Alby",
            "Fittja",
            "Tumba",
            "Södertälje C",
            "Masmo",
            "Norsborg",
        ] {
            assert!(stations.contains(s), "{s} missing: {stations:?}");
        }
    }
}
