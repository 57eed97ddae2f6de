//! The analyses (`crate::analysis`) run on what the caller may see: roles that read incidents
//! exactly get them from the incidents' own positions; every other role from the published
//! counts per 250 m cell (cells under 3 suppressed, as `read_aggregate` gives them), so no
//! surface, z-score or pattern says more than the counts the role already sees. Results are
//! deterministic for the same data, window and seed; exact inputs are audited.

use std::collections::{BTreeMap, HashMap};

use geo::{Centroid, Geometry, Intersects, Point, Polygon};
use serde::Serialize;
use time::{Date, Duration, OffsetDateTime};

use super::visibility::{AggregateBy, CELL_M, cpu_bound};
use super::{Service, ServiceError};
use crate::analysis::emerging::{Pattern, pattern};
use crate::analysis::getis::{Cell, GiError, gi_star, gi_star_until};
use crate::analysis::kde::{
    BANDWIDTH_RANGE_M, BandwidthRule, WeightedPoint, default_bandwidth, density,
};
use crate::analysis::trend::MannKendall;
use crate::domain::access::{Precision, Viewer};
use crate::domain::audit::{AuditAction, AuditOutcome};
use crate::domain::time::TimeSpan;
use crate::domain::{Layer, ValidationErrors};
use crate::index::{Filters, Spatial};
use crate::store::audit::AuditRow;

/// What an analysis was computed from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum InputKind {
    /// The incidents' own positions.
    Positions,
    /// Published counts per 250 m cell (under 3 suppressed).
    CellCounts,
}

/// The most cells a density surface may have; a finer one is coarsened (and says so).
pub const MAX_SURFACE_CELLS: usize = 60_000;
/// The default Gi* distance band in metres (the cell and its neighbours up to two cells away
/// along the axes).
pub const DEFAULT_BAND_M: f64 = 500.0;
/// The longest a weekly series for emerging hot spots may be.
pub const MAX_WEEKS: u8 = 26;

/// A density surface as the caller may see it.
#[derive(Debug, Clone)]
pub struct DensitySurface {
    /// Cells: lower-left corner (easting, northing), the square in WGS84 and density per km².
    pub cells: Vec<(Polygon<f64>, f64)>,
    /// Bandwidth in metres.
    pub bandwidth_m: f64,
    /// How it was chosen.
    pub bandwidth_rule: BandwidthRule,
    /// Cell size in metres.
    pub cell_m: f64,
    /// Whether a finer cell was asked for and coarsened to stay within [`MAX_SURFACE_CELLS`].
    pub coarsened: bool,
    /// What it was computed from.
    pub input: InputKind,
    /// Incidents (sum of weights) in it.
    pub incidents: f64,
}

/// Gi* of every cell in the study region.
#[derive(Debug, Clone)]
pub struct HotSpots {
    /// Per cell: its square, count, z, p and class.
    pub cells: Vec<HotCell>,
    /// The distance band.
    pub band_m: f64,
    /// Cells holding incidents.
    pub nonempty: usize,
    /// Permutations (0: analytical p-values).
    pub permutations: usize,
    /// Their seed.
    pub seed: u64,
    /// What it was computed from.
    pub input: InputKind,
}

/// One cell of a Gi* answer.
#[derive(Debug, Clone)]
pub struct HotCell {
    /// The cell.
    pub cell: Cell,
    /// Its square.
    pub square: Polygon<f64>,
    /// Incidents in it.
    pub count: f64,
    /// z-score.
    pub z: f64,
    /// p-value (two-sided).
    pub p: f64,
    /// Class −3..=3 after the FDR correction.
    pub class: i8,
}

/// One cell's weekly pattern.
#[derive(Debug, Clone)]
pub struct EmergingCell {
    /// The cell.
    pub cell: Cell,
    /// Its square.
    pub square: Polygon<f64>,
    /// The pattern.
    pub pattern: Pattern,
    /// The weekly classes, oldest first.
    pub classes: Vec<i8>,
    /// The trend of its weekly z-scores.
    pub trend: MannKendall,
}

