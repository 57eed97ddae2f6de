//! Kernel density on a metric grid: a quartic (biweight) kernel with a bandwidth in metres, the
//! surface crime analysts use (CrimeStat, ArcGIS's Kernel Density), so the same incidents give
//! the same surface at every zoom, on screen and on paper. Positions are planar (SWEREF 99 TM
//! metres); each carries a weight (1 for a position, a count for a cell centre).
//!
//! The density at `x` is `Σ w_i K(|x − p_i|)` with `K(d) = 3 / (π h²) · (1 − d²/h²)²` for
//! `d < h`, else 0: it integrates to 1 per unit of weight, so the surface is in incidents per
//! square metre (reported per km²). Checked against a direct sum over every (cell, point) pair.

use std::collections::HashMap;

/// A weighted planar position (easting, northing in metres; weight).
pub type WeightedPoint = (f64, f64, f64);

/// How the bandwidth was chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BandwidthRule {
    /// Given by the caller.
    Fixed,
    /// The mean distance to the k-th nearest neighbour (k = 5, on up to 2 000 points).
    NearestNeighbour,
    /// Silverman's rule of thumb on the standard distance (too few points for the other).
    Silverman,
}

/// The smallest and largest bandwidths allowed, in metres.
pub const BANDWIDTH_RANGE_M: (f64, f64) = (50.0, 5_000.0);
/// The neighbour whose mean distance is the default bandwidth.
pub const KNN_K: usize = 5;
/// Points used to choose a bandwidth (a deterministic subsample beyond).
const KNN_SAMPLE: usize = 2_000;

/// The quartic kernel at squared distance `d2` for bandwidth `h` (0 at and beyond `h`).
#[must_use]
pub fn quartic(d2: f64, h: f64) -> f64 {
    let h2 = h * h;
    if d2 >= h2 {
        0.0
    } else {
        let u = 1.0 - d2 / h2;
        3.0 / (std::f64::consts::PI * h2) * u * u
    }
}

/// The default bandwidth for `points`: the mean distance to the k-th nearest neighbour when there
/// are more than k points, else Silverman's rule on the standard distance; clamped to
/// [`BANDWIDTH_RANGE_M`]. `None` without points.
#[must_use]
pub fn default_bandwidth(points: &[WeightedPoint]) -> Option<(f64, BandwidthRule)> {
    if points.is_empty() {
        return None;
    }
    let clamp = |h: f64| h.clamp(BANDWIDTH_RANGE_M.0, BANDWIDTH_RANGE_M.1);
    if points.len() > KNN_K {
        // A deterministic subsample: every s-th point.
        let step = points.len().div_ceil(KNN_SAMPLE).max(1);
        let sample: Vec<&WeightedPoint> = points.iter().step_by(step).collect();
        let tree = rstar::RTree::bulk_load(points.iter().map(|p| [p.0, p.1]).collect::<Vec<_>>());
        let mut sum = 0.0;
        for p in &sample {
            // The first neighbour is the point itself (or another at the same place).
            let d = tree
                .nearest_neighbor_iter_with_distance_2(&[p.0, p.1])
                .nth(KNN_K)
                .map_or(0.0, |(_, d2)| d2.sqrt());
            sum += d;
        }
        #[allow(clippy::cast_precision_loss)]
        let mean = sum / sample.len() as f64;
        if mean > 0.0 {
            return Some((clamp(mean), BandwidthRule::NearestNeighbour));
        }
    }
    Some((clamp(silverman(points)), BandwidthRule::Silverman))
}

/// Silverman's rule on the standard distance: `h = 0.9 · SD · n^(−1/5)` (weights count as
/// points).
#[must_use]
pub fn silverman(points: &[WeightedPoint]) -> f64 {
    let n: f64 = points.iter().map(|p| p.2).sum();
    if n <= 0.0 {
        return BANDWIDTH_RANGE_M.1;
    }
    let (mx, my) = points
        .iter()
        .fold((0.0, 0.0), |a, p| (a.0 + p.0 * p.2, a.1 + p.1 * p.2));
    let (mx, my) = (mx / n, my / n);
    let var = points
        .iter()
        .map(|p| p.2 * ((p.0 - mx).powi(2) + (p.1 - my).powi(2)))
        .sum::<f64>()
        / n;
    let sd = (var / 2.0).sqrt();
    0.9 * sd * n.powf(-0.2)
}

/// A density surface on a grid of `cell` metres whose cells are `(col, row)` with the cell's
/// lower-left corner at `(col · cell, row · cell)`.
#[derive(Debug, Clone)]
pub struct Surface {
    /// Cell size in metres.
    pub cell: f64,
    /// Bandwidth in metres.
    pub bandwidth: f64,
    /// Density at each non-zero cell's centre, incidents per km².
    pub cells: HashMap<(i64, i64), f64>,
}

