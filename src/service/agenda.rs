//! The chiefs' meeting's weekly agenda (*dagordning*), area by area in the order the security
//! coordinator sets (`agenda_order` on each area): counts per incident category this week and
//! over a window against the previous window and the same weeks last year; what is new,
//! changed or closed since the last meeting; the densest 250 m cells per category; measures due
//! or overdue; walks planned on the routes against walks logged; risk environments past review;
//! cameras out of order.
//!
//! Every part passes the caller's grant: counts come from [`Service::read_aggregate`] (so a role
//! below `exact` gets only published buckets of at least 3, and `null` where nothing may be
//! shown), and lists are made only from layers the role reads exactly and whose fields shown
//! here it may see; every layer left out for the role is named in `not_shown`.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use geo::{Centroid, Geometry, Intersects};
use serde::Serialize;
use time::{Date, Duration, OffsetDateTime};
use uuid::Uuid;

use super::visibility::{AggregateBy, SUPPRESSION_RULE};
use super::{Service, ServiceError};
use crate::domain::access::{Precision, Viewer};
use crate::domain::audit::{AuditAction, AuditOutcome};
use crate::domain::camera::CameraStatus;
use crate::domain::measure::MeasureStatus;
use crate::domain::patrol_route::RouteStatus;
use crate::domain::risk_environment::RiskStatus;
use crate::domain::time::TimeSpan;
use crate::domain::{Feature, Layer, Properties, ValidationErrors};
use crate::index::{Filters, Spatial};
use crate::store::audit::AuditRow;

/// The longest window compared, in weeks.
pub const MAX_WINDOW_WEEKS: u8 = 26;
/// The window compared when none is asked for, in weeks.
pub const DEFAULT_WINDOW_WEEKS: u8 = 4;
/// The densest cells listed per area and category.
pub const HOT_CELLS: usize = 3;
/// Measures due within this many days after the agenda's week are listed as due.
pub const DUE_SOON_DAYS: i64 = 14;

/// A span of whole days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Period {
    /// First day.
    pub from: Date,
    /// Last day (inclusive).
    pub to: Date,
}

impl Period {
    /// The days as a time span, from the first day's 00:00 to the last day's 23:59:59 UTC.
    #[must_use]
    pub fn span(self) -> TimeSpan {
        TimeSpan {
            start: self.from.midnight().assume_utc().unix_timestamp(),
            end: self.to.midnight().assume_utc().unix_timestamp() + 86_399,
        }
    }

    pub(crate) fn contains(self, t: OffsetDateTime) -> bool {
        let s = self.span();
        (s.start..=s.end).contains(&t.unix_timestamp())
    }
}

/// The periods counted.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Periods {
    /// The agenda's ISO week.
    pub week: Period,
    /// The window: the agenda's week and the weeks before it.
    pub window: Period,
    /// The window before it, as long.
    pub previous: Period,
    /// The same weeks a year earlier (52 weeks back, so weekdays line up).
    pub last_year: Period,
}

/// Where "since the last meeting" starts.
#[derive(Debug, Clone, Serialize)]
pub struct Since {
    /// The instant (the last meeting's closing, else its recording; without a meeting, the
    /// window's start).
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// The meeting, when there was one.
    pub meeting: Option<Uuid>,
    /// Its week.
    pub meeting_week: Option<String>,
}

/// Incidents of one category in one area. `null` where the role may not be shown the number
/// (below 3, or a cell that would give a hidden one away; see `counts_rule`).
#[derive(Debug, Clone, Serialize)]
pub struct CategoryCounts {
    /// The category.
    pub category: &'static str,
    /// The agenda's week.
    pub week: Option<usize>,
    /// The window.
    pub window: Option<usize>,
    /// The previous window.
    pub previous: Option<usize>,
    /// The same weeks last year.
    pub last_year: Option<usize>,
}

/// One of the densest 250 m cells of an area in the window.
#[derive(Debug, Clone, Serialize)]
pub struct HotCell {
    /// The category.
    pub category: &'static str,
    /// The cell (`E2648_N26280`).
    pub cell: String,
    /// Its centre `[lon, lat]`.
    pub centre: [f64; 2],
    /// Incidents of the category in it in the window.
    pub count: usize,
}

/// What happened to a feature since the last meeting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeKind {
    /// Added since.
    New,
    /// Changed since.
    Changed,
    /// Finished, closed or retired since.
    Closed,
}