/// Emerging hot spots over weeks.
#[derive(Debug, Clone)]
pub struct Emerging {
    /// The weeks (Mondays), oldest first.
    pub weeks: Vec<Date>,
    /// Weeks with too few incidents for Gi* (all their classes are 0), with the reason.
    pub refused: Vec<(Date, String)>,
    /// Cells with a pattern (those without are left out).
    pub cells: Vec<EmergingCell>,
    /// How many cells had each pattern.
    pub counts: BTreeMap<Pattern, usize>,
    /// The distance band.
    pub band_m: f64,
    /// What it was computed from.
    pub input: InputKind,
}

fn cell_key(key: &str) -> Option<Cell> {
    let (e, n) = key.strip_prefix('E')?.split_once("_N")?;
    Some((e.parse().ok()?, n.parse().ok()?))
}

impl Service {
    /// The incidents `viewer` may analyse in `spatial` and `filters`, in SWEREF 99 TM: positions
    /// for exact roles (audited), published cell counts at cell centres for the others.
    pub(super) async fn analysis_input(
        &self,
        viewer: &Viewer,
        spatial: &Spatial,
        filters: &Filters,
        what: &str,
    ) -> Result<(Vec<WeightedPoint>, InputKind), ServiceError> {
        let (points, _, input) = self
            .analysis_input_timed(viewer, spatial, filters, what)
            .await?;
        Ok((points, input))
    }

    /// [`Service::analysis_input`], with each position's time (Unix seconds, the start of its
    /// time span) for exact roles; `None` for counts (their roles see weeks, not times).
    pub(super) async fn analysis_input_timed(
        &self,
        viewer: &Viewer,
        spatial: &Spatial,
        filters: &Filters,
        what: &str,
    ) -> Result<(Vec<WeightedPoint>, Option<Vec<i64>>, InputKind), ServiceError> {
        match self.precision(viewer, Layer::Incidents)? {
            Precision::Exact => {
                let mut f = filters.clone();
                f.max_classification = Some(viewer.role.ceiling.code());
                let features = self.index().matching(Layer::Incidents, spatial, &f);
                let (points, times): (Vec<WeightedPoint>, Vec<i64>) = cpu_bound(|| {
                    features
                        .iter()
                        .filter_map(|f| {
                            let p = match &*f.geometry() {
                                Geometry::Point(p) => Some(*p),
                                g => g.centroid(),
                            }?;
                            let (e, n) = self.grid.project(p)?;
                            Some(((e, n, 1.0), f.properties.time_span().start))
                        })
                        .unzip()
                });
                let row =
                    AuditRow::new(self.clock().now(), AuditAction::Aggregate, AuditOutcome::Ok)
                        .layer(Layer::Incidents)
                        .detail(format!(
                            "analysis {what}: {} incidents at exact precision",
                            points.len()
                        ));
                self.audit(viewer, row).await?;
                Ok((points, Some(times), InputKind::Positions))
            }
            _ => {
                let agg = self
                    .read_aggregate(
                        viewer,
                        Layer::Incidents,
                        AggregateBy::Grid,
                        spatial,
                        filters,
                    )
                    .await?;
                #[allow(clippy::cast_precision_loss)]
                let points = agg
                    .buckets
                    .iter()
                    .filter_map(|b| {
                        let (c, r) = cell_key(&b.key)?;
                        Some((
                            (c as f64 + 0.5) * CELL_M,
                            (r as f64 + 0.5) * CELL_M,
                            b.count as f64,
                        ))
                    })
                    .collect();
                Ok((points, None, InputKind::CellCounts))
            }
        }
    }

