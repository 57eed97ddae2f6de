//! Patrol dosage without tracking people (issue 15): a plan of short stops at the hot cells
//! along a route for one evening (`analysis::dosage`, the Koper pattern), and a weekly report
//! of minutes per hot cell logged against the plans, per organisation. Walks log stops by
//! cell and minutes only, never a trail of positions.
//!
//! The hot cells are Gi* over every counted area the caller sees, from the incidents of the
//! four weeks before the evening as the caller may count them (positions for exact roles,
//! published cell counts for the others), and a route's are those within 100 m of it.

use std::collections::{BTreeMap, BTreeSet};

use time::{Date, Duration, OffsetDateTime, PrimitiveDateTime};
use uuid::Uuid;

use super::analysis::DEFAULT_BAND_M;
use super::routes::RouteAsk;
use super::visibility::{CELL_M, cpu_bound};
use super::{Service, ServiceError};
use crate::analysis::dosage::{Plan, plan, planned_minutes};
use crate::analysis::getis::{Cell, gi_star};
use crate::analysis::route_score::CORRIDOR_M;
use crate::domain::access::{Precision, Viewer};
use crate::domain::audit::{AuditAction, AuditOutcome};
use crate::domain::patrol_route::{RouteStatus, Schedule, parse_hhmm};
use crate::domain::walk::parse_cell;
use crate::domain::{Layer, Properties, ValidationErrors};
use crate::index::{Filters, Spatial};
use crate::store::audit::AuditRow;

/// Days of incidents before the evening that say where the hot cells are.
pub const HOT_DAYS: i64 = 28;

/// One evening's plan on a route.
#[derive(Debug, Clone)]
pub struct EveningPlan {
    /// The route.
    pub route: RouteAsk,
    /// The evening (the session's first day).
    pub date: Date,
    /// When the session starts and ends.
    pub starts: OffsetDateTime,
    /// The end.
    pub ends: OffsetDateTime,
    /// The plan (minutes after `starts`).
    pub plan: Plan,
    /// Hot cells along the route, hottest first, with their z-scores.
    pub hot_along: Vec<(Cell, f64)>,
    /// Why there are no hot cells, when so.
    pub note: Option<String>,
}

/// Minutes per cell for one organisation in a week.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CellDosage {
    /// Minutes the plans gave.
    pub planned: u32,
    /// Minutes logged at stops.
    pub logged: u32,
    /// Stops logged.
    pub stops: u32,
}

/// The weekly dosage report.
#[derive(Debug, Clone)]
pub struct DosageReport {
    /// The week's Monday.
    pub monday: Date,
    /// Organisation → cell → minutes.
    pub by_organisation: BTreeMap<String, BTreeMap<Cell, CellDosage>>,
    /// Route sessions planned in the week.
    pub sessions: usize,
    /// Notes on evenings without hot cells.
    pub notes: Vec<String>,
}

impl Service {
    /// The hot cells (class above 0) of the four weeks before `date`, with z, over every
    /// counted area `viewer` sees; an error in words when there are none.
    async fn hot_cells_before(
        &self,
        viewer: &Viewer,
        date: Date,
    ) -> Result<Result<BTreeMap<Cell, f64>, String>, ServiceError> {
        let Ok(study) = self.study_cells(viewer, &Spatial::All) else {
            return Ok(Err(
                "no area is counted, so there are no hot cells".to_owned()
            ));
        };
        // The evening's midnight in Sweden.
        let end = crate::domain::time::from_swedish_local(date.midnight());
        let filters = Filters {
            time: Some(crate::domain::time::TimeSpan {
                start: (end - Duration::days(HOT_DAYS)).unix_timestamp(),
                end: end.unix_timestamp() - 1,
            }),
            ..Filters::default()
        };
        let (points, _) = self
            .analysis_input(viewer, &Spatial::All, &filters, "patrol plan")
            .await?;
        let counts = Self::cell_counts(&study, &points);
        Ok(
            match cpu_bound(|| gi_star(&counts, CELL_M, DEFAULT_BAND_M, 0, 0)) {
                Ok(g) => Ok(counts
                    .iter()
                    .zip(g.class.iter().zip(&g.z))
                    .filter(|((_, n), (k, _))| **k > 0 && *n > 0.0)
                    .map(|((c, _), (_, z))| (*c, *z))
                    .collect()),
                Err(e) => Err(format!("no hot cells: {e}")),
            },
        )
    }