/// A feature new, changed or closed since the last meeting.
#[derive(Debug, Clone, Serialize)]
pub struct ChangeNote {
    /// Its layer.
    pub layer: Layer,
    /// Its id.
    pub id: Uuid,
    /// What happened.
    pub change: ChangeKind,
    /// Its title, name or kind.
    pub label: String,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

/// A measure due soon or overdue.
#[derive(Debug, Clone, Serialize)]
pub struct MeasureDue {
    /// Its id.
    pub id: Uuid,
    /// Its title.
    pub title: String,
    /// Who carries it out.
    pub owner: String,
    /// Where it stands.
    pub status: MeasureStatus,
    /// When it is due.
    pub due: Date,
    /// Past its due date.
    pub overdue: bool,
}

/// A route's walks in the agenda's week: planned (its weekdays) against logged.
#[derive(Debug, Clone, Serialize)]
pub struct RouteWalks {
    /// The route.
    pub id: Uuid,
    /// Its name.
    pub name: String,
    /// Who walks it.
    pub kind: &'static str,
    /// Its days.
    pub weekdays: Vec<&'static str>,
    /// Its hours, `21:00–01:00`.
    pub hours: String,
    /// Walks planned in the week (one per weekday).
    pub planned: usize,
    /// Walks logged in the week (`null` where the role does not read walks exactly).
    pub logged: Option<usize>,
    /// The route's score over the window (`null` where the role does not count incidents).
    pub score: Option<super::routes::RouteScoreNote>,
}

/// A feature flagged for the meeting (a risk environment past review, a camera out of order).
#[derive(Debug, Clone, Serialize)]
pub struct Flagged {
    /// Its id.
    pub id: Uuid,
    /// Its kind or owner.
    pub label: &'static str,
    /// Its review date (risk environments).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_review: Option<Date>,
}

/// One area's part of the agenda.
#[derive(Debug, Clone, Serialize)]
pub struct AgendaArea {
    /// The area's id.
    pub id: Uuid,
    /// Its name.
    pub name: String,
    /// Its place in the order (`null`: after the ordered ones, by name).
    pub agenda_order: Option<u16>,
    /// Whether its counts are shown (below exact, an area overlapping a smaller one is not
    /// counted; see `counts_rule`).
    pub counted: bool,
    /// Incidents per category (categories with nothing in any period left out).
    pub counts: Vec<CategoryCounts>,
    /// The densest cells per category in the window.
    pub hot_cells: Vec<HotCell>,
    /// What is new, changed or closed since the last meeting.
    pub since_last_meeting: Vec<ChangeNote>,
    /// Measures due within two weeks of the agenda's week, or overdue.
    pub measures_due: Vec<MeasureDue>,
    /// Active routes through the area: walks planned against logged.
    pub walks: Vec<RouteWalks>,
    /// Active risk environments past their review date.
    pub risk_environments_past_review: Vec<Flagged>,
    /// Cameras out of order.
    pub cameras_out_of_order: Vec<Flagged>,
    /// Cameras whose documented assessment is past its review date (the register after the
    /// law change of 1 April 2025).
    pub cameras_past_review: Vec<Flagged>,
    /// Cells with an emerging hot spot pattern over the last 12 whole weeks.
    pub emerging: Vec<EmergingNote>,
    /// Near-repeat zones in force (after shootings and explosions), as the role sees them.
    pub near_repeat_zones: Vec<ZoneNote>,
    /// How much of the window's incidents in the area working cameras see, with the interval
    /// for position error (`null` where the role does not see cameras exactly).
    pub camera_coverage: Option<super::cameras::AreaCoverage>,
}

/// A near-repeat zone in force.
#[derive(Debug, Clone, Serialize)]
pub struct ZoneNote {
    /// The incident that raised it.
    pub incident: Uuid,
    /// Its category.
    pub category: &'static str,
    /// In force until.
    #[serde(with = "time::serde::rfc3339")]
    pub until: OffsetDateTime,
    /// Its radius in metres.
    pub radius_m: f64,
}

/// A cell's emerging hot spot pattern.
#[derive(Debug, Clone, Serialize)]
pub struct EmergingNote {
    /// The cell (`E2648_N26280`).
    pub cell: String,
    /// Its centre `[lon, lat]`.
    pub centre: [f64; 2],
    /// The pattern.
    pub pattern: crate::analysis::emerging::Pattern,
}

/// The weekly agenda.
#[derive(Debug, Clone, Serialize)]
pub struct Agenda {
    /// The ISO week, `2026-W49`.
    pub week: String,
    /// The window's length in weeks.
    pub window_weeks: u8,
    /// The periods counted.
    pub periods: Periods,
    /// Where "since the last meeting" starts.
    pub since: Since,
    /// As of (the server's clock).
    #[serde(with = "time::serde::rfc3339")]
    pub as_of: OffsetDateTime,
    /// The rule for counts not shown, when the role counts below exact.
    pub counts_rule: Option<&'static str>,
    /// Parts of the agenda the role's grant leaves out, by layer.
    pub not_shown: Vec<Layer>,
    /// The weeks the emerging hot spots span (empty when not computed).
    pub emerging_weeks: Vec<String>,
    /// Why some weeks had no hot spot analysis (too few incidents).
    pub emerging_refused: Vec<String>,
    /// The areas, in the agenda's order.
    pub areas: Vec<AgendaArea>,
}

/// The fields each list reads; a role that has any of them hidden does not get the list.
const FIELDS: &[(Layer, &[&str])] = &[
    (Layer::Measures, &["title", "owner", "status", "due"]),
    (
        Layer::PatrolRoutes,
        &[
            "name",
            "kind",
            "weekdays",
            "start_time",
            "end_time",
            "status",
        ],
    ),
    (Layer::Walks, &["route_id", "started_at"]),
    (Layer::RiskEnvironments, &["kind", "status", "next_review"]),
    (Layer::Cameras, &["owner", "status", "next_review"]),
];

/// Whether `viewer` reads `layer` exactly with every field the agenda shows of it.
fn lists(viewer: &Viewer, layer: Layer) -> bool {
    let grant = viewer.role.grant(layer);
    grant.read == Precision::Exact
        && FIELDS
            .iter()
            .filter(|(l, _)| *l == layer)
            .flat_map(|(_, f)| f.iter())
            .all(|f| !grant.hide.iter().any(|h| h == f))
}

/// Counts per area name → category → count, from one aggregate answer.
pub type AreaCounts = HashMap<Uuid, BTreeMap<&'static str, usize>>;

impl Service {
    /// The agenda of ISO week `week` (`None`: this week), comparing windows of `weeks` weeks.
    ///
    /// # Errors
    /// [`ServiceError::Forbidden`] for roles that do not read the meetings' records;
    /// [`ServiceError::Invalid`] naming `week` or `weeks`; store failures.
    pub async fn agenda(
        &self,
        viewer: &Viewer,
        week: Option<&str>,
        weeks: Option<u8>,
    ) -> Result<Agenda, ServiceError> {
        Self::may_read_meetings(viewer)?;
        let as_of = self.clock().now();
        let monday = match week {
            Some(w) => crate::domain::time::parse_iso_week(w)
                .map_err(|e| ValidationErrors::one("week", e))?,
            None => {
                let t = as_of.date();
                t - Duration::days(i64::from(t.weekday().number_days_from_monday()))
            }
        };
        let weeks = weeks.unwrap_or(DEFAULT_WINDOW_WEEKS);
        if !(1..=MAX_WINDOW_WEEKS).contains(&weeks) {
            return Err(ValidationErrors::one(
                "weeks",
                format!("is {weeks}; compare windows of 1 to {MAX_WINDOW_WEEKS} weeks"),
            )
            .into());
        }
        let periods = periods(monday, weeks);
        let since = self.since(viewer, monday, periods.window.from).await?;

        let mut not_shown = Vec::new();
        let incidents = viewer.precision(Layer::Incidents);
        let (counts, hot) = if incidents == Precision::None {
            not_shown.push(Layer::Incidents);
            (Vec::new(), Vec::new())
        } else {
            let mut counts = Vec::new();
            for p in [
                periods.week,
                periods.window,
                periods.previous,
                periods.last_year,
            ] {
                counts.push(self.area_counts(viewer, p).await?);
            }
            (counts, self.hot_cells(viewer, periods.window).await?)
        };
        // Emerging hot spots over the 12 whole weeks before the agenda's week ends.
        let emerging = if incidents == Precision::None {
            None
        } else {
            let end = (monday + Duration::weeks(1))
                .midnight()
                .assume_utc()
                .min(as_of);
            match self
                .emerging_hot_spots(viewer, &Spatial::All, &Filters::default(), 12, None, end)
                .await
            {
                Ok(e) => Some(e),
                // No area to analyse, or nothing to say: the agenda goes on without it.
                Err(ServiceError::Invalid(_) | ServiceError::Unanswerable(_)) => None,
                Err(e) => return Err(e),
            }
        };
        let zones = if matches!(incidents, Precision::Exact | Precision::Coarse) {
            // In force at the end of the agenda's week (now, for this week's).
            self.near_repeat_zones(
                viewer,
                &crate::service::near_repeat::ZoneRule::default(),
                (monday + Duration::weeks(1))
                    .midnight()
                    .assume_utc()
                    .min(as_of),
            )
            .await?
        } else {
            Vec::new()
        };
        for layer in [
            Layer::Measures,
            Layer::PatrolRoutes,
            Layer::RiskEnvironments,
            Layer::Cameras,
            Layer::Walks,
        ] {
            if !lists(viewer, layer) {
                not_shown.push(layer);
            }
        }
        let exact_counts = incidents == Precision::Exact;
        let counted_areas = self.counted_areas(viewer);
        let coverage = self
            .coverage_by_area(
                viewer,
                &Filters {
                    time: Some(periods.window.span()),
                    ..Filters::default()
                },
                &counted_areas
                    .iter()
                    .map(|a| (a.id, a.geometry().into_owned()))
                    .collect::<Vec<_>>(),
            )
            .await?;
        let route_scores = self
            .active_route_scores(
                viewer,
                &Filters {
                    time: Some(periods.window.span()),
                    ..Filters::default()
                },
            )
            .await?;
        let mut listed = 0usize;
        let mut areas = Vec::new();
        for area in counted_areas {
            let Properties::Area(a) = &area.properties else {
                continue;
            };
            let counted = !counts.is_empty()
                && (exact_counts || counts.iter().any(|c| c.contains_key(&area.id)));
            let mut entry = AgendaArea {
                id: area.id,
                name: a.name.to_string(),
                agenda_order: a.agenda_order,
                counted,
                counts: category_counts(&counts, area.id, exact_counts, counted),
                hot_cells: hot
                    .iter()
                    .filter(|(outline_hit, _)| outline_hit.intersects(&*area.geometry()))
                    .map(|(_, c)| c.clone())
                    .collect(),
                since_last_meeting: Vec::new(),
                measures_due: Vec::new(),
                walks: Vec::new(),
                risk_environments_past_review: Vec::new(),
                cameras_out_of_order: Vec::new(),
                cameras_past_review: Vec::new(),
                emerging: emerging_in(emerging.as_ref(), &area.geometry()),
                near_repeat_zones: zones
                    .iter()
                    .filter(|z| {
                        z.outline
                            .centroid()
                            .is_some_and(|c| area.geometry().intersects(&c))
                    })
                    .map(|z| ZoneNote {
                        incident: z.incident,
                        category: z.category,
                        until: z.until,
                        radius_m: z.radius_m,
                    })
                    .collect(),
                camera_coverage: coverage.as_ref().and_then(|c| c.get(&area.id).copied()),
            };
            entry.hot_cells = densest(entry.hot_cells);
            listed += self.fill_lists(viewer, &area, &periods, &since, as_of, &mut entry);
            if let Some(scores) = &route_scores {
                for w in &mut entry.walks {
                    w.score = scores.get(&w.id).map(|(_, s)| *s);
                }
            }
            areas.push(entry);
        }
        areas.sort_by(|a, b| {
            (a.agenda_order.is_none(), a.agenda_order, &a.name, a.id).cmp(&(
                b.agenda_order.is_none(),
                b.agenda_order,
                &b.name,
                b.id,
            ))
        });
        let week_label = crate::service::meetings::iso_week(monday);
        let row = AuditRow::new(as_of, AuditAction::Agenda, AuditOutcome::Ok).detail(format!(
            "agenda {week_label} ({weeks} weeks): {} areas, {listed} features listed at exact precision",
            areas.len()
        ));
        self.audit(viewer, row).await?;
        Ok(Agenda {
            week: week_label,
            window_weeks: weeks,
            periods,
            since,
            as_of,
            counts_rule: (incidents != Precision::Exact && incidents != Precision::None)
                .then_some(SUPPRESSION_RULE),
            not_shown,
            emerging_weeks: emerging.as_ref().map_or_else(Vec::new, |e| {
                e.weeks
                    .iter()
                    .map(|d| crate::service::meetings::iso_week(*d))
                    .collect()
            }),
            emerging_refused: emerging.as_ref().map_or_else(Vec::new, |e| {
                e.refused
                    .iter()
                    .map(|(d, why)| format!("{}: {why}", crate::service::meetings::iso_week(*d)))
                    .collect()
            }),
            areas,
        })
    }