    /// A kernel density surface of the incidents `viewer` may see in `spatial` and `filters`.
    /// `bandwidth` in metres (default: the 5th nearest neighbour rule), `cell` in metres (default
    /// a third of the bandwidth, in steps of 25 m).
    ///
    /// # Errors
    /// [`ServiceError::Forbidden`] without access to incidents; [`ServiceError::Invalid`] naming
    /// `bandwidth` or `cell` out of range.
    pub async fn density_surface(
        &self,
        viewer: &Viewer,
        spatial: &Spatial,
        filters: &Filters,
        bandwidth: Option<f64>,
        cell: Option<f64>,
    ) -> Result<DensitySurface, ServiceError> {
        if let Some(h) = bandwidth
            && !(BANDWIDTH_RANGE_M.0..=BANDWIDTH_RANGE_M.1).contains(&h)
        {
            return Err(ValidationErrors::one(
                "bandwidth",
                format!(
                    "is {h} m; choose {} to {} m",
                    BANDWIDTH_RANGE_M.0, BANDWIDTH_RANGE_M.1
                ),
            )
            .into());
        }
        if let Some(c) = cell
            && !(10.0..=1_000.0).contains(&c)
        {
            return Err(
                ValidationErrors::one("cell", format!("is {c} m; choose 10 to 1000 m")).into(),
            );
        }
        let (points, input) = self
            .analysis_input(viewer, spatial, filters, "density")
            .await?;
        let incidents: f64 = points.iter().map(|p| p.2).sum();
        let (h, rule) = match bandwidth {
            Some(h) => (h, BandwidthRule::Fixed),
            None => default_bandwidth(&points).unwrap_or((300.0, BandwidthRule::Fixed)),
        };
        let mut c = cell.unwrap_or_else(|| ((h / 3.0 / 25.0).ceil() * 25.0).max(25.0));
        // Estimate the cells the surface reaches; coarsen until it fits.
        let mut coarsened = false;
        let reached = |c: f64| -> usize {
            let mut seen = std::collections::HashSet::new();
            #[allow(clippy::cast_possible_truncation)]
            let reach = (h / c).ceil() as i64;
            for p in &points {
                #[allow(clippy::cast_possible_truncation)]
                seen.insert(((p.0 / c).floor() as i64, (p.1 / c).floor() as i64));
            }
            #[allow(clippy::cast_sign_loss)]
            let per = ((2 * reach + 1) * (2 * reach + 1)) as usize;
            seen.len().saturating_mul(per)
        };
        while reached(c) > MAX_SURFACE_CELLS * 4 && c < 1_000.0 {
            c = (c * 2.0).min(1_000.0);
            coarsened = true;
        }
        let surface = cpu_bound(|| density(&points, h, c));
        let mut cells: Vec<((i64, i64), f64)> = surface.cells.into_iter().collect();
        cells.sort_by_key(|a| a.0);
        if cells.len() > MAX_SURFACE_CELLS {
            // Still too many: keep the densest, and say so.
            cells.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
            cells.truncate(MAX_SURFACE_CELLS);
            coarsened = true;
        }
        #[allow(clippy::cast_precision_loss)]
        let squares = cells
            .into_iter()
            .filter_map(|((col, row), d)| {
                Some((self.grid.square_at(col as f64 * c, row as f64 * c, c)?, d))
            })
            .collect();
        Ok(DensitySurface {
            cells: squares,
            bandwidth_m: h,
            bandwidth_rule: rule,
            cell_m: c,
            coarsened,
            input,
            incidents,
        })
    }

    /// The 250 m cells of the study region: those whose centre lies in one of the areas
    /// `viewer` sees that meet `spatial`.
    pub(super) fn study_cells(
        &self,
        viewer: &Viewer,
        spatial: &Spatial,
    ) -> Result<Vec<Cell>, ServiceError> {
        self.region_cells(viewer, spatial, true)
    }

