//! Is a route where the risk is? Pure functions on a plane in metres (SWEREF 99 TM in the
//! service) that score a walked line against incidents: how many lie in its corridor per km,
//! the corridor's share of incidents over its share of area (the predictive accuracy index,
//! PAI, of Chainey et al. 2008, applied to a corridor instead of a hot spot map), and how many
//! hot cells it passes per hour of walking.
//!
//! **Positions or counts.** Incidents at positions count when within the corridor's radius of
//! the line. Counts per cell (what a role without positions may see) are spread evenly over
//! their cell, so a cell adds its count times the share of its area inside the corridor
//! (areal weighting). Areas inside the corridor are measured on a 5 m lattice: within 1 % of
//! the exact `2 r L + π r²` of a straight line (tested).

use std::collections::BTreeSet;

use geo::{Coord, Distance, Euclidean, Intersects, Line, Rect};
use rstar::primitives::Line as RLine;
use rstar::{PointDistance, RTree};

use super::getis::Cell;
use super::kde::WeightedPoint;

/// The corridor's half-width in metres: what a walker sees and is seen from.
pub const CORRIDOR_M: f64 = 100.0;
/// Walking speed in km/h for "per hour of walking" (a night walk with stops).
pub const WALKING_KMH: f64 = 4.5;
/// The lattice step (metres) areas are measured on.
const STEP_M: f64 = 5.0;

/// A corridor worked out: (cell size, radius) and each cell's share inside it.
type Corridor = ((f64, f64), Vec<(Cell, f64)>);

/// A line in metres, its segments in an R-tree for distance tests, and its corridor's cells
/// once worked out.
#[derive(Debug, Clone)]
pub struct Walked {
    segments: Vec<Line<f64>>,
    tree: RTree<RLine<[f64; 2]>>,
    length_m: f64,
    /// The last corridor asked for: (cell size, radius) and its cells.
    corridor: std::sync::OnceLock<Corridor>,
}

impl Walked {
    /// The line through `vertices` (metres); `None` for fewer than two distinct vertices.
    #[must_use]
    pub fn new(vertices: &[(f64, f64)]) -> Option<Self> {
        Self::from_parts(&[vertices])
    }

    /// The lines through each part's vertices (a route in several pieces), walked one after
    /// the other; `None` when no part has two distinct vertices.
    #[must_use]
    pub fn from_parts(parts: &[&[(f64, f64)]]) -> Option<Self> {
        let segments: Vec<Line<f64>> = parts
            .iter()
            .flat_map(|v| v.windows(2))
            .map(|w| Line::new(Coord::from(w[0]), Coord::from(w[1])))
            .filter(|l| l.start != l.end)
            .collect();
        let length_m = segments
            .iter()
            .map(|l| Euclidean.distance(l.start, l.end))
            .sum();
        let tree = RTree::bulk_load(
            segments
                .iter()
                .map(|l| RLine::new([l.start.x, l.start.y], [l.end.x, l.end.y]))
                .collect(),
        );
        (!segments.is_empty()).then_some(Self {
            segments,
            tree,
            length_m,
            corridor: std::sync::OnceLock::new(),
        })
    }

    /// Its length in metres.
    #[must_use]
    pub const fn length_m(&self) -> f64 {
        self.length_m
    }

    /// Metres from `p` to the line.
    #[must_use]
    pub fn distance(&self, p: (f64, f64)) -> f64 {
        self.tree
            .nearest_neighbor(&[p.0, p.1])
            .map_or(f64::INFINITY, |l| l.distance_2(&[p.0, p.1]).sqrt())
    }

    /// Whether `p` lies within `r` of the line.
    fn within(&self, p: (f64, f64), r: f64) -> bool {
        self.tree
            .locate_within_distance([p.0, p.1], r * r)
            .next()
            .is_some()
    }

    /// The cells of side `cell_m` the line passes through (touching a corner counts).
    #[must_use]
    pub fn cells_passed(&self, cell_m: f64) -> BTreeSet<Cell> {
        let mut out = BTreeSet::new();
        for l in &self.segments {
            let (lo, hi) = cell_range(
                (l.start.x.min(l.end.x), l.start.y.min(l.end.y)),
                (l.start.x.max(l.end.x), l.start.y.max(l.end.y)),
                cell_m,
            );
            for c in lo.0..=hi.0 {
                for r in lo.1..=hi.1 {
                    if l.intersects(&square(c, r, cell_m)) {
                        out.insert((c, r));
                    }
                }
            }
        }
        out
    }