    /// The last meeting held before the agenda's week that `viewer` may read.
    async fn since(
        &self,
        viewer: &Viewer,
        monday: Date,
        window_start: Date,
    ) -> Result<Since, ServiceError> {
        let last = self
            .meetings(viewer, 1000)
            .await?
            .into_iter()
            .find(|m| m.draft.held_on < monday);
        Ok(match last {
            Some(m) => Since {
                at: m.closed_at.unwrap_or(m.created_at),
                meeting: Some(m.id),
                meeting_week: Some(m.draft.week),
            },
            None => Since {
                at: window_start.midnight().assume_utc(),
                meeting: None,
                meeting_week: None,
            },
        })
    }

    /// Incidents per area and category in `period`, as `viewer` may count them.
    pub(crate) async fn area_counts(
        &self,
        viewer: &Viewer,
        period: Period,
    ) -> Result<AreaCounts, ServiceError> {
        let filters = Filters {
            time: Some(period.span()),
            ..Filters::default()
        };
        let agg = self
            .read_aggregate(
                viewer,
                Layer::Incidents,
                AggregateBy::Area,
                &Spatial::All,
                &filters,
            )
            .await?;
        Ok(agg
            .buckets
            .into_iter()
            .filter_map(|b| Some((Uuid::parse_str(&b.key).ok()?, b.by_category)))
            .collect())
    }

