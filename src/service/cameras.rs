//! Camera views (issue 15): each camera the caller may see exactly, with what it sees in
//! zones by image detail (IEC 62676-4, `analysis::camera_view`). A view's apex is the camera's
//! position, so only roles that read cameras exactly get views, and the read is audited like a
//! page of cameras (restricted ones named).
//!
//! Building footprints cut a view when a `buildings` reference layer has been imported
//! (`lagesbild reference import buildings FILE`); without one, views are open sectors.

use std::collections::HashMap;
use std::sync::Arc;

use geo::{Coord, LineString, Point, Polygon};

use super::analysis::{DEFAULT_BAND_M, InputKind};
use super::visibility::{CELL_M, CELL_REACH_M, Shown, cpu_bound};
use super::{Service, ServiceError};
use crate::analysis::camera_view::{Detail, Lens, Zone, zones};
use crate::analysis::coverage::{Covered, Site, Views, coverage, greedy_sites};
use crate::analysis::getis::{Cell, gi_star};
use crate::analysis::kde::WeightedPoint;
use crate::domain::access::{Precision, Viewer};
use crate::domain::camera::CameraStatus;
use crate::domain::{Feature, Layer, Properties, ValidationErrors};
use crate::index::{Filters, Page, Spatial};

/// The median error of a police incident position in Swedish data, in metres: the default
/// radius of the coverage interval.
pub const POSITION_ERROR_M: f64 = 83.0;
/// Hot cells listed by least coverage.
pub const LEAST_COVERED: usize = 10;
/// Candidate sites tried for the next camera at most (unseen positions on a 10 m grid).
const MAX_CANDIDATES: usize = 20_000;

/// The camera fields a view or a coverage report shows or is drawn from: a role that has any
/// of them hidden gets neither.
const VIEW_FIELDS: &[&str] = &[
    "direction",
    "field_of_view",
    "range_m",
    "status",
    "resolution_px",
    "next_review",
];

/// Views worked out in one answer at most (more cameras in the box are said, not dropped
/// silently).
pub const MAX_VIEWS: usize = 5_000;

/// One camera and what it sees.
#[derive(Debug, Clone)]
pub struct CameraView {
    /// The camera.
    pub camera: Arc<Feature>,
    /// Its zones, finest detail first, the whole registered range last.
    pub zones: Vec<Zone>,
}

/// Camera views in a box, and how many cameras matched.
#[derive(Debug, Clone)]
pub struct CameraViews {
    /// Views of the cameras returned (at most [`MAX_VIEWS`]).
    pub views: Vec<CameraView>,
    /// Cameras in the box the caller may see.
    pub matched: usize,
    /// Building footprints imported (views are cut by those in their way).
    pub buildings: usize,
}

impl Service {
    /// The views of the cameras in `spatial` that `viewer` reads exactly.
    ///
    /// # Errors
    /// [`ServiceError::Forbidden`] below exact precision on cameras (a view shows where the
    /// camera is); store failures of the audit record.
    pub async fn camera_views(
        &self,
        viewer: &Viewer,
        spatial: &Spatial,
    ) -> Result<CameraViews, ServiceError> {
        if self.precision(viewer, Layer::Cameras)? != Precision::Exact {
            return Err(ServiceError::Forbidden(format!(
                "your role ({}) does not see where cameras are, and a camera's view shows it",
                viewer.role.label
            )));
        }
        let hide = &viewer.role.grant(Layer::Cameras).hide;
        if let Some(h) = hide.iter().find(|h| VIEW_FIELDS.contains(&h.as_str())) {
            return Err(ServiceError::Forbidden(format!(
                "your role ({}) does not see the cameras' '{h}', which their views show",
                viewer.role.label
            )));
        }
        let items = self
            .read_items(
                viewer,
                Layer::Cameras,
                spatial,
                &Filters::default(),
                Page {
                    offset: 0,
                    limit: MAX_VIEWS,
                },
            )
            .await?;
        let cameras: Vec<Arc<Feature>> = items
            .features
            .into_iter()
            .filter_map(|s| match s {
                Shown::Exact { feature, .. } => Some(feature),
                Shown::Coarse(_) => None,
            })
            .collect();
        let reference = self.reference().await?;
        let views = cpu_bound(|| {
            cameras
                .into_iter()
                .filter_map(|camera| {
                    let lens = lens_of(&camera)?;
                    let near =
                        reference
                            .buildings
                            .near(lens.at.0, lens.at.1, lens.range_m.max(0.0));
                    Some(CameraView {
                        zones: zones(&lens, &near),
                        camera,
                    })
                })
                .collect()
        });
        Ok(CameraViews {
            views,
            matched: items.matched,
            buildings: reference.buildings.len(),
        })
    }
}

