//! Near repeats: the Knox test over the incidents a role reads exactly, and near-repeat zones —
//! after a shooting or an explosion, the risk of another nearby is raised for a while (Sturup et
//! al. 2018: within 100 m and 14 days in Sweden), so a zone is drawn for tonight's patrols. A
//! zone is made from what the role sees of the incident: exact roles around its position until
//! its day plus the period; coarse roles around its cell's centre (wider by the cell's reach)
//! until the end of its ISO week plus the period, so the zone tells no more than the coarse view.
//! Counts-only roles see single incidents not at all, and so no zones.

use geo::{Coord, LineString, Point, Polygon};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use super::visibility::{CELL_REACH_M, Shown};
use super::{Service, ServiceError};
use crate::analysis::knox::{Bands, Event, Knox, knox};
use crate::domain::access::{Precision, Viewer};
use crate::domain::audit::{AuditAction, AuditOutcome};
use crate::domain::incident::IncidentCategory;
use crate::domain::{Layer, Properties, ValidationErrors};
use crate::index::{Filters, Page, Spatial};
use crate::store::audit::AuditRow;

/// Which incidents raise a zone, how far and for how long.
#[derive(Debug, Clone, PartialEq)]
pub struct ZoneRule {
    /// The categories that raise a zone.
    pub categories: Vec<IncidentCategory>,
    /// Radius in metres.
    pub radius_m: f64,
    /// Days from the incident.
    pub days: i64,
}

impl Default for ZoneRule {
    /// Shootings and explosions, 100 m, 14 days (the Swedish finding for shootings).
    fn default() -> Self {
        Self {
            categories: vec![IncidentCategory::Shooting, IncidentCategory::Explosion],
            radius_m: 100.0,
            days: 14,
        }
    }
}

impl ZoneRule {
    /// Checks the rule's numbers.
    ///
    /// # Errors
    /// The parameter out of range.
    pub fn check(&self) -> Result<(), ValidationErrors> {
        if !(25.0..=1_000.0).contains(&self.radius_m) {
            return Err(ValidationErrors::one("radius", "choose 25 to 1000 m"));
        }
        if !(1..=60).contains(&self.days) {
            return Err(ValidationErrors::one("days", "choose 1 to 60 days"));
        }
        if self.categories.is_empty() {
            return Err(ValidationErrors::one(
                "category",
                "name at least one category",
            ));
        }
        Ok(())
    }
}

/// A near-repeat zone.
#[derive(Debug, Clone, PartialEq)]
pub struct Zone {
    /// The incident that raised it.
    pub incident: Uuid,
    /// Its category.
    pub category: &'static str,
    /// The circle (WGS84).
    pub outline: Polygon<f64>,
    /// Its radius in metres.
    pub radius_m: f64,
    /// The last instant it applies.
    pub until: OffsetDateTime,
    /// Whether it is drawn around the exact position or a cell's centre.
    pub exact: bool,
}

/// Whether the role's grant hides the incidents' time or category (a zone or a near-repeat
/// test would show them).
fn hides_time_or_category(viewer: &Viewer) -> bool {
    viewer
        .role
        .grant(Layer::Incidents)
        .hide
        .iter()
        .any(|h| h == "occurred_at" || h == "category")
}

impl Service {
    /// A circle of `radius` metres around `centre`, as a 48-gon in WGS84.
    fn circle(&self, centre: Point<f64>, radius: f64) -> Option<Polygon<f64>> {
        let (e, n) = self.grid.project(centre)?;
        let ring: Option<Vec<Coord<f64>>> = (0..=48)
            .map(|k| {
                let a = f64::from(k % 48) / 48.0 * std::f64::consts::TAU;
                self.grid
                    .unproject(e + radius * a.cos(), n + radius * a.sin())
                    .map(|p| Coord { x: p.x(), y: p.y() })
            })
            .collect();
        Some(Polygon::new(LineString(ring?), Vec::new()))
    }

    /// The zone a shown incident raises under `rule`, if it does at `as_of`.
    #[must_use]
    pub fn zone_of(&self, shown: &Shown, rule: &ZoneRule, as_of: OffsetDateTime) -> Option<Zone> {
        let period = Duration::days(rule.days);
        let names: Vec<&str> = rule.categories.iter().map(|c| c.as_str()).collect();
        match shown {
            Shown::Exact { feature, hide } => {
                if hide.iter().any(|h| h == "occurred_at" || h == "category") {
                    return None;
                }
                let Properties::Incident(i) = &feature.properties else {
                    return None;
                };
                let until = i.occurred_at + period;
                if !names.contains(&i.category.as_str()) || i.occurred_at > as_of || until < as_of {
                    return None;
                }
                let p = feature.geom.point()?;
                Some(Zone {
                    incident: feature.id,
                    category: i.category.as_str(),
                    outline: self.circle(p, rule.radius_m)?,
                    radius_m: rule.radius_m,
                    until,
                    exact: true,
                })
            }
            Shown::Coarse(c) => {
                let category = c.category.filter(|c| names.contains(c))?;
                if c.layer != Layer::Incidents {
                    return None;
                }
                let week = OffsetDateTime::from_unix_timestamp(c.week_start?).ok()?;
                let until = week + Duration::weeks(1) + period;
                if week > as_of || until < as_of {
                    return None;
                }
                let radius = rule.radius_m + CELL_REACH_M;
                Some(Zone {
                    incident: c.id,
                    category,
                    outline: self.circle(c.centre, radius)?,
                    radius_m: radius,
                    until,
                    exact: false,
                })
            }
        }
    }

