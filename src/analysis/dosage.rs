//! Patrol dosage without tracking people: a plan of short stops at the evening's hot cells, in
//! the pattern Koper (1995) found in Minneapolis and the hot spot experiments since have used —
//! stops of 10 to 15 minutes (the longer a stop, the longer the effect lasts after it, up to
//! about 15 minutes; beyond that little is gained), in an unpredictable order, returning to
//! each place at least every two hours.
//!
//! A plan is rounds: each round visits every chosen cell once in a fresh random order, with
//! the walk between cell centres at 4.5 km/h along streets (straight-line distance times a
//! detour factor of 1.3). The cells are taken hottest first, as many as keep every return
//! within two hours; the rest are said to be left out, never dropped silently. The same seed
//! gives the same plan, so a week's report can hold the log against the plans it was given.

use rand::rngs::ChaCha8Rng;
use rand::seq::SliceRandom;
use rand::{RngExt, SeedableRng};

use super::getis::Cell;

/// The shortest stop, in minutes.
pub const MIN_STOP: u32 = 10;
/// The longest stop, in minutes.
pub const MAX_STOP: u32 = 15;
/// The longest time, in minutes, between the starts of two visits to the same cell.
pub const MAX_RETURN: u32 = 120;
/// Walking speed between stops, km/h.
const WALK_KMH: f64 = 4.5;
/// Street distance over straight-line distance in a suburb's grid.
const DETOUR: f64 = 1.3;

/// One stop of a plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Visit {
    /// The cell.
    pub cell: Cell,
    /// Minutes after the session's start.
    pub at: u32,
    /// Minutes there.
    pub minutes: u32,
    /// The round (0 first).
    pub round: u32,
}

/// A plan for one session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The stops in time order.
    pub visits: Vec<Visit>,
    /// The cells planned (hottest first).
    pub cells: Vec<Cell>,
    /// Hot cells left out because a round through them would not return within two hours.
    pub left_out: Vec<Cell>,
}

/// Minutes walking from one cell centre to another (`cell_m` metres a side).
fn walk_minutes(a: Cell, b: Cell, cell_m: f64) -> u32 {
    #[allow(clippy::cast_precision_loss)]
    let d = (((a.0 - b.0) as f64).powi(2) + ((a.1 - b.1) as f64).powi(2)).sqrt() * cell_m;
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let m = (d * DETOUR / (WALK_KMH * 1000.0 / 60.0)).ceil() as u32;
    m
}

/// The rounds through `cells` over `session` minutes.
fn schedule(cells: &[Cell], session: u32, cell_m: f64, seed: u64) -> Vec<Visit> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut visits = Vec::new();
    let mut now = 0u32;
    let mut at: Option<Cell> = None;
    let mut round = 0;
    'rounds: loop {
        let mut order = cells.to_vec();
        order.shuffle(&mut rng);
        for c in order {
            let travel = at.map_or(0, |a| walk_minutes(a, c, cell_m));
            let minutes = rng.random_range(MIN_STOP..=MAX_STOP);
            let start = now + travel;
            if start + minutes > session {
                break 'rounds;
            }
            visits.push(Visit {
                cell: c,
                at: start,
                minutes,
                round,
            });
            now = start + minutes;
            at = Some(c);
        }
        round += 1;
        if cells.is_empty() {
            break;
        }
    }
    visits
}

/// Whether every cell is visited within [`MAX_RETURN`] minutes of the session's start, of
/// its previous visit, and — while there is time for another stop — of the session's end: no
/// cell goes two hours without a visit while the session lasts.
fn returns_in_time(visits: &[Visit], cells: &[Cell], session: u32) -> bool {
    // The last moment a visit could still start and fit.
    let last_start = session.saturating_sub(MIN_STOP);
    cells.iter().all(|c| {
        let mut before = 0u32;
        for v in visits.iter().filter(|v| v.cell == *c) {
            if v.at - before > MAX_RETURN {
                return false;
            }
            before = v.at;
        }
        last_start.saturating_sub(before) <= MAX_RETURN
    })
}

/// A plan over `session` minutes through `hot` cells (hottest first) of `cell_m` metres.
#[must_use]
pub fn plan(hot: &[Cell], session: u32, cell_m: f64, seed: u64) -> Plan {
    // As many of the hottest as still return within two hours: a round's worst case is every
    // stop at its longest and the walk between them, so try from the most down.
    for k in (1..=hot.len()).rev() {
        let cells = &hot[..k];
        let visits = schedule(cells, session, cell_m, seed);
        if returns_in_time(&visits, cells, session) && !visits.is_empty() {
            // Every chosen cell visited at least once, or the plan is too full.
            if cells.iter().all(|c| visits.iter().any(|v| v.cell == *c)) {
                return Plan {
                    visits,
                    cells: cells.to_vec(),
                    left_out: hot[k..].to_vec(),
                };
            }
        }
    }
    Plan {
        visits: Vec::new(),
        cells: Vec::new(),
        left_out: hot.to_vec(),
    }
}