    /// Every counted cell of the window, per category: (the cell's centre, the cell).
    async fn hot_cells(
        &self,
        viewer: &Viewer,
        window: Period,
    ) -> Result<Vec<(Geometry<f64>, HotCell)>, ServiceError> {
        let filters = Filters {
            time: Some(window.span()),
            ..Filters::default()
        };
        let agg = self
            .read_aggregate(
                viewer,
                Layer::Incidents,
                AggregateBy::Grid,
                &Spatial::All,
                &filters,
            )
            .await?;
        let mut out = Vec::new();
        for b in agg.buckets {
            let Some(centre) = b.geometry.centroid() else {
                continue;
            };
            for (category, count) in b.by_category {
                out.push((
                    Geometry::Point(centre),
                    HotCell {
                        category,
                        cell: b.key.clone(),
                        centre: [centre.x(), centre.y()],
                        count,
                    },
                ));
            }
        }
        Ok(out)
    }

    /// Fills an area's lists from the layers `viewer` reads exactly; returns how many features
    /// were listed.
    fn fill_lists(
        &self,
        viewer: &Viewer,
        area: &Feature,
        periods: &Periods,
        since: &Since,
        as_of: OffsetDateTime,
        entry: &mut AgendaArea,
    ) -> usize {
        let today = as_of.date();
        let in_area = |layer: Layer| -> Vec<Arc<Feature>> {
            if !lists(viewer, layer) {
                return Vec::new();
            }
            self.index().matching(
                layer,
                &Spatial::Intersects(area.geometry().into_owned()),
                &Filters {
                    max_classification: Some(viewer.role.ceiling.code()),
                    ..Filters::default()
                },
            )
        };
        let measures = in_area(Layer::Measures);
        let routes = in_area(Layer::PatrolRoutes);
        let risks = in_area(Layer::RiskEnvironments);
        let cameras = in_area(Layer::Cameras);
        let listed = measures.len() + routes.len() + risks.len() + cameras.len();

        for f in measures.iter().chain(&routes).chain(&risks).chain(&cameras) {
            if let Some(note) = change_note(f, since.at) {
                entry.since_last_meeting.push(note);
            }
        }
        entry
            .since_last_meeting
            .sort_by(|a, b| b.at.cmp(&a.at).then_with(|| a.id.cmp(&b.id)));

        let horizon = periods.week.to + Duration::days(DUE_SOON_DAYS);
        for f in &measures {
            if let Properties::Measure(m) = &f.properties
                && let Some(due) = m.due
                && !matches!(m.status, MeasureStatus::Done | MeasureStatus::Cancelled)
                && due <= horizon
            {
                entry.measures_due.push(MeasureDue {
                    id: f.id,
                    title: m.title.to_string(),
                    owner: m.owner.to_string(),
                    status: m.status,
                    due,
                    overdue: m.is_overdue(today),
                });
            }
        }
        entry.measures_due.sort_by_key(|m| (m.due, m.id));

        let walks_logged = lists(viewer, Layer::Walks).then(|| {
            let mut per_route: HashMap<Uuid, usize> = HashMap::new();
            for w in self.index().matching(
                Layer::Walks,
                &Spatial::All,
                &Filters {
                    time: Some(periods.week.span()),
                    max_classification: Some(viewer.role.ceiling.code()),
                    ..Filters::default()
                },
            ) {
                if let Properties::Walk(w) = &w.properties
                    && periods.week.contains(w.started_at)
                {
                    *per_route.entry(w.route_id).or_default() += 1;
                }
            }
            per_route
        });
        for f in &routes {
            if let Properties::PatrolRoute(r) = &f.properties
                && r.status == RouteStatus::Active
            {
                entry.walks.push(RouteWalks {
                    id: f.id,
                    name: r.name.to_string(),
                    kind: r.kind.as_str(),
                    weekdays: r.weekdays.iter().map(|d| d.as_str()).collect(),
                    hours: format!("{}–{}", r.start_time, r.end_time),
                    planned: r.weekdays.len(),
                    logged: walks_logged
                        .as_ref()
                        .map(|m| m.get(&f.id).copied().unwrap_or(0)),
                    score: None,
                });
            }
        }
        entry
            .walks
            .sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));