    /// The near-repeat zones in force at `as_of` that `viewer` may see.
    ///
    /// # Errors
    /// [`ServiceError::Forbidden`] for roles that see incidents only as counts (a zone would
    /// show a single incident); store failures auditing the read.
    pub async fn near_repeat_zones(
        &self,
        viewer: &Viewer,
        rule: &ZoneRule,
        as_of: OffsetDateTime,
    ) -> Result<Vec<Zone>, ServiceError> {
        rule.check()?;
        if matches!(
            viewer.precision(Layer::Incidents),
            Precision::None | Precision::Aggregate
        ) {
            return Err(ServiceError::Forbidden(format!(
                "your role ({}) sees incidents only as counts, so it gets no near-repeat zones (a zone shows a single incident)",
                viewer.role.label
            )));
        }
        // Incidents from the period (widened by a week for coarse views) to `as_of`.
        let filters = Filters {
            time: Some(crate::domain::time::TimeSpan {
                start: (as_of - Duration::days(rule.days) - Duration::weeks(1)).unix_timestamp(),
                end: as_of.unix_timestamp(),
            }),
            categories: Some(rule.categories.iter().map(|c| c.code()).collect()),
            ..Filters::default()
        };
        let items = self
            .read_items(
                viewer,
                Layer::Incidents,
                &Spatial::All,
                &filters,
                Page {
                    offset: 0,
                    limit: usize::MAX,
                },
            )
            .await?;
        let mut zones: Vec<Zone> = items
            .features
            .iter()
            .filter_map(|s| self.zone_of(s, rule, as_of))
            .collect();
        zones.sort_by(|a, b| b.until.cmp(&a.until).then(a.incident.cmp(&b.incident)));
        Ok(zones)
    }

    /// The Knox test over the incidents `viewer` reads exactly in `spatial` and `filters`.
    ///
    /// # Errors
    /// [`ServiceError::Forbidden`] below exact (the test needs positions and days);
    /// [`ServiceError::Invalid`] for bands or iterations out of range, or fewer than 20 events;
    /// [`ServiceError::Stopped`] when the permutations outlast [`super::Options::work_limit`].
    pub async fn knox_test(
        &self,
        viewer: &Viewer,
        spatial: &Spatial,
        filters: &Filters,
        bands: Bands,
        iterations: usize,
        seed: u64,
    ) -> Result<Knox, ServiceError> {
        if viewer.precision(Layer::Incidents) != Precision::Exact {
            return Err(ServiceError::Forbidden(format!(
                "your role ({}) does not read incidents exactly; the near-repeat test needs their positions and days",
                viewer.role.label
            )));
        }
        if hides_time_or_category(viewer) {
            return Err(ServiceError::Forbidden(format!(
                "your role ({}) does not see the incidents' times or categories, which the near-repeat test needs",
                viewer.role.label
            )));
        }
        let checks = [
            (
                (10.0..=1_000.0).contains(&bands.space_m),
                "space",
                "choose 10 to 1000 m",
            ),
            (
                (1..=10).contains(&bands.space_bands),
                "space_bands",
                "choose 1 to 10",
            ),
            (
                (1.0..=60.0).contains(&bands.time_days),
                "time",
                "choose 1 to 60 days",
            ),
            (
                (1..=10).contains(&bands.time_bands),
                "time_bands",
                "choose 1 to 10",
            ),
            (
                (0..=9_999).contains(&iterations),
                "iterations",
                "choose 0 to 9999",
            ),
        ];
        for (ok, name, why) in checks {
            if !ok {
                return Err(ValidationErrors::one(name, why).into());
            }
        }
        let mut f = filters.clone();
        f.max_classification = Some(viewer.role.ceiling.code());
        let features = self.index().matching(Layer::Incidents, spatial, &f);
        let events: Vec<Event> = features
            .iter()
            .filter_map(|f| {
                let Properties::Incident(i) = &f.properties else {
                    return None;
                };
                let p = f.geom.point()?;
                let (x, y) = self.grid.project(p)?;
                #[allow(clippy::cast_precision_loss)]
                let t = i.occurred_at.unix_timestamp() as f64 / 86_400.0;
                Some(Event { x, y, t })
            })
            .collect();
        // Audited before anything is said about the incidents, refusals included.
        let row = AuditRow::new(self.clock().now(), AuditAction::Aggregate, AuditOutcome::Ok)
            .layer(Layer::Incidents)
            .bbox(super::visibility::spatial_bbox(spatial))
            .detail(format!(
                "analysis near repeat (Knox): {} incidents at exact precision; {}",
                events.len(),
                super::analysis::asked(filters)
            ));
        self.audit(viewer, row).await?;
        if events.len() < 20 {
            return Err(ServiceError::Unanswerable(ValidationErrors::one(
                "",
                "fewer than 20 incidents match; the near-repeat test needs at least 20, so widen the window or the categories",
            )));
        }
        // Bounded work: the pairs within reach are counted in every permutation.
        #[allow(clippy::cast_precision_loss)]
        let reach = bands.space_m * bands.space_bands as f64;
        if reach > 2_000.0 {
            return Err(ValidationErrors::one(
                "space_bands",
                "the space bands reach beyond 2000 m; near repeats are a matter of a few hundred metres",
            )
            .into());
        }
        if events.len() > 50_000 {
            return Err(ServiceError::Unanswerable(ValidationErrors::one(
                "datetime",
                "more than 50 000 incidents match; narrow the window, the area or the categories",
            )));
        }
        let deadline = self.work_deadline();
        Ok(super::visibility::cpu_bound(|| {
            knox(&events, bands, iterations, seed, deadline)
        })?)
    }
}