/// A camera feature's lens (`None` for a camera that is not a point).
fn lens_of(f: &Feature) -> Option<Lens> {
    let (Properties::Camera(c), Some(p)) = (&f.properties, f.geom.point()) else {
        return None;
    };
    Some(Lens {
        at: (p.x(), p.y()),
        direction: c.direction,
        field_of_view: c.field_of_view,
        range_m: c.range_m,
        resolution_px: c.resolution_px,
    })
}

/// What a coverage report is asked for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CoverageAsk {
    /// Position error in metres (the interval's radius).
    pub error_m: f64,
    /// A candidate camera's reach in metres (a full circle).
    pub reach_m: f64,
    /// Sites to propose for the next cameras.
    pub sites: usize,
}

impl Default for CoverageAsk {
    fn default() -> Self {
        Self {
            error_m: POSITION_ERROR_M,
            reach_m: 50.0,
            sites: 5,
        }
    }
}

/// A hot cell and how much of it the cameras see.
#[derive(Debug, Clone)]
pub struct CellCoverage {
    /// The 250 m cell.
    pub cell: Cell,
    /// Its square (longitude, latitude).
    pub square: Polygon<f64>,
    /// Incidents in it.
    pub count: f64,
    /// Of them, at positions inside a working camera's view.
    pub seen: f64,
    /// Its Gi* z-score.
    pub z: f64,
}

/// A proposed site for the next camera.
#[derive(Debug, Clone, Copy)]
pub struct ProposedSite {
    /// Where (longitude, latitude).
    pub at: Point<f64>,
    /// Incidents it would add (not seen by any working camera nor an earlier site).
    pub adds: f64,
}

/// The coverage report.
#[derive(Debug, Clone)]
pub struct CameraCoverage {
    /// Incidents in the window and area (as the caller may count them).
    pub incidents: f64,
    /// What it was computed from.
    pub input: InputKind,
    /// The interval's radius: the position error, plus a cell's reach for counts at cell
    /// centres.
    pub error_m: f64,
    /// Covered by any zone of a working camera (its whole range).
    pub any: Covered,
    /// Covered by an identification zone (cameras with a resolution only).
    pub identification: Covered,
    /// Working cameras counted, and how many of them have a resolution.
    pub working: usize,
    /// Of them with a resolution (only those have an identification zone).
    pub with_resolution: usize,
    /// Cameras the caller may see in all, and whether every one was counted.
    pub cameras_matched: usize,
    /// Whether more cameras matched than one answer works out ([`MAX_VIEWS`]).
    pub cameras_partial: bool,
    /// The hot cells (Gi*, 500 m band) whose incidents the cameras see least, at most
    /// [`LEAST_COVERED`].
    pub least_covered: Vec<CellCoverage>,
    /// Why there are no hot cells, when Gi* could not be computed.
    pub hot_cells_refused: Option<String>,
    /// Sites for the next cameras, greedily.
    pub sites: Vec<ProposedSite>,
    /// What was asked.
    pub ask: CoverageAsk,
}

impl Service {
    /// How much of the incidents in `spatial` and `filters` that `viewer` may count the working
    /// cameras see, with an interval for position error, the hot cells seen least, and sites
    /// for the next cameras. Positions for roles that read incidents exactly, published cell
    /// counts at cell centres for the others (the interval then widened by a cell's reach).
    ///
    /// # Errors
    /// [`ServiceError::Forbidden`] without exact cameras or without incidents;
    /// [`ServiceError::Invalid`] for an ask out of range.
    pub async fn camera_coverage(
        &self,
        viewer: &Viewer,
        spatial: &Spatial,
        filters: &Filters,
        ask: CoverageAsk,
    ) -> Result<CameraCoverage, ServiceError> {
        check_ask(&ask)?;
        // Refused before anything is read (and recorded as read).
        if viewer.precision(Layer::Incidents) == Precision::None {
            return Err(ServiceError::Forbidden(format!(
                "your role ({}) has no access to incidents, so no camera coverage of them",
                viewer.role.label
            )));
        }
        let views = self.camera_views(viewer, &Spatial::All).await?;
        let (points, input) = self
            .analysis_input(viewer, spatial, filters, "camera coverage")
            .await?;
        let study = self.study_cells(viewer, spatial).ok();
        let error_m = match input {
            InputKind::Positions => ask.error_m,
            InputKind::CellCounts => ask.error_m + CELL_REACH_M,
        };
        let any_views = self.working_zones(&views.views, None);
        let id_views = self.working_zones(&views.views, Some(Detail::Identification));
        let working_count = views.views.iter().filter(|v| working(v)).count();
        let with_resolution = id_views.len();
        let (any, seen, identification) = cpu_bound(|| {
            let (any, seen) = coverage(&points, &Views::new(any_views), error_m);
            let (identification, _) = coverage(&points, &Views::new(id_views), error_m);
            (any, seen, identification)
        });
        // The hot cells, and how much of each the cameras see.
        let (least_covered, hot_cells_refused) = match study {
            None => (Vec::new(), Some("no area lies here".to_owned())),
            Some(study) => {
                let counts = Self::cell_counts(&study, &points);
                match cpu_bound(|| gi_star(&counts, CELL_M, DEFAULT_BAND_M, 0, 0)) {
                    Err(e) => (Vec::new(), Some(e.to_string())),
                    Ok(g) => (
                        self.least_covered(&counts, &g.class, &g.z, &points, &seen),
                        None,
                    ),
                }
            }
        };
        let sites = cpu_bound(|| proposed(&points, &seen, input, ask))
            .into_iter()
            .filter_map(|s| {
                Some(ProposedSite {
                    at: self.grid.unproject(s.x, s.y)?,
                    adds: s.adds,
                })
            })
            .collect();
        Ok(CameraCoverage {
            incidents: points.iter().map(|p| p.2).sum(),
            input,
            error_m,
            any,
            identification,
            working: working_count,
            with_resolution,
            cameras_matched: views.matched,
            cameras_partial: views.matched > views.views.len(),
            least_covered,
            hot_cells_refused,
            sites,
            ask,
        })
    }

