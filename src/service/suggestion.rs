//! A suggested route (issue 15): from a drawn or saved route's start, within its length, the
//! walk over the imported path network whose 100 m corridor holds the most incidents
//! (`analysis::paths`), learnt from twelve weeks and shown against the drawn route on the four
//! whole weeks after them, which the search never saw (held out), so the gain is not the
//! search grading its own homework.
//!
//! As every analysis, from what the caller may count: positions (weighted by the route's days
//! and hours) for exact roles, published cell counts at their cells' centres for the others.

use geo::{LineString, Point};
use time::{Date, Duration};

use super::analysis::InputKind;
use super::routes::RouteAsk;
use super::visibility::{CELL_M, cpu_bound};
use super::{Service, ServiceError};
use crate::analysis::kde::WeightedPoint;
use crate::analysis::paths::suggest;
use crate::analysis::route_score::{CORRIDOR_M, Incidents, Score, Walked, score};
use crate::domain::access::{Precision, Viewer};
use crate::domain::patrol_route::Schedule;
use crate::domain::time::TimeSpan;
use crate::domain::{Layer, ValidationErrors};
use crate::index::{Filters, Spatial};

/// Weeks the search learns from.
pub const TRAINING_WEEKS: i64 = 12;
/// Whole weeks after them the routes are compared on.
pub const HELD_OUT_WEEKS: i64 = 4;
/// The farthest a route may start from the path network, in metres.
pub const MAX_SNAP_M: f64 = 250.0;
/// The longest budget, in metres.
pub const MAX_BUDGET_M: f64 = 15_000.0;

/// The drawn and the suggested route over one period.
#[derive(Debug, Clone)]
pub struct Compared {
    /// First day.
    pub from: Date,
    /// Last day.
    pub to: Date,
    /// The drawn route's score.
    pub drawn: Score,
    /// The suggested route's score.
    pub suggested: Score,
}

/// A suggestion and how it compares.
#[derive(Debug, Clone)]
pub struct Suggested {
    /// The route asked about.
    pub ask: RouteAsk,
    /// The suggested line (longitude, latitude).
    pub line: LineString<f64>,
    /// The length budget in metres.
    pub budget_m: f64,
    /// How far the drawn start lies from the network's nearest node, in metres.
    pub snap_m: f64,
    /// On the weeks the search learnt from.
    pub training: Compared,
    /// On the held-out weeks after them.
    pub held_out: Compared,
    /// What it was computed from.
    pub input: InputKind,
    /// Edges in the path network.
    pub network_edges: usize,
}

fn span(from: Date, to: Date) -> TimeSpan {
    crate::service::agenda::Period { from, to }.span()
}