    /// The 250 m cells whose centre lies in one of the counted areas `viewer` sees that meet
    /// `spatial`; with `clip`, only those whose centre also meets `spatial`.
    pub(super) fn region_cells(
        &self,
        viewer: &Viewer,
        spatial: &Spatial,
        clip: bool,
    ) -> Result<Vec<Cell>, ServiceError> {
        let areas = self.counted_areas_in(viewer, spatial);
        if areas.is_empty() {
            return Err(ServiceError::Unanswerable(ValidationErrors::one(
                "bbox",
                "no area lies here; hot spots are computed over the cells of the areas you see",
            )));
        }
        let mut cells = std::collections::BTreeSet::new();
        for a in &areas {
            let b = crate::domain::geometry::bounds(&a.geometry());
            let (Some(lo), Some(hi)) = (
                self.grid.cell_of(Point::new(b[0], b[1])),
                self.grid.cell_of(Point::new(b[2], b[3])),
            ) else {
                continue;
            };
            // The projected box of a WGS84 box is not axis-aligned: widen by a cell.
            for c in lo.0.min(hi.0) - 2..=lo.0.max(hi.0) + 2 {
                for r in lo.1.min(hi.1) - 2..=lo.1.max(hi.1) + 2 {
                    if let Some(centre) = self.grid.centre((c, r))
                        && a.geometry().intersects(&centre)
                        && (!clip
                            || matches!(spatial, Spatial::All)
                            || crate::index::query::matches_spatial(
                                spatial,
                                &Geometry::Point(centre),
                            ))
                    {
                        cells.insert((c, r));
                    }
                }
            }
        }
        Ok(cells.into_iter().collect())
    }

    /// Counts per 250 m cell of the study region.
    pub(super) fn cell_counts(study: &[Cell], points: &[WeightedPoint]) -> Vec<(Cell, f64)> {
        let mut counts: HashMap<Cell, f64> = study.iter().map(|c| (*c, 0.0)).collect();
        for p in points {
            #[allow(clippy::cast_possible_truncation)]
            let c = ((p.0 / CELL_M).floor() as i64, (p.1 / CELL_M).floor() as i64);
            if let Some(v) = counts.get_mut(&c) {
                *v += p.2;
            }
        }
        study.iter().map(|c| (*c, counts[c])).collect()
    }

    /// Getis-Ord Gi* on the 250 m cells of the areas `viewer` sees in `spatial`, for the
    /// incidents in `filters`.
    ///
    /// # Errors
    /// [`ServiceError::Invalid`] naming `band` or `permutations`, or when too few cells hold
    /// incidents; [`ServiceError::Forbidden`] without access to incidents;
    /// [`ServiceError::Stopped`] when the permutations outlast [`super::Options::work_limit`].
    pub async fn hot_spots(
        &self,
        viewer: &Viewer,
        spatial: &Spatial,
        filters: &Filters,
        band: Option<f64>,
        permutations: usize,
        seed: u64,
    ) -> Result<HotSpots, ServiceError> {
        let band = band.unwrap_or(DEFAULT_BAND_M);
        check_band(band)?;
        check_permutations(permutations)?;
        if permutations > 0 && band > MAX_PERMUTATION_BAND_M {
            return Err(ValidationErrors::one(
                "permutations",
                format!("with permutations the band may be at most {MAX_PERMUTATION_BAND_M} m"),
            )
            .into());
        }
        let study = self.study_cells(viewer, spatial)?;
        let (points, input) = self
            .analysis_input(viewer, spatial, filters, "hot spots")
            .await?;
        let counts = Self::cell_counts(&study, &points);
        let deadline = self.work_deadline();
        let g = cpu_bound(|| gi_star_until(&counts, CELL_M, band, permutations, seed, deadline))
            .map_err(gi_refusal)?;
        let nonempty = counts.iter().filter(|c| c.1 > 0.0).count();
        let cells = counts
            .iter()
            .enumerate()
            .filter_map(|(i, (cell, count))| {
                Some(HotCell {
                    cell: *cell,
                    square: self.grid.square(*cell)?,
                    count: *count,
                    z: g.z[i],
                    p: g.p[i],
                    class: g.class[i],
                })
            })
            .collect();
        Ok(HotSpots {
            cells,
            band_m: band,
            nonempty,
            permutations,
            seed,
            input,
        })
    }