        for f in &risks {
            if let Properties::RiskEnvironment(r) = &f.properties
                && r.is_stale(today)
            {
                entry.risk_environments_past_review.push(Flagged {
                    id: f.id,
                    label: r.kind.as_str(),
                    next_review: Some(r.next_review),
                });
            }
        }
        entry
            .risk_environments_past_review
            .sort_by_key(|r| (r.next_review, r.id));
        for f in &cameras {
            let Properties::Camera(c) = &f.properties else {
                continue;
            };
            if c.status == CameraStatus::OutOfOrder {
                entry.cameras_out_of_order.push(Flagged {
                    id: f.id,
                    label: c.owner.as_str(),
                    next_review: None,
                });
            }
            if c.is_stale(today) {
                entry.cameras_past_review.push(Flagged {
                    id: f.id,
                    label: c.owner.as_str(),
                    next_review: c.next_review,
                });
            }
        }
        entry.cameras_out_of_order.sort_by_key(|c| c.id);
        entry
            .cameras_past_review
            .sort_by_key(|c| (c.next_review, c.id));
        listed
    }
}

/// The emerging hot spot cells whose centre lies in `outline`, by pattern.
fn emerging_in(
    e: Option<&crate::service::analysis::Emerging>,
    outline: &Geometry<f64>,
) -> Vec<EmergingNote> {
    let Some(e) = e else { return Vec::new() };
    let mut out: Vec<EmergingNote> = e
        .cells
        .iter()
        .filter_map(|c| {
            let centre = c.square.centroid()?;
            outline.intersects(&centre).then(|| EmergingNote {
                cell: format!("E{}_N{}", c.cell.0, c.cell.1),
                centre: [centre.x(), centre.y()],
                pattern: c.pattern,
            })
        })
        .collect();
    out.sort_by(|a, b| a.pattern.cmp(&b.pattern).then_with(|| a.cell.cmp(&b.cell)));
    out
}