    /// The plan for `route` on the evening of `date`.
    fn evening_plan(
        &self,
        route: RouteAsk,
        schedule: Schedule,
        start: &str,
        date: Date,
        hot: &Result<BTreeMap<Cell, f64>, String>,
    ) -> Result<EveningPlan, ServiceError> {
        let line = self.walked(&route)?;
        let along: BTreeSet<Cell> = line
            .corridor_cells(CELL_M, CORRIDOR_M)
            .into_iter()
            .map(|(c, _)| c)
            .collect();
        let (mut hot_along, note): (Vec<(Cell, f64)>, Option<String>) = match hot {
            Ok(h) => (
                h.iter()
                    .filter(|(c, _)| along.contains(c))
                    .map(|(c, z)| (*c, *z))
                    .collect(),
                None,
            ),
            Err(e) => (Vec::new(), Some(e.clone())),
        };
        hot_along.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        let cells: Vec<Cell> = hot_along.iter().map(|(c, _)| *c).collect();
        let minutes = u32::from(schedule.minutes());
        let seed = route
            .id
            .map_or(0, |id| id.as_u64_pair().0 ^ id.as_u64_pair().1)
            ^ u64::from(date.to_julian_day().unsigned_abs());
        let p = cpu_bound(|| plan(&cells, minutes, CELL_M, seed));
        let start_minute = parse_hhmm(start).unwrap_or(0);
        let local = PrimitiveDateTime::new(
            date,
            time::Time::from_hms(
                u8::try_from(start_minute / 60).unwrap_or(0),
                u8::try_from(start_minute % 60).unwrap_or(0),
                0,
            )
            .unwrap_or(time::Time::MIDNIGHT),
        );
        let starts = crate::domain::time::from_swedish_local(local);
        Ok(EveningPlan {
            route,
            date,
            starts,
            ends: starts + Duration::minutes(i64::from(minutes)),
            plan: p,
            hot_along,
            note,
        })
    }

    /// A saved route's schedule and start time, for planning.
    fn route_session(&self, route: &RouteAsk) -> Result<(Schedule, String), ServiceError> {
        let id = route.id.ok_or_else(|| {
            ServiceError::Invalid(ValidationErrors::one(
                "route",
                "plans are made for saved routes",
            ))
        })?;
        let (Some(schedule), Some(f)) = (route.schedule, self.index().get(Layer::PatrolRoutes, id))
        else {
            return Err(ValidationErrors::one(
                "route",
                "the route's days and hours are not shown to your role, so no plan can be made",
            )
            .into());
        };
        let Properties::PatrolRoute(r) = &f.properties else {
            return Err(ServiceError::NotFound(Layer::PatrolRoutes, id));
        };
        Ok((schedule, r.start_time.to_string()))
    }

    /// The plan of stops on saved route `id` for the evening of `date`.
    ///
    /// # Errors
    /// [`ServiceError::NotFound`] for a route the caller cannot see; [`ServiceError::Forbidden`]
    /// without incidents or routes' lines; [`ServiceError::Invalid`] for a day the route is not
    /// walked.
    pub async fn patrol_plan(
        &self,
        viewer: &Viewer,
        id: Uuid,
        date: Date,
    ) -> Result<EveningPlan, ServiceError> {
        if viewer.precision(Layer::Incidents) == Precision::None {
            return Err(ServiceError::Forbidden(format!(
                "your role ({}) has no access to incidents, so no hot cells to plan stops at",
                viewer.role.label
            )));
        }
        let route = self.saved_route(viewer, id).await?;
        let (schedule, start) = self.route_session(&route)?;
        if !schedule.walks_on(date.weekday()) {
            return Err(ServiceError::Unanswerable(ValidationErrors::one(
                "date",
                format!(
                    "{date} is a {}; '{}' is not walked that day",
                    date.weekday(),
                    route.name
                ),
            )));
        }
        let hot = self.hot_cells_before(viewer, date).await?;
        self.evening_plan(route, schedule, &start, date, &hot)
    }