    /// Emerging hot spots over the `weeks` whole ISO weeks before the week of `as_of`: Gi* per
    /// week, the Mann-Kendall trend of each cell's z-scores, and its pattern.
    ///
    /// # Errors
    /// As [`Service::hot_spots`]; `weeks` out of range.
    pub async fn emerging_hot_spots(
        &self,
        viewer: &Viewer,
        spatial: &Spatial,
        filters: &Filters,
        weeks: u8,
        band: Option<f64>,
        as_of: OffsetDateTime,
    ) -> Result<Emerging, ServiceError> {
        let band = band.unwrap_or(DEFAULT_BAND_M);
        check_band(band)?;
        if !(4..=MAX_WEEKS).contains(&weeks) {
            return Err(ValidationErrors::one(
                "weeks",
                format!("is {weeks}; choose 4 to {MAX_WEEKS}"),
            )
            .into());
        }
        // The last whole week before `as_of` (a week still running would look like a drop).
        let today = as_of.date();
        let monday = today
            - Duration::days(i64::from(today.weekday().number_days_from_monday()))
            - Duration::weeks(1);
        let mondays: Vec<Date> = (0..i64::from(weeks))
            .rev()
            .map(|k| monday - Duration::weeks(k))
            .collect();
        let study = self.study_cells(viewer, spatial)?;
        let mut per_week = Vec::new();
        let mut refused = Vec::new();
        for m in &mondays {
            let mut f = filters.clone();
            f.time = Some(week_span(*m));
            let (points, _) = self
                .analysis_input(viewer, spatial, &f, "emerging hot spots")
                .await?;
            let counts = Self::cell_counts(&study, &points);
            match cpu_bound(|| gi_star(&counts, CELL_M, band, 0, 0)) {
                Ok(g) => per_week.push(Some(g)),
                Err(e) => {
                    refused.push((*m, e.to_string()));
                    per_week.push(None);
                }
            }
        }
        let input = if viewer.precision(Layer::Incidents) == Precision::Exact {
            InputKind::Positions
        } else {
            InputKind::CellCounts
        };
        let mut cells = Vec::new();
        let mut counts_by: BTreeMap<Pattern, usize> = BTreeMap::new();
        for (i, cell) in study.iter().enumerate() {
            let classes: Vec<i8> = per_week
                .iter()
                .map(|g| g.as_ref().map_or(0, |g| g.class[i]))
                .collect();
            let z: Vec<f64> = per_week
                .iter()
                .map(|g| g.as_ref().map_or(0.0, |g| g.z[i]))
                .collect();
            let (p, trend) = pattern(&classes, &z);
            *counts_by.entry(p).or_default() += 1;
            if p != Pattern::None
                && let Some(square) = self.grid.square(*cell)
            {
                cells.push(EmergingCell {
                    cell: *cell,
                    square,
                    pattern: p,
                    classes,
                    trend,
                });
            }
        }
        Ok(Emerging {
            weeks: mondays,
            refused,
            cells,
            counts: counts_by,
            band_m: band,
            input,
        })
    }
}

/// The ISO week starting on `monday`, whole.
fn week_span(monday: Date) -> TimeSpan {
    crate::service::agenda::Period {
        from: monday,
        to: monday + Duration::days(6),
    }
    .span()
}

/// The window and categories of an analysis, in words for the audit log.
pub(crate) fn asked(filters: &Filters) -> String {
    let when = filters.time.map_or_else(
        || "any time".to_owned(),
        |t| {
            let f = |s: i64| {
                OffsetDateTime::from_unix_timestamp(s)
                    .map_or_else(|_| "open".to_owned(), |t| t.date().to_string())
            };
            format!("{} to {}", f(t.start), f(t.end))
        },
    );
    let which = filters.categories.as_ref().map_or_else(
        || "every category".to_owned(),
        |c| {
            let names = Layer::Incidents.category_names();
            c.iter()
                .map(|c| names.get(usize::from(*c)).copied().unwrap_or("?"))
                .collect::<Vec<_>>()
                .join(",")
        },
    );
    format!("window {when}, categories {which}")
}