/// The week of `monday`, the window of `weeks` weeks ending with it, the window before, and the
/// same window 52 weeks earlier.
#[must_use]
pub fn periods(monday: Date, weeks: u8) -> Periods {
    let sunday = monday + Duration::days(6);
    let window_from = monday - Duration::weeks(i64::from(weeks) - 1);
    let length = Duration::weeks(i64::from(weeks));
    let year = Duration::weeks(52);
    Periods {
        week: Period {
            from: monday,
            to: sunday,
        },
        window: Period {
            from: window_from,
            to: sunday,
        },
        previous: Period {
            from: window_from - length,
            to: window_from - Duration::days(1),
        },
        last_year: Period {
            from: window_from - year,
            to: sunday - year,
        },
    }
}

/// An area's counts per category over the four periods: exact roles get 0 where nothing
/// happened; below exact, what is not published is `null`.
fn category_counts(
    counts: &[AreaCounts],
    area: Uuid,
    exact: bool,
    counted: bool,
) -> Vec<CategoryCounts> {
    if !counted {
        return Vec::new();
    }
    let get = |i: usize, c: &str| -> Option<usize> {
        let n = counts.get(i)?.get(&area).and_then(|m| m.get(c)).copied();
        if exact { Some(n.unwrap_or(0)) } else { n }
    };
    crate::domain::incident::IncidentCategory::NAMES
        .iter()
        .map(|c| CategoryCounts {
            category: c,
            week: get(0, c),
            window: get(1, c),
            previous: get(2, c),
            last_year: get(3, c),
        })
        .filter(|c| {
            [c.week, c.window, c.previous, c.last_year]
                .iter()
                .any(|n| n.is_some_and(|n| n > 0))
        })
        .collect()
}

