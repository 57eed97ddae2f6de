//! The weekly back-test: would last weeks' hot spot map have caught this week's incidents? Each
//! method makes a map from the weeks before a week (a score per 250 m cell); its top cells
//! covering 3 % of the study area are "the hot spots"; the week's incidents then score it:
//!
//! - **hit rate**: the share of the week's incidents in those cells;
//! - **PAI** (Predictive Accuracy Index, Chainey, Tompson & Uhlig 2008): hit rate ÷ area share;
//! - **PEI\*** (the NIJ Real-Time Crime Forecasting Challenge's efficiency): hits ÷ the most
//!   hits any choice of as many cells could have had that week;
//! - **stability**: the overlap (Jaccard) of this week's hot cells with last week's.
//!
//! The naive map — the last 4 weeks' counts — is the baseline every method must beat (in a
//! Swedish municipality simple counts predicted about as well as KDE: Camacho Doyle, Gerell &
//! Andershed 2021). Ties are broken by cell, so results are deterministic.

use std::collections::{HashMap, HashSet};

use super::getis::{Cell, gi_star};
use super::kde::quartic;

/// The share of the study area a hot spot map may mark.
pub const AREA_SHARE: f64 = 0.03;
/// Weeks a map is made from.
pub const LOOKBACK_WEEKS: usize = 4;
/// The kernel bandwidth of the KDE method, metres.
pub const KDE_BANDWIDTH_M: f64 = 400.0;
/// The Gi* method's distance band, metres.
pub const GI_BAND_M: f64 = 500.0;

/// A method that makes a map.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// The last 4 weeks' counts per cell.
    Naive,
    /// Kernel density (quartic, 400 m) of the last 4 weeks at the cells' centres.
    Kde,
    /// Getis-Ord Gi* z-scores of the last 4 weeks (500 m band).
    GiStar,
}

/// Every method, the baseline first.
pub const METHODS: [Method; 3] = [Method::Naive, Method::Kde, Method::GiStar];

/// One method's score in one week.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct WeekScore {
    /// The week's index in the input.
    pub week: usize,
    /// Incidents that week.
    pub incidents: f64,
    /// Share of them in the hot cells.
    pub hit_rate: f64,
    /// hit rate ÷ area share.
    pub pai: f64,
    /// hits ÷ the best possible hits in as many cells.
    pub pei_star: f64,
    /// Overlap with the previous week's hot cells (`None` in the first week scored).
    pub stability: Option<f64>,
}

/// A method's scores over the weeks, and their means.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct MethodResult {
    /// The method.
    pub method: Method,
    /// Week by week (weeks it could make no map, or with no incidents, are left out).
    pub weeks: Vec<WeekScore>,
    /// Mean hit rate (over the weeks every method scored).
    pub hit_rate: f64,
    /// Mean PAI.
    pub pai: f64,
    /// Mean PEI*.
    pub pei_star: f64,
    /// Mean stability.
    pub stability: f64,
    /// Mean PAI below the naive map's.
    pub loses_to_naive: bool,
}

/// The back-test of every method.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct BackTest {
    /// Per method.
    pub methods: Vec<MethodResult>,
    /// The method with the highest mean PAI (the naive map on a tie).
    pub best: Method,
    /// Hot cells per map (3 % of the study cells).
    pub hot_cells: usize,
    /// Study cells.
    pub cells: usize,
}

/// A method's score per cell for the map made from `history` (the lookback weeks' counts
/// summed per cell); `None` when the method cannot make a map from it.
fn scores(method: Method, cells: &[Cell], history: &[f64], cell_m: f64) -> Option<Vec<f64>> {
    match method {
        Method::Naive => Some(history.to_vec()),
        Method::Kde => {
            let index: HashMap<Cell, usize> =
                cells.iter().enumerate().map(|(i, c)| (*c, i)).collect();
            #[allow(clippy::cast_possible_truncation)]
            let reach = (KDE_BANDWIDTH_M / cell_m).ceil() as i64;
            let mut out = vec![0.0; cells.len()];
            for (j, c) in cells.iter().enumerate() {
                if history[j] == 0.0 {
                    continue;
                }
                for dc in -reach..=reach {
                    for dr in -reach..=reach {
                        if let Some(&i) = index.get(&(c.0 + dc, c.1 + dr)) {
                            #[allow(clippy::cast_precision_loss)]
                            let d2 = ((dc * dc + dr * dr) as f64) * cell_m * cell_m;
                            out[i] += history[j] * quartic(d2, KDE_BANDWIDTH_M);
                        }
                    }
                }
            }
            Some(out)
        }
        Method::GiStar => {
            let input: Vec<(Cell, f64)> =
                cells.iter().copied().zip(history.iter().copied()).collect();
            gi_star(&input, cell_m, GI_BAND_M, 0, 0).ok().map(|g| g.z)
        }
    }
}

/// The `k` cells with the highest scores (ties by cell).
fn top(cells: &[Cell], score: &[f64], k: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..cells.len()).collect();
    order.sort_by(|&a, &b| score[b].total_cmp(&score[a]).then(cells[a].cmp(&cells[b])));
    order.truncate(k);
    order
}