/// The quartic density of `points` with bandwidth `h` at the centre of every `cell`-metre grid
/// cell it reaches (cells it does not reach are 0 and left out). O(n · (h / cell)²).
#[must_use]
pub fn density(points: &[WeightedPoint], h: f64, cell: f64) -> Surface {
    let mut cells: HashMap<(i64, i64), f64> = HashMap::new();
    let per_km2 = 1_000_000.0;
    for &(x, y, w) in points {
        #[allow(clippy::cast_possible_truncation)]
        let (c0, c1, r0, r1) = (
            ((x - h) / cell).floor() as i64,
            ((x + h) / cell).floor() as i64,
            ((y - h) / cell).floor() as i64,
            ((y + h) / cell).floor() as i64,
        );
        for c in c0..=c1 {
            #[allow(clippy::cast_precision_loss)]
            let cx = (c as f64 + 0.5) * cell;
            let dx2 = (cx - x) * (cx - x);
            if dx2 >= h * h {
                continue;
            }
            for r in r0..=r1 {
                #[allow(clippy::cast_precision_loss)]
                let cy = (r as f64 + 0.5) * cell;
                let k = quartic(dx2 + (cy - y) * (cy - y), h);
                if k > 0.0 {
                    *cells.entry((c, r)).or_default() += w * k * per_km2;
                }
            }
        }
    }
    Surface {
        cell,
        bandwidth: h,
        cells,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{RngExt, SeedableRng};

    fn points(n: usize, seed: u64) -> Vec<WeightedPoint> {
        let mut rng = rand::rngs::ChaCha8Rng::seed_from_u64(seed);
        (0..n)
            .map(|_| {
                (
                    650_000.0 + rng.random_range(0.0..3_000.0),
                    6_570_000.0 + rng.random_range(0.0..3_000.0),
                    if rng.random_bool(0.2) { 3.0 } else { 1.0 },
                )
            })
            .collect()
    }

    #[test]
    fn the_kernel_integrates_to_one() {
        // A fine numerical integral over the disc.
        let h = 200.0;
        let step = 1.0;
        let mut sum = 0.0;
        let mut x = -h;
        while x <= h {
            let mut y = -h;
            while y <= h {
                sum += quartic(x * x + y * y, h) * step * step;
                y += step;
            }
            x += step;
        }
        assert!((sum - 1.0).abs() < 1e-3, "{sum}");
    }

    #[test]
    fn the_grid_equals_a_direct_sum_at_every_cell() {
        let pts = points(400, 1);
        let (h, cell) = (300.0, 50.0);
        let s = density(&pts, h, cell);
        // Every cell of the area, reached or not.
        for c in 12_990..13_070 {
            for r in 131_390..131_470 {
                let (cx, cy) = ((c as f64 + 0.5) * cell, (r as f64 + 0.5) * cell);
                let direct: f64 = pts
                    .iter()
                    .map(|p| p.2 * quartic((p.0 - cx).powi(2) + (p.1 - cy).powi(2), h))
                    .sum::<f64>()
                    * 1e6;
                let got = s.cells.get(&(c, r)).copied().unwrap_or(0.0);
                assert!(
                    (got - direct).abs() <= 1e-9 * direct.max(1.0),
                    "{c},{r}: {got} vs {direct}"
                );
            }
        }
    }

    #[test]
    fn mass_is_kept_on_a_fine_grid() {
        let pts = points(200, 2);
        let s = density(&pts, 250.0, 10.0);
        let mass: f64 = s.cells.values().sum::<f64>() / 1e6 * 100.0;
        let weight: f64 = pts.iter().map(|p| p.2).sum();
        assert!((mass - weight).abs() / weight < 0.01, "{mass} vs {weight}");
    }

    #[test]
    fn the_default_bandwidth_follows_the_points() {
        let sparse = points(300, 3);
        let (h, rule) = default_bandwidth(&sparse).unwrap();
        assert_eq!(rule, BandwidthRule::NearestNeighbour);
        // Brute force: the mean distance to the 5th neighbour (the point itself is the 0th).
        let mut sum = 0.0;
        for p in &sparse {
            let mut d: Vec<f64> = sparse
                .iter()
                .map(|q| ((p.0 - q.0).powi(2) + (p.1 - q.1).powi(2)).sqrt())
                .collect();
            d.sort_by(f64::total_cmp);
            sum += d[KNN_K];
        }
        let expected = (sum / sparse.len() as f64).clamp(BANDWIDTH_RANGE_M.0, BANDWIDTH_RANGE_M.1);
        assert!((h - expected).abs() < 1e-6, "{h} vs {expected}");
        let few = &sparse[..3];
        assert_eq!(default_bandwidth(few).unwrap().1, BandwidthRule::Silverman);
        assert!(default_bandwidth(&[]).is_none());
    }
}