    /// The hot cells (class above 0) by least share seen, then most incidents.
    fn least_covered(
        &self,
        counts: &[(Cell, f64)],
        class: &[i8],
        z: &[f64],
        points: &[WeightedPoint],
        seen: &[bool],
    ) -> Vec<CellCoverage> {
        let mut seen_in: HashMap<Cell, f64> = HashMap::new();
        for (p, s) in points.iter().zip(seen) {
            if *s {
                #[allow(clippy::cast_possible_truncation)]
                let c = ((p.0 / CELL_M).floor() as i64, (p.1 / CELL_M).floor() as i64);
                *seen_in.entry(c).or_default() += p.2;
            }
        }
        let mut hot: Vec<CellCoverage> = counts
            .iter()
            .zip(class.iter().zip(z))
            .filter(|((_, n), (k, _))| **k > 0 && *n > 0.0)
            .filter_map(|((cell, n), (_, z))| {
                Some(CellCoverage {
                    cell: *cell,
                    square: self.grid.square(*cell)?,
                    count: *n,
                    seen: seen_in.get(cell).copied().unwrap_or(0.0),
                    z: *z,
                })
            })
            .collect();
        hot.sort_by(|a, b| {
            (a.seen / a.count)
                .total_cmp(&(b.seen / b.count))
                .then(b.count.total_cmp(&a.count))
                .then(a.cell.cmp(&b.cell))
        });
        hot.truncate(LEAST_COVERED);
        hot
    }
}

impl Service {
    /// A polygon (longitude, latitude) in SWEREF 99 TM metres, holes and all.
    fn projected(&self, g: &Polygon<f64>) -> Option<Polygon<f64>> {
        let ring = |r: &LineString<f64>| -> Option<LineString<f64>> {
            r.coords()
                .map(|c| {
                    self.grid
                        .project(Point::from(*c))
                        .map(|(x, y)| Coord { x, y })
                })
                .collect::<Option<Vec<_>>>()
                .map(LineString::from)
        };
        Some(Polygon::new(
            ring(g.exterior())?,
            g.interiors().iter().filter_map(ring).collect(),
        ))
    }

    /// The working cameras' zones of `detail` (`None`: the whole range), in metres.
    fn working_zones(&self, views: &[CameraView], detail: Option<Detail>) -> Vec<Polygon<f64>> {
        views
            .iter()
            .filter(|v| working(v))
            .filter_map(|v| v.zones.iter().find(|z| z.detail == detail))
            .filter_map(|z| self.projected(&z.polygon))
            .collect()
    }
}

/// Whether the camera is in working order (`active`).
fn working(v: &CameraView) -> bool {
    matches!(&v.camera.properties, Properties::Camera(c) if c.status == CameraStatus::Active)
}

fn check_ask(ask: &CoverageAsk) -> Result<(), ServiceError> {
    if !(0.0..=500.0).contains(&ask.error_m) {
        return Err(ValidationErrors::one(
            "error_m",
            format!("is {}; choose 0 to 500 metres", ask.error_m),
        )
        .into());
    }
    if !(5.0..=500.0).contains(&ask.reach_m) {
        return Err(ValidationErrors::one(
            "reach_m",
            format!("is {}; choose 5 to 500 metres", ask.reach_m),
        )
        .into());
    }
    if ask.sites > 20 {
        return Err(
            ValidationErrors::one("sites", format!("is {}; choose 0 to 20", ask.sites)).into(),
        );
    }
    Ok(())
}

