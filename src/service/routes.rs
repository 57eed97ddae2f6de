//! Route scores (issue 15): is a drawn or saved route where the risk is? Per route, the
//! incidents within 100 m per km, the corridor's PAI within the areas it passes, and the hot
//! cells (Gi*) it passes per hour of walking (`analysis::route_score`).
//!
//! What a score is computed from follows the caller's grant on incidents, as every analysis
//! does: positions (audited) for exact roles, weighted by the route's days and hours (an
//! incident counts in the "in hours" figures when it happened, in Swedish local time, while the
//! route is walked); the published counts per 250 m cell for the others, spread over their
//! cells and never weighted by hour (those roles see weeks, not hours).

use std::collections::BTreeSet;

use geo::{Geometry, LineString};
use uuid::Uuid;

use super::analysis::{DEFAULT_BAND_M, InputKind};
use super::visibility::{CELL_M, Shown, cpu_bound};
use super::{Service, ServiceError};
use crate::analysis::getis::{Cell, gi_star};
use crate::analysis::kde::WeightedPoint;
use crate::analysis::route_score::{CORRIDOR_M, Incidents, Score, Walked, score};
use crate::domain::access::{Precision, Viewer};
use crate::domain::bbox::Bbox;
use crate::domain::patrol_route::Schedule;
use crate::domain::{Layer, Properties, ValidationErrors};
use crate::index::{Filters, Spatial};

/// Routes scored in one answer at most.
pub const MAX_ROUTES: usize = 10;
/// The longest route scored, in metres (a night's walk is a few km).
pub const MAX_ROUTE_M: f64 = 50_000.0;

/// A route to score: a saved one or one being drawn.
#[derive(Debug, Clone)]
pub struct RouteAsk {
    /// The saved route's id (`None` for a drawn one).
    pub id: Option<Uuid>,
    /// Its name.
    pub name: String,
    /// The line (longitude, latitude), in one or more parts.
    pub parts: Vec<LineString<f64>>,
    /// When it is walked (`None`: not weighted by time).
    pub schedule: Option<Schedule>,
}

/// One route's score.
#[derive(Debug, Clone)]
pub struct RouteScore {
    /// What was asked.
    pub ask: RouteAsk,
    /// Counting every incident in the window.
    pub all: Score,
    /// Counting only incidents during the route's days and hours (positions and a schedule
    /// only).
    pub in_hours: Option<Score>,
}

/// Scores of routes side by side.
#[derive(Debug, Clone)]
pub struct RouteScores {
    /// One per route asked, in the order asked.
    pub routes: Vec<RouteScore>,
    /// What they were computed from.
    pub input: InputKind,
    /// Hot cells in the region.
    pub hot_cells: usize,
    /// Why there are no hot cells or no PAI, when so.
    pub note: Option<String>,
    /// The areas (names) the region is made of.
    pub areas: Vec<String>,
}

impl Service {
    /// A saved route as a [`RouteAsk`], when `viewer` reads routes exactly.
    ///
    /// # Errors
    /// [`ServiceError::NotFound`] for a route the caller cannot see; [`ServiceError::Forbidden`]
    /// below exact precision on routes; [`ServiceError::Invalid`] for a feature that is not a
    /// line.
    pub async fn saved_route(&self, viewer: &Viewer, id: Uuid) -> Result<RouteAsk, ServiceError> {
        let shown = self.read_item(viewer, Layer::PatrolRoutes, id).await?;
        let Shown::Exact { feature, hide } = shown else {
            return Err(ServiceError::Forbidden(format!(
                "your role ({}) does not see routes' lines, so it cannot score them",
                viewer.role.label
            )));
        };
        let Properties::PatrolRoute(r) = &feature.properties else {
            return Err(ServiceError::NotFound(Layer::PatrolRoutes, id));
        };
        let parts = match &feature.geometry {
            Geometry::LineString(l) => vec![l.clone()],
            Geometry::MultiLineString(m) => m.0.clone(),
            _ => {
                return Err(
                    ValidationErrors::one("routes", format!("route {id} is not a line")).into(),
                );
            }
        };
        let hidden = ["weekdays", "start_time", "end_time"]
            .iter()
            .any(|f| hide.iter().any(|h| h == f));
        Ok(RouteAsk {
            id: Some(id),
            name: r.name.to_string(),
            parts,
            schedule: if hidden { None } else { r.schedule() },
        })
    }