    /// The cells of side `cell_m` within `r` of the line, each with the share of its area
    /// inside the corridor (above 0); worked out once per line for the same cell and radius.
    #[must_use]
    pub fn corridor_cells(&self, cell_m: f64, r: f64) -> Vec<(Cell, f64)> {
        if let Some((key, cells)) = self.corridor.get()
            && *key == (cell_m, r)
        {
            return cells.clone();
        }
        let cells = self.sample_corridor(cell_m, r);
        let _ = self.corridor.set(((cell_m, r), cells.clone()));
        cells
    }

    fn sample_corridor(&self, cell_m: f64, r: f64) -> Vec<(Cell, f64)> {
        let mut near = BTreeSet::new();
        for l in &self.segments {
            let (lo, hi) = cell_range(
                (l.start.x.min(l.end.x) - r, l.start.y.min(l.end.y) - r),
                (l.start.x.max(l.end.x) + r, l.start.y.max(l.end.y) + r),
                cell_m,
            );
            for c in lo.0..=hi.0 {
                for row in lo.1..=hi.1 {
                    near.insert((c, row));
                }
            }
        }
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let n = (cell_m / STEP_M).round().max(1.0) as usize;
        #[allow(clippy::cast_precision_loss)]
        let step = cell_m / n as f64;
        near.into_iter()
            .filter_map(|(c, row)| {
                #[allow(clippy::cast_precision_loss)]
                let (x0, y0) = (c as f64 * cell_m, row as f64 * cell_m);
                // A cell wholly out of reach is skipped before its lattice is sampled.
                let centre = (x0 + cell_m / 2.0, y0 + cell_m / 2.0);
                if self.distance(centre) > r + cell_m * std::f64::consts::FRAC_1_SQRT_2 {
                    return None;
                }
                let mut inside = 0usize;
                for i in 0..n {
                    for j in 0..n {
                        #[allow(clippy::cast_precision_loss)]
                        let p = (x0 + (i as f64 + 0.5) * step, y0 + (j as f64 + 0.5) * step);
                        if self.within(p, r) {
                            inside += 1;
                        }
                    }
                }
                #[allow(clippy::cast_precision_loss)]
                let share = inside as f64 / (n * n) as f64;
                (inside > 0).then_some(((c, row), share))
            })
            .collect()
    }
}

fn cell_range(lo: (f64, f64), hi: (f64, f64), cell_m: f64) -> (Cell, Cell) {
    #[allow(clippy::cast_possible_truncation)]
    let f = |v: f64| (v / cell_m).floor() as i64;
    ((f(lo.0), f(lo.1)), (f(hi.0), f(hi.1)))
}

fn square(c: i64, r: i64, cell_m: f64) -> Rect<f64> {
    #[allow(clippy::cast_precision_loss)]
    let (x, y) = (c as f64 * cell_m, r as f64 * cell_m);
    Rect::new(
        Coord { x, y },
        Coord {
            x: x + cell_m,
            y: y + cell_m,
        },
    )
}