/// The densest [`HOT_CELLS`] cells per category, densest first.
fn densest(mut cells: Vec<HotCell>) -> Vec<HotCell> {
    cells.sort_by(|a, b| {
        a.category
            .cmp(b.category)
            .then(b.count.cmp(&a.count))
            .then_with(|| a.cell.cmp(&b.cell))
    });
    let mut kept: Vec<HotCell> = Vec::new();
    for c in cells {
        if kept.iter().filter(|k| k.category == c.category).count() < HOT_CELLS {
            kept.push(c);
        }
    }
    kept
}

/// What happened to `f` since `since`, if anything.
fn change_note(f: &Feature, since: OffsetDateTime) -> Option<ChangeNote> {
    if f.meta.updated_at <= since {
        return None;
    }
    let closed = match &f.properties {
        Properties::Measure(m) => {
            matches!(m.status, MeasureStatus::Done | MeasureStatus::Cancelled)
        }
        Properties::RiskEnvironment(r) => r.status == RiskStatus::Closed,
        Properties::PatrolRoute(r) => r.status == RouteStatus::Retired,
        _ => false,
    };
    let change = if f.meta.created_at > since {
        ChangeKind::New
    } else if closed {
        ChangeKind::Closed
    } else {
        ChangeKind::Changed
    };
    let label = match &f.properties {
        Properties::Measure(m) => m.title.to_string(),
        Properties::PatrolRoute(r) => r.name.to_string(),
        Properties::RiskEnvironment(r) => r.kind.as_str().to_owned(),
        Properties::Camera(c) => c.status.as_str().to_owned(),
        _ => String::new(),
    };
    Some(ChangeNote {
        layer: f.layer(),
        id: f.id,
        change,
        label,
        at: f.meta.updated_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn periods_line_up_by_week() {
        let p = periods(date!(2026 - 11 - 30), 4);
        assert_eq!(
            (p.week.from, p.week.to),
            (date!(2026 - 11 - 30), date!(2026 - 12 - 06))
        );
        assert_eq!(p.window.from, date!(2026 - 11 - 09));
        assert_eq!(
            (p.previous.from, p.previous.to),
            (date!(2026 - 10 - 12), date!(2026 - 11 - 08))
        );
        // 52 weeks back: the same weekdays, ISO weeks 46–49 of 2025.
        assert_eq!(p.last_year.from, date!(2025 - 11 - 10));
        assert_eq!(p.last_year.from.weekday(), time::Weekday::Monday);
        assert_eq!((p.window.to - p.window.from).whole_days(), 27);
        assert_eq!((p.last_year.to - p.last_year.from).whole_days(), 27);
    }

    #[test]
    fn densest_keeps_three_per_category() {
        let cell = |category, n: usize| HotCell {
            category,
            cell: format!("c{n}"),
            centre: [0.0, 0.0],
            count: n,
        };
        let kept = densest(
            [1, 5, 3, 4, 2]
                .into_iter()
                .map(|n| cell("theft", n))
                .chain([cell("vandalism", 1)])
                .collect(),
        );
        let theft: Vec<usize> = kept
            .iter()
            .filter(|c| c.category == "theft")
            .map(|c| c.count)
            .collect();
        assert_eq!(theft, vec![5, 4, 3]);
        assert_eq!(kept.len(), 4);
    }
}