impl Service {
    /// The suggested route for `ask` with at most `budget_m` metres (default: the route's own
    /// length).
    ///
    /// # Errors
    /// [`ServiceError::Forbidden`] without incidents; [`ServiceError::Unanswerable`] without a
    /// path network or with a start far from it; [`ServiceError::Invalid`] for a budget out of
    /// range.
    pub async fn suggest_route(
        &self,
        viewer: &Viewer,
        ask: RouteAsk,
        budget_m: Option<f64>,
        filters: &Filters,
    ) -> Result<Suggested, ServiceError> {
        if viewer.precision(Layer::Incidents) == Precision::None {
            return Err(ServiceError::Forbidden(format!(
                "your role ({}) has no access to incidents, so no route can be suggested for it",
                viewer.role.label
            )));
        }
        let drawn = self.walked(&ask)?;
        // Without a budget, the route's own length (within what may be asked).
        let budget = budget_m.unwrap_or_else(|| drawn.length_m().clamp(100.0, MAX_BUDGET_M));
        if !(100.0..=MAX_BUDGET_M).contains(&budget) {
            return Err(ValidationErrors::one(
                "budget_m",
                format!("is {budget:.0} m; choose 100 to {MAX_BUDGET_M:.0} m"),
            )
            .into());
        }
        let reference = self.reference().await?;
        let Some(network) = reference.paths.as_ref() else {
            return Err(ServiceError::Unanswerable(ValidationErrors::one(
                "paths",
                "no walkable path network has been imported; run `lagesbild reference import paths FILE`",
            )));
        };
        let start = ask
            .parts
            .first()
            .and_then(|l| l.points().next())
            .and_then(|p| self.grid().project(p))
            .ok_or_else(|| ValidationErrors::one("line", "the route has no start"))?;
        let Some((node, snap_m)) = network.nearest_node(start) else {
            return Err(ServiceError::Unanswerable(ValidationErrors::one(
                "paths",
                "the imported path network is empty",
            )));
        };
        if snap_m > MAX_SNAP_M {
            return Err(ServiceError::Unanswerable(ValidationErrors::one(
                "line",
                format!(
                    "the route starts {snap_m:.0} m from the nearest imported path (at most {MAX_SNAP_M:.0} m)"
                ),
            )));
        }
        // Four whole weeks before this one are held out; the twelve before them are learnt.
        let today = self.clock().now().date();
        let monday = today - Duration::days(i64::from(today.weekday().number_days_from_monday()));
        let held_from = monday - Duration::weeks(HELD_OUT_WEEKS);
        let train_from = held_from - Duration::weeks(TRAINING_WEEKS);
        let read = |from: Date, to: Date| {
            let mut f = filters.clone();
            f.time = Some(span(from, to));
            f
        };
        let (train, train_times, input) = self
            .analysis_input_timed(
                viewer,
                &Spatial::All,
                &read(train_from, held_from - Duration::days(1)),
                "route suggestion (learnt)",
            )
            .await?;
        let (held, held_times, _) = self
            .analysis_input_timed(
                viewer,
                &Spatial::All,
                &read(held_from, monday - Duration::days(1)),
                "route suggestion (held out)",
            )
            .await?;
        let train = weighted(train, train_times.as_deref(), ask.schedule);
        let held = weighted(held, held_times.as_deref(), ask.schedule);
        let found = cpu_bound(|| suggest(network, node, budget, &train, CORRIDOR_M));
        let Some(found) = found else {
            return Err(ServiceError::Unanswerable(ValidationErrors::one(
                "budget_m",
                "no path leaves the start within the budget",
            )));
        };
        let suggested = Walked::new(&found.line).unwrap_or_else(|| drawn.clone());
        let compare = |points: &[WeightedPoint], from: Date, to: Date| {
            let given = match input {
                InputKind::Positions => Incidents::Positions(points),
                InputKind::CellCounts => Incidents::CellCounts(points),
            };
            let none = std::collections::BTreeSet::new();
            Compared {
                from,
                to,
                drawn: score(&drawn, given, CORRIDOR_M, CELL_M, None, &none),
                suggested: score(&suggested, given, CORRIDOR_M, CELL_M, None, &none),
            }
        };
        let training = cpu_bound(|| compare(&train, train_from, held_from - Duration::days(1)));
        let held_out = cpu_bound(|| compare(&held, held_from, monday - Duration::days(1)));
        let line: LineString<f64> = found
            .line
            .iter()
            .filter_map(|(x, y)| self.grid().unproject(*x, *y))
            .map(|p: Point<f64>| p.0)
            .collect();
        Ok(Suggested {
            ask,
            line,
            budget_m: budget,
            snap_m,
            training,
            held_out,
            input,
            network_edges: network.edges(),
        })
    }
}

/// Points weighted by the schedule (when there are times and a schedule), else as they are.
fn weighted(
    points: Vec<WeightedPoint>,
    times: Option<&[i64]>,
    schedule: Option<Schedule>,
) -> Vec<WeightedPoint> {
    match (times, schedule) {
        (Some(times), Some(s)) => points
            .into_iter()
            .zip(times)
            .map(|(p, t)| {
                let inside =
                    time::OffsetDateTime::from_unix_timestamp(*t).is_ok_and(|t| s.covers(t));
                (p.0, p.1, if inside { p.2 } else { 0.0 })
            })
            .collect(),
        _ => points,
    }
}