/// With permutations, a band wider than this is refused (each draw is one neighbour per cell).
pub const MAX_PERMUTATION_BAND_M: f64 = 1_000.0;

/// Permutations are 0 (analytical p-values) to 9 999, by cell as by area.
fn check_permutations(permutations: usize) -> Result<(), ServiceError> {
    if permutations > 9_999 {
        return Err(ValidationErrors::one("permutations", "choose 0 (analytical) to 9999").into());
    }
    Ok(())
}

fn check_band(band: f64) -> Result<(), ServiceError> {
    if (CELL_M..=5_000.0).contains(&band) {
        Ok(())
    } else {
        Err(ValidationErrors::one(
            "band",
            format!("is {band} m; choose {CELL_M} to 5000 m (the cell size or more)"),
        )
        .into())
    }
}

fn gi_refusal(e: GiError) -> ServiceError {
    match e {
        GiError::Stopped(stopped) => stopped.into(),
        e => ServiceError::Unanswerable(ValidationErrors::one("", e.to_string())),
    }
}

/// The back-test of the hot spot methods over the weeks before `as_of`.
#[derive(Debug, Clone)]
pub struct WeeklyBackTest {
    /// The scored weeks (Mondays), oldest first; a score's `week` indexes `all_weeks`.
    pub all_weeks: Vec<Date>,
    /// The result.
    pub result: crate::analysis::backtest::BackTest,
    /// What it was computed from.
    pub input: InputKind,
    /// Scores kept from earlier runs for weeks before those computed now (same scope: the
    /// same precision, ceiling and categories), oldest first.
    pub history: Vec<crate::store::backtests::BackTestRow>,
}