/// What the incidents are given as.
#[derive(Debug, Clone, Copy)]
pub enum Incidents<'a> {
    /// At their positions, with weights.
    Positions(&'a [WeightedPoint]),
    /// Counts per cell of side `cell_m` (the point's x and y are the cell's centre).
    CellCounts(&'a [WeightedPoint]),
}

/// A route's score.
#[derive(Debug, Clone, PartialEq)]
pub struct Score {
    /// The line's length in metres.
    pub length_m: f64,
    /// Incidents (weights) in the corridor.
    pub incidents: f64,
    /// Incidents per km of route.
    pub per_km: f64,
    /// The corridor's area in m² (within the study region when there is one, else all of it).
    pub corridor_m2: f64,
    /// The whole corridor's area in m².
    pub corridor_total_m2: f64,
    /// PAI: the corridor's share of the region's incidents over its share of the region's
    /// area. `None` without a region or without incidents in it.
    pub pai: Option<f64>,
    /// The region's incidents and area (m²), when there is a region.
    pub region: Option<(f64, f64)>,
    /// Hot cells the line passes through.
    pub hot_cells_passed: usize,
    /// Hours a walk takes at [`WALKING_KMH`].
    pub walking_hours: f64,
}

impl Score {
    /// Hot cells passed per hour of walking.
    #[must_use]
    pub fn hot_cells_per_hour(&self) -> f64 {
        if self.walking_hours > 0.0 {
            #[allow(clippy::cast_precision_loss)]
            let n = self.hot_cells_passed as f64;
            n / self.walking_hours
        } else {
            0.0
        }
    }
}

/// Scores `line` against `incidents` with a corridor of `r` metres, on cells of `cell_m`.
/// `region` is the study region's cells (PAI is computed within it; the per-km count is not
/// limited to it); `hot` the hot cells.
#[must_use]
pub fn score(
    line: &Walked,
    incidents: Incidents<'_>,
    r: f64,
    cell_m: f64,
    region: Option<&BTreeSet<Cell>>,
    hot: &BTreeSet<Cell>,
) -> Score {
    let cells = line.corridor_cells(cell_m, r);
    let cell_of = |p: &WeightedPoint| -> Cell {
        #[allow(clippy::cast_possible_truncation)]
        let c = ((p.0 / cell_m).floor() as i64, (p.1 / cell_m).floor() as i64);
        c
    };
    let in_region = |c: &Cell| region.is_none_or(|g| g.contains(c));
    // Incidents in the corridor, and of them those in the region.
    let (mut all, mut regional) = (0.0, 0.0);
    match incidents {
        Incidents::Positions(points) => {
            for p in points {
                if p.2 != 0.0 && line.within((p.0, p.1), r) {
                    all += p.2;
                    if in_region(&cell_of(p)) {
                        regional += p.2;
                    }
                }
            }
        }
        Incidents::CellCounts(points) => {
            let share: std::collections::HashMap<Cell, f64> = cells.iter().copied().collect();
            for p in points {
                let c = cell_of(p);
                if let Some(s) = share.get(&c) {
                    all += p.2 * s;
                    if in_region(&c) {
                        regional += p.2 * s;
                    }
                }
            }
        }
    }
    let cell_area = cell_m * cell_m;
    let corridor_m2: f64 = cells
        .iter()
        .filter(|(c, _)| in_region(c))
        .map(|(_, s)| s * cell_area)
        .sum();
    let corridor_total_m2: f64 = cells.iter().map(|(_, s)| s * cell_area).sum();
    let region_totals = region.map(|g| {
        let n: f64 = match incidents {
            Incidents::Positions(p) | Incidents::CellCounts(p) => p
                .iter()
                .filter(|p| g.contains(&cell_of(p)))
                .map(|p| p.2)
                .sum(),
        };
        #[allow(clippy::cast_precision_loss)]
        let a = g.len() as f64 * cell_area;
        (n, a)
    });
    let pai = region_totals.and_then(|(n, a)| {
        (n > 0.0 && a > 0.0 && corridor_m2 > 0.0).then(|| (regional / n) / (corridor_m2 / a))
    });
    let length_m = line.length_m();
    let hot_cells_passed = line
        .cells_passed(cell_m)
        .iter()
        .filter(|c| hot.contains(c))
        .count();
    Score {
        length_m,
        incidents: all,
        per_km: if length_m > 0.0 {
            all / (length_m / 1000.0)
        } else {
            0.0
        },
        corridor_m2,
        corridor_total_m2,
        pai,
        region: region_totals,
        hot_cells_passed,
        walking_hours: length_m / 1000.0 / WALKING_KMH,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_straight_corridor_has_the_area_of_a_stadium() {
        // 1 km east–west, well inside a block of 250 m cells.
        let line = Walked::new(&[(1_000.0, 1_100.0), (2_000.0, 1_100.0)]).unwrap();
        let area: f64 = line
            .corridor_cells(250.0, 100.0)
            .iter()
            .map(|(_, s)| s * 62_500.0)
            .sum();
        let exact = 2.0 * 100.0 * 1_000.0 + std::f64::consts::PI * 100.0 * 100.0;
        assert!((area / exact - 1.0).abs() < 0.01, "{area} vs {exact}");
        // A bent line: the two arms' stadiums overlap at the bend, no double count.
        let bent = Walked::new(&[(0.0, 0.0), (1_000.0, 0.0), (1_000.0, 1_000.0)]).unwrap();
        let area: f64 = bent
            .corridor_cells(250.0, 100.0)
            .iter()
            .map(|(_, s)| s * 62_500.0)
            .sum();
        // Against a brute-force count on a 1 m lattice.
        let mut brute = 0usize;
        for i in -200..1_200 {
            for j in -200..1_200 {
                let p = (f64::from(i) + 0.5, f64::from(j) + 0.5);
                if bent.distance(p) <= 100.0 {
                    brute += 1;
                }
            }
        }
        #[allow(clippy::cast_precision_loss)]
        let brute = brute as f64;
        assert!((area / brute - 1.0).abs() < 0.01, "{area} vs {brute}");
    }

    #[test]
    fn the_score_by_hand() {
        // A 2 km line along y = 125 (the middle of a row of cells), cells of 250 m.
        let line = Walked::new(&[(0.0, 125.0), (2_000.0, 125.0)]).unwrap();
        // Positions: 3 within 100 m (one weighted 0: outside the route's hours), 2 beyond.
        let points = [
            (100.0, 125.0, 1.0),
            (1_000.0, 200.0, 1.0),
            (1_900.0, 50.0, 1.0),
            (500.0, 125.0, 0.0),
            (1_000.0, 300.0, 1.0),
            (3_000.0, 125.0, 1.0),
        ];
        let hot: BTreeSet<Cell> = [(0, 0), (3, 0), (3, 1), (9, 0)].into_iter().collect();
        let s = score(
            &line,
            Incidents::Positions(&points),
            100.0,
            250.0,
            None,
            &hot,
        );
        assert_eq!(s.incidents, 3.0);
        assert!((s.per_km - 1.5).abs() < 1e-12);
        assert!((s.length_m - 2_000.0).abs() < 1e-9);
        // The line runs through cells (0,0)…(8,0) (x = 2000 is the edge of cell 8 and 7:
        // touching counts); (3,1) is not passed, (9,0) is beyond.
        assert_eq!(s.hot_cells_passed, 2);
        assert!((s.walking_hours - 2.0 / 4.5).abs() < 1e-12);
        assert!((s.hot_cells_per_hour() - 4.5).abs() < 1e-12);
        assert_eq!(s.pai, None);
        // A region of cells (0..8, 0..=1): 16 cells, 1 000 000 m²; the corridor is all in it
        // but its ends' caps beyond x < 0 and x > 2000 (cells −1 and 8 hold them: cell 8 is in).
        let region: BTreeSet<Cell> = (0..8).flat_map(|c| [(c, 0), (c, 1)]).collect();
        let s = score(
            &line,
            Incidents::Positions(&points),
            100.0,
            250.0,
            Some(&region),
            &hot,
        );
        // Region incidents: all but (3000,125) → 4 weighted (one of 5 has weight 0).
        let (n, a) = s.region.unwrap();
        assert_eq!(n, 4.0);
        assert_eq!(a, 1_000_000.0);
        // The corridor in the region: y from 25 to 225 wide (cells of rows 0 and 1), x from 0
        // to 2000: but the region stops at x = 2000 (cells 0..8), so 2000 × 200 less the
        // caps' halves outside: the left cap lies at x < 0 (outside), the right at x > 2000.
        assert!(
            (s.corridor_m2 / 400_000.0 - 1.0).abs() < 0.01,
            "{}",
            s.corridor_m2
        );
        let pai = (3.0 / 4.0) / (s.corridor_m2 / 1_000_000.0);
        assert!((s.pai.unwrap() - pai).abs() < 1e-12);
        assert!((s.pai.unwrap() - 1.875).abs() < 0.02);
    }

    #[test]
    fn counts_are_spread_over_their_cell() {
        // A cell wholly inside a wide corridor adds its whole count; a cell a third inside adds
        // a third.
        let line = Walked::new(&[(0.0, 0.0), (3_000.0, 0.0)]).unwrap();
        let counts = [(1_125.0, 125.0, 6.0), (1_125.0, 375.0, 9.0)];
        let s = score(
            &line,
            Incidents::CellCounts(&counts),
            250.0,
            250.0,
            None,
            &BTreeSet::new(),
        );
        // (4,0) spans y 0..250: inside. (4,1) spans 250..500: none inside r = 250 but its edge.
        assert!((s.incidents - 6.0).abs() < 1e-9, "{}", s.incidents);
        let s = score(
            &line,
            Incidents::CellCounts(&counts),
            333.0,
            250.0,
            None,
            &BTreeSet::new(),
        );
        // y up to 333 of the upper cell's 250..500: a third of it.
        assert!(
            (s.incidents - (6.0 + 9.0 * 83.0 / 250.0)).abs() < 0.2,
            "{}",
            s.incidents
        );
    }
}
