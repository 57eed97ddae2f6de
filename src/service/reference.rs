//! Reference layers in use (issue 15): building footprints that cut camera views, and the
//! walkable path network routes are suggested over. Imported whole from GeoJSON or a GeoPackage
//! (`lagesbild reference import`), every geometry checked as a feature's would be, all or
//! nothing. The service reads them on first use and looks again at most every
//! [`RECHECK`] (an import by another process, or another instance, is picked up).

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use geo::{Geometry, Polygon};
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{AABB, RTree};
use serde_json::Value;

use super::{Service, ServiceError};
use crate::analysis::paths::Network;
use crate::domain::crs::{METRES_PER_DEGREE, Sweref99Tm};
use crate::domain::geometry::{Accepts, GeometryKind, parse_geometry};
use crate::store::reference::{ReferenceKind, ReferenceSource};

/// How often the store is asked whether a reference layer was imported anew.
pub const RECHECK: Duration = Duration::from_secs(10);

/// Building footprints, indexed by their boxes (longitude, latitude).
#[derive(Debug, Default)]
pub struct Buildings {
    polygons: Vec<Polygon<f64>>,
    tree: RTree<GeomWithData<Rectangle<[f64; 2]>, usize>>,
}

impl Buildings {
    fn new(polygons: Vec<Polygon<f64>>) -> Self {
        Self {
            tree: crate::analysis::coverage::boxes(&polygons),
            polygons,
        }
    }

    /// How many.
    #[must_use]
    pub fn len(&self) -> usize {
        self.polygons.len()
    }

    /// Whether there are none.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.polygons.is_empty()
    }

    /// The footprints whose boxes come within `metres` of (`lon`, `lat`).
    #[must_use]
    pub fn near(&self, lon: f64, lat: f64, metres: f64) -> Vec<Polygon<f64>> {
        let dlat = metres / METRES_PER_DEGREE;
        let dlon = dlat / lat.to_radians().cos().max(0.01);
        let envelope = AABB::from_corners([lon - dlon, lat - dlat], [lon + dlon, lat + dlat]);
        self.tree
            .locate_in_envelope_intersecting(&envelope)
            .map(|g| self.polygons[g.data].clone())
            .collect()
    }
}

/// The reference layers as last read.
#[derive(Debug, Default)]
pub struct Reference {
    /// Building footprints.
    pub buildings: Buildings,
    /// The path network in SWEREF 99 TM metres, when imported.
    pub paths: Option<Network>,
    /// What each kind's import was.
    pub sources: Vec<ReferenceSource>,
}

/// The reference layers the service holds, and when the store was last asked.
#[derive(Debug, Default)]
pub struct ReferenceCache {
    current: tokio::sync::Mutex<Option<(Instant, Arc<Reference>)>>,
}

impl Service {
    /// The reference layers, read on first use and again when an import has replaced one.
    ///
    /// # Errors
    /// Store failures; a stored geometry that cannot be read.
    pub async fn reference(&self) -> Result<Arc<Reference>, ServiceError> {
        let mut current = self.reference.current.lock().await;
        if let Some((checked, r)) = current.as_ref()
            && checked.elapsed() < RECHECK
        {
            return Ok(r.clone());
        }
        let sources = self.store().reference_sources().await?;
        if let Some((_, r)) = current.as_ref()
            && r.sources == sources
        {
            let r = r.clone();
            *current = Some((Instant::now(), r.clone()));
            return Ok(r);
        }
        let buildings: Vec<Polygon<f64>> = self
            .store()
            .reference(ReferenceKind::Buildings)
            .await?
            .into_iter()
            .flat_map(|g| match g {
                Geometry::Polygon(p) => vec![p],
                Geometry::MultiPolygon(m) => m.0,
                _ => Vec::new(),
            })
            .collect();
        let lines = self.store().reference(ReferenceKind::Paths).await?;
        let paths = (!lines.is_empty()).then(|| {
            let runs: Vec<Vec<(f64, f64)>> = lines
                .iter()
                .flat_map(|g| match g {
                    Geometry::LineString(l) => vec![l.clone()],
                    Geometry::MultiLineString(m) => m.0.clone(),
                    _ => Vec::new(),
                })
                .filter_map(|l| {
                    l.points()
                        .map(|p| self.grid().project(p))
                        .collect::<Option<Vec<_>>>()
                })
                .collect();
            super::visibility::cpu_bound(|| Network::new(&runs))
        });
        let r = Arc::new(Reference {
            buildings: Buildings::new(buildings),
            paths,
            sources,
        });
        *current = Some((Instant::now(), r.clone()));
        Ok(r)
    }
}