impl Service {
    /// Back-tests the hot spot methods on the `weeks` whole ISO weeks before the week of
    /// `as_of` (each scored by the map of the 4 weeks before it), for the incidents in
    /// `filters` (categories) that `viewer` may count.
    ///
    /// # Errors
    /// [`ServiceError::Invalid`] for `weeks` out of range or no study region;
    /// [`ServiceError::Forbidden`] without access to incidents.
    pub async fn back_test(
        &self,
        viewer: &Viewer,
        filters: &Filters,
        weeks: u8,
        as_of: OffsetDateTime,
    ) -> Result<WeeklyBackTest, ServiceError> {
        use crate::analysis::backtest::{LOOKBACK_WEEKS, back_test};
        if !(4..=52).contains(&weeks) {
            return Err(
                ValidationErrors::one("weeks", format!("is {weeks}; choose 4 to 52")).into(),
            );
        }
        let today = as_of.date();
        let this_monday =
            today - Duration::days(i64::from(today.weekday().number_days_from_monday()));
        let span = usize::from(weeks) + LOOKBACK_WEEKS;
        #[allow(clippy::cast_possible_wrap)]
        let mondays: Vec<Date> = (1..=span as i64)
            .rev()
            .map(|k| this_monday - Duration::weeks(k))
            .collect();
        let study = self.study_cells(viewer, &Spatial::All)?;
        let index: HashMap<Cell, usize> = study.iter().enumerate().map(|(i, c)| (*c, i)).collect();
        let mut weekly = vec![vec![0.0; study.len()]; mondays.len()];
        let week_of = |t: i64| -> Option<usize> {
            let monday = mondays.first()?.midnight().assume_utc().unix_timestamp();
            let w = (t - monday).div_euclid(7 * 86_400);
            usize::try_from(w).ok().filter(|w| *w < mondays.len())
        };
        let input = if self.precision(viewer, Layer::Incidents)? == Precision::Exact {
            let mut f = filters.clone();
            f.time = Some(TimeSpan {
                start: mondays[0].midnight().assume_utc().unix_timestamp(),
                end: this_monday.midnight().assume_utc().unix_timestamp() - 1,
            });
            f.max_classification = Some(viewer.role.ceiling.code());
            let features = self.index().matching(Layer::Incidents, &Spatial::All, &f);
            let row = AuditRow::new(self.clock().now(), AuditAction::Aggregate, AuditOutcome::Ok)
                .layer(Layer::Incidents)
                .detail(format!(
                    "analysis back-test: {} incidents at exact precision; {}",
                    features.len(),
                    asked(&f)
                ));
            self.audit(viewer, row).await?;
            for feature in features {
                let Some(w) = week_of(feature.properties.time_span().start) else {
                    continue;
                };
                let p = match &*feature.geometry() {
                    Geometry::Point(p) => Some(*p),
                    g => g.centroid(),
                };
                let Some(cell) = p.and_then(|p| self.grid.cell_of(p)) else {
                    continue;
                };
                if let Some(&i) = index.get(&cell) {
                    weekly[w][i] += 1.0;
                }
            }
            InputKind::Positions
        } else {
            for (w, m) in mondays.iter().enumerate() {
                let mut f = filters.clone();
                f.time = Some(week_span(*m));
                let (points, _) = self
                    .analysis_input(viewer, &Spatial::All, &f, "back-test")
                    .await?;
                for p in points {
                    #[allow(clippy::cast_possible_truncation)]
                    let c = ((p.0 / CELL_M).floor() as i64, (p.1 / CELL_M).floor() as i64);
                    if let Some(&i) = index.get(&c) {
                        weekly[w][i] += p.2;
                    }
                }
            }
            InputKind::CellCounts
        };
        let result = cpu_bound(|| back_test(&study, &weekly, CELL_M));
        // Keep this run's scores, and read back what earlier runs kept for older weeks.
        let scope = format!(
            "{}:{}:{}",
            viewer.precision(Layer::Incidents),
            viewer.role.ceiling,
            filters.categories.as_ref().map_or_else(
                || "all".to_owned(),
                |c| {
                    let mut c = c.clone();
                    c.sort_unstable();
                    c.dedup();
                    c.iter().map(u8::to_string).collect::<Vec<_>>().join(",")
                }
            )
        );
        let now = self.clock().now();
        let label = |i: usize| crate::service::meetings::iso_week(mondays[i]);
        let rows: Vec<crate::store::backtests::BackTestRow> = result
            .methods
            .iter()
            .flat_map(|m| {
                m.weeks
                    .iter()
                    .map(|w| crate::store::backtests::BackTestRow {
                        scope: scope.clone(),
                        week: label(w.week),
                        method: serde_json::to_value(m.method)
                            .ok()
                            .and_then(|v| v.as_str().map(str::to_owned))
                            .unwrap_or_default(),
                        incidents: w.incidents,
                        hit_rate: w.hit_rate,
                        pai: w.pai,
                        pei_star: w.pei_star,
                        stability: w.stability,
                        computed_at: now,
                    })
            })
            .collect();
        self.store().keep_back_test(&rows).await?;
        let first_scored = label(crate::analysis::backtest::LOOKBACK_WEEKS.min(mondays.len() - 1));
        let history = self
            .store()
            .back_test_history(&scope, &first_scored)
            .await?;
        Ok(WeeklyBackTest {
            all_weeks: mondays,
            result,
            input,
            history,
        })
    }
}

/// One area's Gi*.
#[derive(Debug, Clone)]
pub struct AreaHot {
    /// The area.
    pub id: uuid::Uuid,
    /// Its name.
    pub name: String,
    /// Its outline.
    pub outline: Geometry<f64>,
    /// Incidents in it, as the role may count them.
    pub count: f64,
    /// z-score.
    pub z: f64,
    /// p-value.
    pub p: f64,
    /// Class −3..=3 after the FDR correction.
    pub class: i8,
}