/// Greedy sites among the unseen incidents: at their positions (on a 10 m grid) for positions,
/// at the cells' centres for counts.
fn proposed(
    points: &[WeightedPoint],
    seen: &[bool],
    input: InputKind,
    ask: CoverageAsk,
) -> Vec<Site> {
    let unseen: Vec<WeightedPoint> = points
        .iter()
        .zip(seen)
        .filter(|(_, s)| !**s)
        .map(|(p, _)| *p)
        .collect();
    let snap = match input {
        InputKind::Positions => 10.0,
        InputKind::CellCounts => 1.0,
    };
    let mut candidates: Vec<Coord<f64>> = unseen
        .iter()
        .map(|p| Coord {
            x: (p.0 / snap).round() * snap,
            y: (p.1 / snap).round() * snap,
        })
        .collect();
    candidates.sort_by(|a, b| a.x.total_cmp(&b.x).then(a.y.total_cmp(&b.y)));
    candidates.dedup();
    if candidates.len() > MAX_CANDIDATES {
        // Every n-th, so the whole area stays a candidate.
        let step = candidates.len().div_ceil(MAX_CANDIDATES);
        candidates = candidates.into_iter().step_by(step).collect();
    }
    greedy_sites(&unseen, &candidates, ask.reach_m, ask.sites)
}

/// One area's camera coverage in a window (the agenda's).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct AreaCoverage {
    /// Incidents in the area (as the caller may count them).
    pub incidents: f64,
    /// Of them at positions inside a working camera's view.
    pub seen: f64,
    /// Certainly seen, allowing for the position error.
    pub certainly: f64,
    /// Possibly seen, allowing for the position error.
    pub possibly: f64,
    /// The position error allowed for, in metres.
    pub error_m: f64,
    /// Whether more cameras matched than one answer works out (then the shares undercount).
    pub cameras_partial: bool,
}

impl Service {
    /// Per area (outlines in longitude and latitude), the camera coverage of the incidents in
    /// `filters` that `viewer` may count; `None` when the role may not have it (cameras not
    /// exact, or no incidents). Views and positions are worked out once for all areas.
    ///
    /// # Errors
    /// Store failures of the audit records.
    pub(crate) async fn coverage_by_area(
        &self,
        viewer: &Viewer,
        filters: &Filters,
        areas: &[(uuid::Uuid, geo::Geometry<f64>)],
    ) -> Result<Option<HashMap<uuid::Uuid, AreaCoverage>>, ServiceError> {
        if viewer.precision(Layer::Cameras) != Precision::Exact
            || viewer.precision(Layer::Incidents) == Precision::None
        {
            return Ok(None);
        }
        let views = self.camera_views(viewer, &Spatial::All).await?;
        let (points, input) = self
            .analysis_input(viewer, &Spatial::All, filters, "agenda camera coverage")
            .await?;
        let error_m = match input {
            InputKind::Positions => POSITION_ERROR_M,
            InputKind::CellCounts => POSITION_ERROR_M + CELL_REACH_M,
        };
        let cameras_partial = views.matched > views.views.len();
        let any = self.working_zones(&views.views, None);
        let outlines: Vec<(uuid::Uuid, Vec<Polygon<f64>>)> = areas
            .iter()
            .map(|(id, g)| {
                let parts: Vec<Polygon<f64>> = match g {
                    geo::Geometry::Polygon(p) => self.projected(p).into_iter().collect(),
                    geo::Geometry::MultiPolygon(m) => {
                        m.iter().filter_map(|p| self.projected(p)).collect()
                    }
                    _ => Vec::new(),
                };
                (*id, parts)
            })
            .collect();
        let out = cpu_bound(|| {
            let views = Views::new(any);
            let mut out: HashMap<uuid::Uuid, AreaCoverage> = outlines
                .iter()
                .map(|(id, _)| {
                    (
                        *id,
                        AreaCoverage {
                            incidents: 0.0,
                            seen: 0.0,
                            certainly: 0.0,
                            possibly: 0.0,
                            error_m,
                            cameras_partial,
                        },
                    )
                })
                .collect();
            for &(x, y, w) in &points {
                let p = Point::new(x, y);
                let within: Vec<uuid::Uuid> = outlines
                    .iter()
                    .filter(|(_, parts)| parts.iter().any(|o| geo::Contains::contains(o, &p)))
                    .map(|(id, _)| *id)
                    .collect();
                if within.is_empty() {
                    continue;
                }
                let (inside, certain, possible) = views.sees(x, y, error_m);
                for id in within {
                    if let Some(c) = out.get_mut(&id) {
                        c.incidents += w;
                        c.seen += if inside { w } else { 0.0 };
                        c.certainly += if certain { w } else { 0.0 };
                        c.possibly += if possible { w } else { 0.0 };
                    }
                }
            }
            out
        });
        Ok(Some(out))
    }
}
