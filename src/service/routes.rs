//! Route scores (issue 15): is a drawn or saved route where the risk is? Per route, the
//! incidents within 100 m per km, the corridor's PAI within the areas it passes, and the hot
//! cells (Gi*) it passes per hour of walking (`analysis::route_score`).
//!
//! What a score is computed from follows the caller's grant on incidents, as every analysis
//! does: positions (audited) for exact roles, weighted by the route's days and hours (an
//! incident counts in the "in hours" figures when it happened, in Swedish local time, while the
//! route is walked); the published counts per 250 m cell for the others, spread over their
//! cells and never weighted by hour (those roles see weeks, not hours).

use std::collections::{BTreeSet, HashMap};

use serde::Serialize;

use geo::{Geometry, LineString};
use uuid::Uuid;

use super::analysis::{DEFAULT_BAND_M, InputKind};
use super::visibility::{CELL_M, Shown, cpu_bound};
use super::{Service, ServiceError};
use crate::analysis::getis::{Cell, gi_star};
use crate::analysis::kde::WeightedPoint;
use crate::analysis::route_score::{CORRIDOR_M, Incidents, Score, Walked, score};
use crate::domain::access::{Precision, Viewer};
use crate::domain::patrol_route::{RouteStatus, Schedule};
use crate::domain::{Feature, Layer, Properties, ValidationErrors};
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