/// Gi* over the areas.
#[derive(Debug, Clone)]
pub struct AreaHotSpots {
    /// Per area.
    pub areas: Vec<AreaHot>,
    /// The distance band between the areas' centres.
    pub band_m: f64,
    /// Areas left out: not counted for the role (below exact, an area overlapping a smaller one,
    /// or one whose count is held back).
    pub left_out: usize,
    /// What it was computed from.
    pub input: InputKind,
}

impl Service {
    /// Getis-Ord Gi* over the areas `viewer` sees, with their counts as the role may see them and
    /// a distance band between their centres (default: the smallest that gives every area a
    /// neighbour).
    ///
    /// # Errors
    /// As [`Service::hot_spots`].
    pub async fn area_hot_spots(
        &self,
        viewer: &Viewer,
        filters: &Filters,
        band: Option<f64>,
        permutations: usize,
        seed: u64,
    ) -> Result<AreaHotSpots, ServiceError> {
        check_permutations(permutations)?;
        let exact = self.precision(viewer, Layer::Incidents)? == Precision::Exact;
        let agg = self
            .read_aggregate(
                viewer,
                Layer::Incidents,
                AggregateBy::Area,
                &Spatial::All,
                filters,
            )
            .await?;
        let counts: HashMap<String, f64> = agg
            .buckets
            .iter()
            .map(|b| {
                #[allow(clippy::cast_precision_loss)]
                let n = b.count as f64;
                (b.key.clone(), n)
            })
            .collect();
        let mut units = Vec::new();
        let mut left_out = 0;
        for a in self.counted_areas(viewer) {
            let crate::domain::Properties::Area(p) = &a.properties else {
                continue;
            };
            let count = match counts.get(&a.id.to_string()) {
                Some(n) => *n,
                None if exact => 0.0,
                None => {
                    left_out += 1;
                    continue;
                }
            };
            let Some(centre) = a.geometry().centroid().and_then(|c| self.grid.project(c)) else {
                continue;
            };
            units.push((
                a.id,
                p.name.to_string(),
                a.geometry().into_owned(),
                centre,
                count,
            ));
        }
        let points: Vec<(f64, f64)> = units.iter().map(|u| u.3).collect();
        let band = match band {
            Some(b) => {
                if !(100.0..=50_000.0).contains(&b) {
                    return Err(ValidationErrors::one(
                        "band",
                        "choose 100 to 50000 m between the areas' centres",
                    )
                    .into());
                }
                b
            }
            // The smallest band that gives every area a neighbour.
            None => points
                .iter()
                .enumerate()
                .map(|(i, a)| {
                    points
                        .iter()
                        .enumerate()
                        .filter(|(j, _)| *j != i)
                        .map(|(_, b)| ((a.0 - b.0).powi(2) + (a.1 - b.1).powi(2)).sqrt())
                        .fold(f64::INFINITY, f64::min)
                })
                .fold(0.0_f64, f64::max)
                .ceil(),
        };
        let values: Vec<f64> = units.iter().map(|u| u.4).collect();
        let deadline = self.work_deadline();
        let g = cpu_bound(|| {
            crate::analysis::getis::gi_star_points(
                &points,
                &values,
                band,
                (permutations, seed),
                deadline,
            )
        })
        .map_err(gi_refusal)?;
        Ok(AreaHotSpots {
            areas: units
                .into_iter()
                .enumerate()
                .map(|(i, (id, name, outline, _, count))| AreaHot {
                    id,
                    name,
                    outline,
                    count,
                    z: g.z[i],
                    p: g.p[i],
                    class: g.class[i],
                })
                .collect(),
            band_m: band,
            left_out,
            input: if exact {
                InputKind::Positions
            } else {
                InputKind::CellCounts
            },
        })
    }
}