/// Back-tests every method on `weekly` counts (weeks × cells, oldest first) over `cells` of
/// `cell_m` metres: each week from the 5th on is scored against the map of the 4 before it.
#[must_use]
pub fn back_test(cells: &[Cell], weekly: &[Vec<f64>], cell_m: f64) -> BackTest {
    let n = cells.len();
    #[allow(
        clippy::cast_precision_loss,
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss
    )]
    let k = ((n as f64 * AREA_SHARE).round() as usize).clamp(1, n.max(1));
    #[allow(clippy::cast_precision_loss)]
    let area_share = k as f64 / n.max(1) as f64;
    let mut methods = Vec::new();
    for method in METHODS {
        let mut weeks = Vec::new();
        let mut previous: Option<HashSet<usize>> = None;
        for w in LOOKBACK_WEEKS..weekly.len() {
            let actual = &weekly[w];
            let total: f64 = actual.iter().sum();
            let mut history = vec![0.0; n];
            for past in &weekly[w - LOOKBACK_WEEKS..w] {
                for (h, v) in history.iter_mut().zip(past) {
                    *h += v;
                }
            }
            let Some(score) = scores(method, cells, &history, cell_m) else {
                previous = None;
                continue;
            };
            let chosen = top(cells, &score, k);
            let set: HashSet<usize> = chosen.iter().copied().collect();
            let stability = previous.as_ref().map(|p| {
                #[allow(clippy::cast_precision_loss)]
                let j = set.intersection(p).count() as f64 / set.union(p).count().max(1) as f64;
                j
            });
            previous = Some(set);
            if total <= 0.0 {
                continue;
            }
            let hits: f64 = chosen.iter().map(|&i| actual[i]).sum();
            let best: f64 = top(cells, actual, k).iter().map(|&i| actual[i]).sum();
            let hit_rate = hits / total;
            weeks.push(WeekScore {
                week: w,
                incidents: total,
                hit_rate,
                pai: hit_rate / area_share,
                pei_star: if best > 0.0 { hits / best } else { 0.0 },
                stability,
            });
        }
        methods.push(MethodResult {
            method,
            hit_rate: 0.0,
            pai: 0.0,
            pei_star: 0.0,
            stability: 0.0,
            weeks,
            loses_to_naive: false,
        });
    }
    // Means over the weeks every method scored, so no method is judged on easier weeks.
    let common: HashSet<usize> = methods
        .iter()
        .map(|m| m.weeks.iter().map(|w| w.week).collect::<HashSet<usize>>())
        .reduce(|a, b| a.intersection(&b).copied().collect())
        .unwrap_or_default();
    for m in &mut methods {
        let kept: Vec<&WeekScore> = m
            .weeks
            .iter()
            .filter(|w| common.contains(&w.week))
            .collect();
        #[allow(clippy::cast_precision_loss)]
        let mean = |f: &dyn Fn(&WeekScore) -> Option<f64>| -> f64 {
            let v: Vec<f64> = kept.iter().filter_map(|w| f(w)).collect();
            if v.is_empty() {
                0.0
            } else {
                v.iter().sum::<f64>() / v.len() as f64
            }
        };
        m.hit_rate = mean(&|w| Some(w.hit_rate));
        m.pai = mean(&|w| Some(w.pai));
        m.pei_star = mean(&|w| Some(w.pei_star));
        m.stability = mean(&|w| w.stability);
    }
    let naive = methods[0].pai;
    for m in &mut methods[1..] {
        m.loses_to_naive = m.pai < naive;
    }
    let best = methods
        .iter()
        .fold(&methods[0], |b, m| if m.pai > b.pai { m } else { b })
        .method;
    BackTest {
        methods,
        best,
        hot_cells: k,
        cells: n,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid(n: i64) -> Vec<Cell> {
        (0..n).flat_map(|c| (0..n).map(move |r| (c, r))).collect()
    }

    #[test]
    fn a_fixed_hot_spot_is_caught_by_every_method_with_pai_by_hand() {
        let cells = grid(10); // 100 cells: 3 hot cells.
        let hot = [(2, 2), (2, 3), (3, 2)];
        let weekly: Vec<Vec<f64>> = (0..10)
            .map(|w| {
                cells
                    .iter()
                    .map(|c| {
                        if hot.contains(c) {
                            5.0
                        } else if (c.0 * 7 + c.1 + w) % 9 == 0 {
                            1.0
                        } else {
                            0.0
                        }
                    })
                    .collect()
            })
            .collect();
        let b = back_test(&cells, &weekly, 250.0);
        assert_eq!(b.hot_cells, 3);
        let naive = &b.methods[0];
        assert_eq!(naive.weeks.len(), 6);
        // Week 4 by hand: the naive map's top 3 are the hot cells (20 each); they hold 15 of the
        // week's incidents.
        let w4 = naive.weeks[0];
        let total: f64 = weekly[4].iter().sum();
        assert!((w4.hit_rate - 15.0 / total).abs() < 1e-12);
        assert!((w4.pai - (15.0 / total) / 0.03).abs() < 1e-9);
        assert!(
            (w4.pei_star - 1.0).abs() < 1e-12,
            "the best possible choice"
        );
        assert_eq!(naive.weeks[1].stability, Some(1.0));
        assert!(!b.methods[1].loses_to_naive || b.methods[1].pai < naive.pai);
    }

    #[test]
    fn a_method_that_chases_last_week_loses_when_the_hot_spot_moves_every_week() {
        // A hot spot that jumps: no map from the past catches it, and PEI* says so.
        let cells = grid(10);
        let weekly: Vec<Vec<f64>> = (0..8i64)
            .map(|w| {
                cells
                    .iter()
                    .map(|c| if *c == (w, 9 - w) { 6.0 } else { 0.0 })
                    .collect()
            })
            .collect();
        let b = back_test(&cells, &weekly, 250.0);
        for m in &b.methods {
            for w in &m.weeks {
                assert!(w.hit_rate <= 1.0 && w.pei_star <= 1.0);
            }
        }
        assert_eq!(b.methods[0].hit_rate, 0.0);
    }
}