/// Minutes per cell a plan gives.
#[must_use]
pub fn planned_minutes(p: &Plan) -> std::collections::BTreeMap<Cell, u32> {
    let mut out = std::collections::BTreeMap::new();
    for v in &p.visits {
        *out.entry(v.cell).or_insert(0) += v.minutes;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hot(n: i64) -> Vec<Cell> {
        (0..n).map(|i| (i * 2, i % 3)).collect()
    }

    #[test]
    fn stops_are_ten_to_fifteen_minutes_in_order_and_return_within_two_hours() {
        let cells = hot(5);
        let p = plan(&cells, 300, 250.0, 7);
        assert!(!p.visits.is_empty());
        let mut end = 0;
        for v in &p.visits {
            assert!((MIN_STOP..=MAX_STOP).contains(&v.minutes), "{v:?}");
            assert!(v.at >= end, "stops do not overlap: {v:?}");
            end = v.at + v.minutes;
            assert!(end <= 300, "inside the session");
        }
        for c in &p.cells {
            let starts: Vec<u32> = p
                .visits
                .iter()
                .filter(|v| v.cell == *c)
                .map(|v| v.at)
                .collect();
            assert!(starts.len() >= 2, "a five-hour evening returns to {c:?}");
            assert!(
                starts.windows(2).all(|w| w[1] - w[0] <= MAX_RETURN),
                "{starts:?}"
            );
            // Nor two hours after the start or before the end without a visit.
            assert!(starts[0] <= MAX_RETURN, "{starts:?}");
            assert!(
                300 - MIN_STOP - starts[starts.len() - 1] <= MAX_RETURN,
                "{starts:?}"
            );
        }
        // Each round visits every planned cell once.
        let rounds = p.visits.iter().map(|v| v.round).max().unwrap();
        for r in 0..rounds {
            let mut in_round: Vec<Cell> = p
                .visits
                .iter()
                .filter(|v| v.round == r)
                .map(|v| v.cell)
                .collect();
            in_round.sort_unstable();
            let mut all = p.cells.clone();
            all.sort_unstable();
            assert_eq!(in_round, all, "round {r}");
        }
    }

    #[test]
    fn the_order_is_random_but_the_same_for_the_same_seed() {
        let cells = hot(6);
        let a = plan(&cells, 240, 250.0, 1);
        assert_eq!(a, plan(&cells, 240, 250.0, 1));
        let orders: std::collections::BTreeSet<Vec<Cell>> = (0..20)
            .map(|s| {
                plan(&cells, 240, 250.0, s)
                    .visits
                    .iter()
                    .take(6)
                    .map(|v| v.cell)
                    .collect()
            })
            .collect();
        assert!(
            orders.len() > 10,
            "unpredictable: {} orders of 20",
            orders.len()
        );
    }

    #[test]
    fn too_many_cells_for_two_hours_are_left_out_and_said() {
        // Twenty cells a kilometre apart: a round cannot come back within two hours.
        let far: Vec<Cell> = (0..20).map(|i| (i * 4, 0)).collect();
        let p = plan(&far, 300, 250.0, 3);
        assert!(!p.left_out.is_empty());
        assert_eq!(p.cells.len() + p.left_out.len(), 20);
        assert_eq!(p.cells, far[..p.cells.len()].to_vec(), "the hottest kept");
        assert!(returns_in_time(&p.visits, &p.cells, 300));
        // A single cell is always planned, however short the evening.
        let one = plan(&far[..1], 15, 250.0, 3);
        assert_eq!(one.cells.len(), 1);
        // An evening too short for any stop plans none, and says every cell is left out.
        let none = plan(&far[..3], 5, 250.0, 3);
        assert!(none.visits.is_empty());
        assert_eq!(none.left_out.len(), 3);
    }

    #[test]
    fn walking_time_by_hand() {
        // 1 km straight line = 4 cells of 250 m: 1300 m at 75 m/min = 17.3 → 18 minutes.
        assert_eq!(walk_minutes((0, 0), (4, 0), 250.0), 18);
        assert_eq!(walk_minutes((0, 0), (0, 0), 250.0), 0);
    }
}