/// What a reference file held.
#[derive(Debug)]
pub struct ReferenceFile {
    /// The geometries (longitude, latitude), checked.
    pub geometries: Vec<Geometry<f64>>,
    /// Where they came from, in words.
    pub source: String,
}

/// The geometry kinds a reference kind takes.
const fn accepts(kind: ReferenceKind) -> Accepts {
    match kind {
        ReferenceKind::Buildings => Accepts {
            name: "buildings",
            kinds: &[GeometryKind::Polygon, GeometryKind::MultiPolygon],
        },
        ReferenceKind::Paths => Accepts {
            name: "paths",
            kinds: &[GeometryKind::LineString, GeometryKind::MultiLineString],
        },
    }
}

/// The most problems listed for a refused file.
const MAX_LISTED: usize = 20;

/// Reads `path` (GeoJSON, or a GeoPackage's `table` or only feature table) for `kind`: every
/// geometry checked as a feature's (closed rings, no self-intersection, positions in range),
/// in EPSG:4326 or — a GeoPackage in EPSG:3006, or GeoJSON with `sweref` — SWEREF 99 TM.
///
/// # Errors
/// A file that cannot be read, or any geometry refused: every one listed (up to 20, then a
/// count), nothing kept.
pub async fn read_reference_file(
    kind: ReferenceKind,
    path: &Path,
    table: Option<&str>,
    sweref: bool,
) -> Result<ReferenceFile, String> {
    let is_gpkg = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("gpkg"));
    let (values, source, sweref): (Vec<(String, Value)>, String, bool) = if is_gpkg {
        let (t, unreadable) = crate::gpkg::read_table(path, table)
            .await
            .map_err(|e| format!("{}: {e}", path.display()))?;
        if let Some((fid, why)) = unreadable.first() {
            return Err(format!("feature {fid}: {why}"));
        }
        let sweref = t.crs == crate::gpkg::GpkgCrs::Sweref99Tm;
        // A row without a geometry is refused like a bad one (null goes to the checks).
        let values = t
            .rows
            .into_iter()
            .map(|r| {
                let g = r
                    .geometry
                    .and_then(|g| serde_json::to_value(geojson::Geometry::from(&g)).ok())
                    .unwrap_or(Value::Null);
                (format!("feature {}", r.fid), g)
            })
            .collect();
        (
            values,
            format!(
                "{} (GeoPackage table '{}', {})",
                path.display(),
                t.name,
                if sweref { "EPSG:3006" } else { "EPSG:4326" }
            ),
            sweref,
        )
    } else {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let doc: Value = serde_json::from_str(&text)
            .map_err(|e| format!("{}: not JSON: {e}", path.display()))?;
        let features = match doc["type"].as_str() {
            Some("FeatureCollection") => doc["features"].as_array().cloned().unwrap_or_default(),
            Some("Feature") => vec![doc.clone()],
            _ => {
                return Err(format!(
                    "{}: not a GeoJSON FeatureCollection or Feature",
                    path.display()
                ));
            }
        };
        let values = features
            .into_iter()
            .enumerate()
            .map(|(i, f)| (format!("feature {}", i + 1), f["geometry"].clone()))
            .collect();
        (
            values,
            format!(
                "{} (GeoJSON, {})",
                path.display(),
                if sweref { "EPSG:3006" } else { "EPSG:4326" }
            ),
            sweref,
        )
    };
    let transform = if sweref {
        Some(Sweref99Tm::new().map_err(|e| e.to_string())?)
    } else {
        None
    };
    let mut geometries = Vec::with_capacity(values.len());
    let mut problems = Vec::new();
    for (label, mut g) in values {
        if let Some(t) = &transform
            && let Some(c) = g.get_mut("coordinates")
            && let Err(e) = crate::service::import::reproject(c, t)
        {
            problems.push(format!("{label}: {e}"));
            continue;
        }
        match parse_geometry(accepts(kind), &g, "/geometry") {
            Ok(g) => geometries.push(g),
            Err(e) => problems.push(format!(
                "{label}: {}",
                e.0.iter()
                    .map(|p| format!("{} {}", p.field, p.message))
                    .collect::<Vec<_>>()
                    .join("; ")
            )),
        }
    }
    if !problems.is_empty() {
        let more = problems.len().saturating_sub(MAX_LISTED);
        problems.truncate(MAX_LISTED);
        if more > 0 {
            problems.push(format!("… and {more} more"));
        }
        return Err(format!(
            "{source}: nothing imported; {} refused:\n  {}",
            kind.as_str(),
            problems.join("\n  ")
        ));
    }
    if geometries.is_empty() {
        return Err(format!("{source}: no geometries to import"));
    }
    Ok(ReferenceFile { geometries, source })
}