impl RouteAsk {
    /// A saved route as a role with `hide` sees it: its name (unless hidden), its line, and
    /// its schedule (unless any of its days or hours is hidden). `None` for a feature that is
    /// not a patrol route with a line.
    #[must_use]
    pub fn of(f: &Feature, hide: &[String]) -> Option<Self> {
        let Properties::PatrolRoute(r) = &f.properties else {
            return None;
        };
        let parts = match &*f.geometry() {
            Geometry::LineString(l) => vec![l.clone()],
            Geometry::MultiLineString(m) => m.0.clone(),
            _ => return None,
        };
        let hidden = |fields: &[&str]| fields.iter().any(|f| hide.iter().any(|h| h == f));
        Some(Self {
            id: Some(f.id),
            name: if hidden(&["name"]) {
                String::new()
            } else {
                r.name.to_string()
            },
            parts,
            schedule: if hidden(&["weekdays", "start_time", "end_time"]) {
                None
            } else {
                r.schedule()
            },
        })
    }
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
        if !matches!(&feature.properties, Properties::PatrolRoute(_)) {
            return Err(ServiceError::NotFound(Layer::PatrolRoutes, id));
        }
        RouteAsk::of(&feature, &hide).ok_or_else(|| {
            ValidationErrors::one("routes", format!("route {id} is not a line")).into()
        })
    }

    /// Scores `routes` (at most [`MAX_ROUTES`]) against the incidents in `filters` that
    /// `viewer` may count.
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
        self.score_routes(viewer, routes, filters).await
    }

    /// [`Service::route_scores`] for any number of routes (the agenda's and the briefing's).
    ///
    /// A route's score does not depend on the routes scored with it: the hot cells are Gi*
    /// over the cells of every counted area the caller sees (as the hot spot map without a
    /// box), and a route's PAI is computed within the areas its own corridor meets.
    ///
    /// # Errors
    /// As [`Service::route_scores`].
    pub(crate) async fn score_routes(
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
        let mut walked = Vec::with_capacity(routes.len());
        for r in &routes {
            walked.push(self.walked(r)?);
        }
        // Each route's region: every cell of the counted areas its corridor meets.
        let mut regions = Vec::with_capacity(routes.len());
        let mut area_names = BTreeSet::new();
        for r in &routes {
            let corridor = Spatial::WithinDistance {
                geometry: Geometry::MultiLineString(geo::MultiLineString(r.parts.clone())),
                metres: CORRIDOR_M,
            };
            for a in self.counted_areas_in(viewer, &corridor) {
                if let Properties::Area(p) = &a.properties {
                    area_names.insert(p.name.to_string());
                }
            }
            regions.push(
                self.region_cells(viewer, &corridor, false)
                    .map(|c| c.into_iter().collect::<BTreeSet<Cell>>())
                    .unwrap_or_default(),
            );
        }
        let (points, times, input) = self
            .analysis_input_timed(viewer, &Spatial::All, filters, "route score")
            .await?;
        // Hot cells over every counted area, from every incident in the window.
        let (hot, note) = match self.study_cells(viewer, &Spatial::All) {
            Err(_) => (
                BTreeSet::new(),
                Some("no area is counted, so there are no hot cells and no PAI".to_owned()),
            ),
            Ok(study) => {
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
            }
        };
        let scored = cpu_bound(|| {
            routes
                .into_iter()
                .zip(walked.iter().zip(&regions))
                .map(|(ask, (line, region))| {
                    let region = (!region.is_empty()).then_some(region);
                    let given = match input {
                        InputKind::Positions => Incidents::Positions(&points),
                        InputKind::CellCounts => Incidents::CellCounts(&points),
                    };
                    let all = score(line, given, CORRIDOR_M, CELL_M, region, &hot);
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
                                region,
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
    pub(super) fn walked(&self, r: &RouteAsk) -> Result<Walked, ServiceError> {
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
                ServiceError::Unanswerable(ValidationErrors::one(
                    field,
                    format!("'{}' lies outside Sweden's grid", r.name),
                ))
            })?;
        let slices: Vec<&[(f64, f64)]> = parts.iter().map(Vec::as_slice).collect();
        let w = Walked::from_parts(&slices).ok_or_else(|| {
            ServiceError::Unanswerable(ValidationErrors::one(
                field,
                format!("'{}' needs at least two different positions", r.name),
            ))
        })?;
        if w.length_m() > MAX_ROUTE_M {
            return Err(ServiceError::Unanswerable(ValidationErrors::one(
                field,
                format!(
                    "'{}' is {:.1} km; a route scored is at most {} km",
                    r.name,
                    w.length_m() / 1000.0,
                    MAX_ROUTE_M / 1000.0
                ),
            )));
        }
        Ok(w)
    }

    /// The names and scores of every active route `viewer` reads exactly, by id (for the
    /// agenda and the briefing); `None` without access to incidents.
    ///
    /// # Errors
    /// Store failures of the audit record.
    pub(crate) async fn active_route_scores(
        &self,
        viewer: &Viewer,
        filters: &Filters,
    ) -> Result<Option<HashMap<Uuid, (String, RouteScoreNote)>>, ServiceError> {
        if viewer.precision(Layer::Incidents) == Precision::None
            || viewer.precision(Layer::PatrolRoutes) != Precision::Exact
        {
            return Ok(None);
        }
        let hide = &viewer.role.grant(Layer::PatrolRoutes).hide;
        let asks: Vec<RouteAsk> = self
            .index()
            .matching(
                Layer::PatrolRoutes,
                &Spatial::All,
                &Filters {
                    max_classification: Some(viewer.role.ceiling.code()),
                    ..Filters::default()
                },
            )
            .iter()
            .filter(|f| {
                matches!(&f.properties, Properties::PatrolRoute(r) if r.status == RouteStatus::Active)
            })
            .filter_map(|f| RouteAsk::of(f, hide))
            .filter(|a| self.walked(a).is_ok())
            .collect();
        if asks.is_empty() {
            return Ok(Some(HashMap::new()));
        }
        let scores = self.score_routes(viewer, asks, filters).await?;
        Ok(Some(
            scores
                .routes
                .iter()
                .filter_map(|r| Some((r.ask.id?, (r.ask.name.clone(), RouteScoreNote::of(r)))))
                .collect(),
        ))
    }
}

/// A route's score in brief, for the agenda and the briefing.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RouteScoreNote {
    /// Incidents within 100 m in the window.
    pub incidents: f64,
    /// Of them per km.
    pub per_km: f64,
    /// Per km counting only incidents in the route's days and hours (exact roles).
    pub in_hours_per_km: Option<f64>,
    /// The corridor's PAI (in the route's hours when known).
    pub pai: Option<f64>,
    /// Hot cells passed per hour of walking.
    pub hot_cells_per_hour: f64,
    /// The route's length in metres.
    pub length_m: f64,
}

impl RouteScoreNote {
    /// The brief of a full score.
    #[must_use]
    pub fn of(r: &RouteScore) -> Self {
        let main = r.in_hours.as_ref().unwrap_or(&r.all);
        let round = |v: f64| (v * 100.0).round() / 100.0;
        Self {
            incidents: r.all.incidents,
            per_km: round(r.all.per_km),
            in_hours_per_km: r.in_hours.as_ref().map(|h| round(h.per_km)),
            pai: main.pai.map(round),
            hot_cells_per_hour: round(main.hot_cells_per_hour()),
            length_m: r.all.length_m.round(),
        }
    }
}