    /// Minutes per hot cell logged at stops in the week of `monday`, against the plans of every
    /// active route's evenings that week, per organisation.
    ///
    /// # Errors
    /// [`ServiceError::Forbidden`] without exact walks (their stops), routes or any incidents.
    pub async fn dosage_report(
        &self,
        viewer: &Viewer,
        monday: Date,
    ) -> Result<DosageReport, ServiceError> {
        for (layer, why) in [
            (Layer::Walks, "the walks' stops"),
            (Layer::PatrolRoutes, "the routes"),
        ] {
            if viewer.precision(layer) != Precision::Exact {
                return Err(ServiceError::Forbidden(format!(
                    "your role ({}) does not read {why}, which the dosage report is made of",
                    viewer.role.label
                )));
            }
        }
        if viewer.precision(Layer::Incidents) == Precision::None {
            return Err(ServiceError::Forbidden(format!(
                "your role ({}) has no access to incidents, so no hot cells to plan stops at",
                viewer.role.label
            )));
        }
        for (layer, fields) in [
            (Layer::Walks, &["stops", "started_at", "route_id"][..]),
            (
                Layer::PatrolRoutes,
                &["weekdays", "start_time", "end_time", "status"][..],
            ),
        ] {
            let hide = &viewer.role.grant(layer).hide;
            if let Some(h) = fields.iter().find(|f| hide.iter().any(|h| h == *f)) {
                return Err(ServiceError::Forbidden(format!(
                    "your role ({}) does not see the {layer}' '{h}', which the dosage report is made of",
                    viewer.role.label
                )));
            }
        }
        let ceiling = Filters {
            max_classification: Some(viewer.role.ceiling.code()),
            ..Filters::default()
        };
        let mut by_organisation: BTreeMap<String, BTreeMap<Cell, CellDosage>> = BTreeMap::new();
        let mut sessions = 0;
        let mut notes = BTreeSet::new();
        // The plans of the week's evenings.
        let routes = self
            .index()
            .matching(Layer::PatrolRoutes, &Spatial::All, &ceiling);
        let mut hot_by_day = BTreeMap::new();
        for day in 0..7 {
            let date = monday + Duration::days(day);
            for f in &routes {
                let Properties::PatrolRoute(r) = &f.properties else {
                    continue;
                };
                let Some(schedule) = r.schedule() else {
                    continue;
                };
                if r.status != RouteStatus::Active || !schedule.walks_on(date.weekday()) {
                    continue;
                }
                let Some(ask) = RouteAsk::of(f, &viewer.role.grant(Layer::PatrolRoutes).hide)
                else {
                    continue;
                };
                let hot = match hot_by_day.entry(date) {
                    std::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
                    std::collections::btree_map::Entry::Vacant(e) => {
                        e.insert(self.hot_cells_before(viewer, date).await?)
                    }
                };
                let Ok(evening) = self.evening_plan(ask, schedule, &r.start_time, date, hot) else {
                    continue;
                };
                if let Some(n) = &evening.note {
                    notes.insert(format!("{date}: {n}"));
                }
                sessions += 1;
                let cells = by_organisation
                    .entry(f.meta.organisation.to_string())
                    .or_default();
                for (c, m) in planned_minutes(&evening.plan) {
                    cells.entry(c).or_default().planned += m;
                }
            }
        }
        // The stops logged on walks started in the week, Monday to Sunday in Sweden (the
        // index asked a day wider on each side, then each start read in Swedish time).
        let wide = crate::service::agenda::Period {
            from: monday - Duration::days(1),
            to: monday + Duration::days(7),
        };
        let walks = self.index().matching(
            Layer::Walks,
            &Spatial::All,
            &Filters {
                time: Some(wide.span()),
                ..ceiling.clone()
            },
        );
        let mut read = 0usize;
        for f in &walks {
            let Properties::Walk(w) = &f.properties else {
                continue;
            };
            let day = crate::domain::time::swedish_local(w.started_at).date();
            if day < monday || day > monday + Duration::days(6) {
                continue;
            }
            read += 1;
            let cells = by_organisation
                .entry(f.meta.organisation.to_string())
                .or_default();
            for s in &w.stops {
                if let Some(c) = parse_cell(&s.cell) {
                    let d = cells.entry(c).or_default();
                    d.logged += u32::from(s.minutes);
                    d.stops += 1;
                }
            }
        }
        by_organisation.retain(|_, cells| !cells.is_empty());
        let row = AuditRow::new(self.clock().now(), AuditAction::Aggregate, AuditOutcome::Ok)
            .layer(Layer::Walks)
            .detail(format!(
                "dosage report for the week of {monday}: the stops of {read} walks"
            ));
        self.audit(viewer, row).await?;
        Ok(DosageReport {
            monday,
            by_organisation,
            sessions,
            notes: notes.into_iter().collect(),
        })
    }
}