    /// Scores `routes` against the incidents in `filters` that `viewer` may count.
    ///
    /// # Errors
    /// [`ServiceError::Forbidden`] without access to incidents; [`ServiceError::Invalid`] for a
    /// line that is not one or too long, or too many routes.
    pub async fn route_scores(
        &self,
        viewer: &Viewer,
        routes: Vec<RouteAsk>,
        filters: &Filters,
    ) -> Result<RouteScores, ServiceError> {
        if viewer.precision(Layer::Incidents) == Precision::None {
            return Err(ServiceError::Forbidden(format!(
                "your role ({}) has no access to incidents, so routes cannot be scored for it",
                viewer.role.label
            )));
        }
        if routes.is_empty() || routes.len() > MAX_ROUTES {
            return Err(ValidationErrors::one(
                "routes",
                format!(
                    "{} routes asked; give 1 to {MAX_ROUTES} (saved ids in `routes`, or a drawn `line`)",
                    routes.len()
                ),
            )
            .into());
        }
        let mut walked = Vec::with_capacity(routes.len());
        for r in &routes {
            walked.push(self.walked(r)?);
        }
        // The region: the counted areas the corridors meet, all their cells.
        let corridors: Vec<Spatial> = routes
            .iter()
            .map(|r| Spatial::WithinDistance {
                geometry: Geometry::MultiLineString(geo::MultiLineString(r.parts.clone())),
                metres: CORRIDOR_M,
            })
            .collect();
        let mut region = BTreeSet::new();
        let mut area_names = BTreeSet::new();
        let mut bounds: Option<[f64; 4]> = None;
        let mut widen = |b: [f64; 4]| {
            bounds = Some(bounds.map_or(b, |a| {
                [
                    a[0].min(b[0]),
                    a[1].min(b[1]),
                    a[2].max(b[2]),
                    a[3].max(b[3]),
                ]
            }));
        };
        for c in &corridors {
            for a in self.counted_areas_in(viewer, c) {
                widen(crate::domain::geometry::bounds(&a.geometry));
                if let Properties::Area(p) = &a.properties {
                    area_names.insert(p.name.to_string());
                }
            }
            if let Ok(cells) = self.region_cells(viewer, c, false) {
                region.extend(cells);
            }
        }
        for r in &routes {
            for l in &r.parts {
                widen(crate::domain::geometry::bounds(&Geometry::LineString(
                    l.clone(),
                )));
            }
        }
        let Some(b) = bounds else {
            return Err(ValidationErrors::one("line", "the route has no positions").into());
        };
        let spatial = Spatial::Bbox(Bbox::clamped(b).grown(CORRIDOR_M + CELL_M));
        let (points, times, input) = self
            .analysis_input_timed(viewer, &spatial, filters, "route score")
            .await?;
        // Hot cells over the region, from every incident in the window.
        let (hot, note) = if region.is_empty() {
            (
                BTreeSet::new(),
                Some("the routes pass no area, so there are no hot cells and no PAI".to_owned()),
            )
        } else {
            let study: Vec<Cell> = region.iter().copied().collect();
            let counts = Self::cell_counts(&study, &points);
            match cpu_bound(|| gi_star(&counts, CELL_M, DEFAULT_BAND_M, 0, 0)) {
                Ok(g) => (
                    counts
                        .iter()
                        .zip(&g.class)
                        .filter(|((_, n), k)| **k > 0 && *n > 0.0)
                        .map(|((c, _), _)| *c)
                        .collect(),
                    None,
                ),
                Err(e) => (BTreeSet::new(), Some(format!("no hot cells: {e}"))),
            }
        };
        let region_ref = (!region.is_empty()).then_some(&region);
        let scored = cpu_bound(|| {
            routes
                .into_iter()
                .zip(&walked)
                .map(|(ask, line)| {
                    let given = match input {
                        InputKind::Positions => Incidents::Positions(&points),
                        InputKind::CellCounts => Incidents::CellCounts(&points),
                    };
                    let all = score(line, given, CORRIDOR_M, CELL_M, region_ref, &hot);
                    let in_hours = match (&times, ask.schedule) {
                        (Some(times), Some(s)) => {
                            let weighted: Vec<WeightedPoint> = points
                                .iter()
                                .zip(times)
                                .map(|(p, t)| {
                                    let w = time::OffsetDateTime::from_unix_timestamp(*t)
                                        .is_ok_and(|t| s.covers(t));
                                    (p.0, p.1, if w { p.2 } else { 0.0 })
                                })
                                .collect();
                            Some(score(
                                line,
                                Incidents::Positions(&weighted),
                                CORRIDOR_M,
                                CELL_M,
                                region_ref,
                                &hot,
                            ))
                        }
                        _ => None,
                    };
                    RouteScore { ask, all, in_hours }
                })
                .collect()
        });
        Ok(RouteScores {
            routes: scored,
            input,
            hot_cells: hot.len(),
            note,
            areas: area_names.into_iter().collect(),
        })
    }

    /// A route's line in SWEREF 99 TM metres, checked.
    fn walked(&self, r: &RouteAsk) -> Result<Walked, ServiceError> {
        let field = if r.id.is_some() { "routes" } else { "line" };
        let parts: Vec<Vec<(f64, f64)>> = r
            .parts
            .iter()
            .map(|l| {
                l.points()
                    .map(|p| self.grid.project(p))
                    .collect::<Option<Vec<_>>>()
            })
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| {
                ValidationErrors::one(field, format!("'{}' lies outside Sweden's grid", r.name))
            })?;
        let slices: Vec<&[(f64, f64)]> = parts.iter().map(Vec::as_slice).collect();
        let w = Walked::from_parts(&slices).ok_or_else(|| {
            ValidationErrors::one(
                field,
                format!("'{}' needs at least two different positions", r.name),
            )
        })?;
        if w.length_m() > MAX_ROUTE_M {
            return Err(ValidationErrors::one(
                field,
                format!(
                    "'{}' is {:.1} km; a route scored is at most {} km",
                    r.name,
                    w.length_m() / 1000.0,
                    MAX_ROUTE_M / 1000.0
                ),
            )
            .into());
        }
        Ok(w)
    }
}
