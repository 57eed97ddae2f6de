//! Getis-Ord Gi* hot spots on a square grid: for every cell, is the sum of counts within a
//! distance band (the cell itself included) larger or smaller than chance would give? z-scores
//! with binary weights, as ArcGIS's Hot Spot Analysis and PySAL's `esda.G_Local(star=True,
//! transform="B")` compute them; two-sided normal p-values; significance corrected for multiple
//! testing with the false discovery rate (Benjamini–Hochberg, as `esda.fdr`); classes ±1/2/3 for
//! 90/95/99 %. Optional conditional permutation inference with a recorded seed. Checked against
//! esda on fixed fixtures (`scripts/reference/hotspots.py` → `tests/fixtures/hotspots_reference.json`).

use std::collections::HashMap;

use rand::{RngExt, SeedableRng};

use super::deadline::{Deadline, Stopped};

/// A grid cell: column and row (easting and northing over the cell size).
pub type Cell = (i64, i64);

/// Fewer non-empty cells than this and the analysis refuses (too little to say anything).
pub const MIN_NONEMPTY_CELLS: usize = 30;

/// The confidence levels of the classes 1, 2 and 3.
pub const LEVELS: [f64; 3] = [0.10, 0.05, 0.01];

/// The standard normal upper tail, `1 − Φ(z)`.
#[must_use]
pub fn normal_sf(z: f64) -> f64 {
    0.5 * libm::erfc(z / std::f64::consts::SQRT_2)
}

/// Gi* of every cell: its z-score and two-sided p-value.
#[derive(Debug, Clone, PartialEq)]
pub struct GiStar {
    /// The cells, in input order.
    pub cells: Vec<Cell>,
    /// z-scores (0 where the values do not vary).
    pub z: Vec<f64>,
    /// Two-sided p-values: analytical, or from permutations when asked.
    pub p: Vec<f64>,
    /// Classes −3..=3 after the false discovery rate correction.
    pub class: Vec<i8>,
    /// Neighbours within the band, the cell itself included.
    pub neighbours: Vec<usize>,
}

/// Why the analysis refuses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GiError {
    /// Too few non-empty cells.
    #[error(
        "only {0} cells hold incidents; hot spot analysis needs at least {MIN_NONEMPTY_CELLS}, so widen the window, the area or the categories"
    )]
    TooFew(usize),
    /// The band reaches no neighbour.
    #[error("a distance band of {0} m reaches no neighbouring cell; use at least the cell size")]
    BandTooSmall(u32),
    /// The permutations did not finish before the deadline.
    #[error(transparent)]
    Stopped(#[from] Stopped),
}

/// The grid offsets within `band` metres of a cell of `cell` metres (centre to centre), the
/// cell itself included.
fn offsets(cell: f64, band: f64) -> Vec<(i64, i64)> {
    #[allow(clippy::cast_possible_truncation)]
    let reach = (band / cell).floor() as i64;
    let mut out = Vec::new();
    for dc in -reach..=reach {
        for dr in -reach..=reach {
            #[allow(clippy::cast_precision_loss)]
            let d2 = ((dc * dc + dr * dr) as f64) * cell * cell;
            if d2 <= band * band + 1e-9 {
                out.push((dc, dr));
            }
        }
    }
    out
}

/// The false discovery rate cut-off for `alpha`, as `esda.fdr`: the largest `k·alpha/n` with the
/// k-th smallest p-value below it; `alpha/n` (Bonferroni) when there is none. A test is
/// significant when its p-value is below the cut-off.
#[must_use]
pub fn fdr_cutoff(p: &[f64], alpha: f64) -> f64 {
    let n = p.len();
    if n == 0 {
        return alpha;
    }
    let mut sorted = p.to_vec();
    sorted.sort_by(f64::total_cmp);
    #[allow(clippy::cast_precision_loss)]
    let nf = n as f64;
    for k in (1..=n).rev() {
        #[allow(clippy::cast_precision_loss)]
        let line = k as f64 * alpha / nf;
        if sorted[k - 1] < line {
            return line;
        }
    }
    alpha / nf
}

/// Classes −3..=3 from z and p with the false discovery rate controlled at each level.
#[must_use]
pub fn classes(z: &[f64], p: &[f64]) -> Vec<i8> {
    let cutoffs: Vec<f64> = LEVELS.iter().map(|a| fdr_cutoff(p, *a)).collect();
    z.iter()
        .zip(p)
        .map(|(z, p)| {
            let level: i8 = cutoffs.iter().map(|c| i8::from(p < c)).sum();
            if *z > 0.0 { level } else { -level }
        })
        .collect()
}

/// Gi* of `values` on cells of `cell` metres with a distance band of `band` metres. Every cell
/// of the study region must be given, empty ones with 0. With `permutations` > 0, p-values come
/// from that many conditional permutations drawn with `seed` (folded and doubled, so
/// two-sided), else from the normal distribution.
///
/// # Errors
/// [`GiError::TooFew`] under [`MIN_NONEMPTY_CELLS`] non-empty cells; [`GiError::BandTooSmall`].
pub fn gi_star(
    cells: &[(Cell, f64)],
    cell: f64,
    band: f64,
    permutations: usize,
    seed: u64,
) -> Result<GiStar, GiError> {
    gi_star_until(cells, cell, band, permutations, seed, Deadline::NEVER)
}

/// [`gi_star`], whose permutations stop at `deadline`.
///
/// # Errors
/// As [`gi_star`], and [`GiError::Stopped`] when the deadline passes before the last
/// permutation.
pub fn gi_star_until(
    cells: &[(Cell, f64)],
    cell: f64,
    band: f64,
    permutations: usize,
    seed: u64,
    deadline: Deadline,
) -> Result<GiStar, GiError> {
    let nonempty = cells.iter().filter(|(_, v)| *v > 0.0).count();
    if nonempty < MIN_NONEMPTY_CELLS {
        return Err(GiError::TooFew(nonempty));
    }
    let offs = offsets(cell, band);
    if offs.len() < 2 {
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        return Err(GiError::BandTooSmall(band.round() as u32));
    }
    let index: HashMap<Cell, usize> = cells
        .iter()
        .enumerate()
        .map(|(i, (c, _))| (*c, i))
        .collect();
    let values: Vec<f64> = cells.iter().map(|(_, v)| *v).collect();
    let local: Vec<(usize, f64)> = cells
        .iter()
        .map(|((c, r), _)| {
            let (mut w, mut sum) = (0usize, 0.0);
            for (dc, dr) in &offs {
                if let Some(&j) = index.get(&(c + dc, r + dr)) {
                    w += 1;
                    sum += values[j];
                }
            }
            (w, sum)
        })
        .collect();
    let (z, p, class, neighbours) = scores(&values, &local, permutations, seed, deadline)?;
    Ok(GiStar {
        cells: cells.iter().map(|(c, _)| *c).collect(),
        z,
        p,
        class,
        neighbours,
    })
}

/// Every unit's z, p, class and neighbour count (itself included).
type Scores = (Vec<f64>, Vec<f64>, Vec<i8>, Vec<usize>);

/// z, p, class and neighbour counts from each unit's (neighbours incl. itself, local sum).
fn scores(
    values: &[f64],
    local: &[(usize, f64)],
    permutations: usize,
    seed: u64,
    deadline: Deadline,
) -> Result<Scores, Stopped> {
    let n = values.len();
    #[allow(clippy::cast_precision_loss)]
    let nf = n as f64;
    let mean = values.iter().sum::<f64>() / nf;
    let s = (values.iter().map(|v| v * v).sum::<f64>() / nf - mean * mean)
        .max(0.0)
        .sqrt();
    let z: Vec<f64> = local
        .iter()
        .map(|&(w, sum)| {
            #[allow(clippy::cast_precision_loss)]
            let wf = w as f64;
            let denom = s * ((nf * wf - wf * wf) / (nf - 1.0)).max(0.0).sqrt();
            if denom > 0.0 {
                (sum - mean * wf) / denom
            } else {
                0.0
            }
        })
        .collect();
    let neighbours: Vec<usize> = local.iter().map(|l| l.0).collect();
    let sums: Vec<f64> = local.iter().map(|l| l.1).collect();
    let p: Vec<f64> = if permutations == 0 {
        z.iter()
            .map(|z| (2.0 * normal_sf(z.abs())).min(1.0))
            .collect()
    } else {
        permutation_p(values, &neighbours, &sums, permutations, seed, deadline)?
    };
    let class = classes(&z, &p);
    Ok((z, p, class, neighbours))
}

/// Gi* of `values` at irregular planar `points` (e.g. the areas' centres) with a distance band
/// of `band` metres (a point's neighbours are those within the band, itself included). The
/// result's `cells` are `(index, 0)`.
///
/// # Errors
/// [`GiError::TooFew`] under [`MIN_NONEMPTY_CELLS`] non-empty units; [`GiError::BandTooSmall`]
/// when no point has a neighbour; [`GiError::Stopped`] when `deadline` passes before the last
/// permutation.
pub fn gi_star_points(
    points: &[(f64, f64)],
    values: &[f64],
    band: f64,
    (permutations, seed): (usize, u64),
    deadline: Deadline,
) -> Result<GiStar, GiError> {
    let nonempty = values.iter().filter(|v| **v > 0.0).count();
    if nonempty < MIN_NONEMPTY_CELLS {
        return Err(GiError::TooFew(nonempty));
    }
    let local: Vec<(usize, f64)> = points
        .iter()
        .map(|a| {
            points
                .iter()
                .zip(values)
                .filter(|(b, _)| (a.0 - b.0).powi(2) + (a.1 - b.1).powi(2) <= band * band)
                .fold((0, 0.0), |(w, s), (_, v)| (w + 1, s + v))
        })
        .collect();
    if local.iter().all(|l| l.0 < 2) {
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        return Err(GiError::BandTooSmall(band.round() as u32));
    }
    let (z, p, class, neighbours) = scores(values, &local, permutations, seed, deadline)?;
    #[allow(clippy::cast_possible_wrap)]
    Ok(GiStar {
        cells: (0..points.len()).map(|i| (i as i64, 0)).collect(),
        z,
        p,
        class,
        neighbours,
    })
}

/// Conditional permutation p-values: for each cell, its own value stays and its `w − 1`
/// neighbours are drawn without replacement from the other cells, `r` times. As PySAL does, the
/// draws are made once (r rows of the largest `w − 1` distinct positions among n − 1) and shared
/// by every cell. Folded (the smaller tail) and doubled for a two-sided p.
fn permutation_p(
    values: &[f64],
    neighbours: &[usize],
    observed: &[f64],
    r: usize,
    seed: u64,
    deadline: Deadline,
) -> Result<Vec<f64>, Stopped> {
    let n = values.len();
    let k_max = neighbours
        .iter()
        .copied()
        .max()
        .unwrap_or(1)
        .saturating_sub(1)
        .min(n - 1);
    let mut rng = rand::rngs::ChaCha8Rng::seed_from_u64(seed);
    // r rows of k_max distinct positions in 0..n−1 (a partial Fisher–Yates shuffle each).
    let mut pool: Vec<usize> = (0..n - 1).collect();
    let mut rows = Vec::with_capacity(r * k_max);
    // Drawing is about a tenth of the work; the time limit is looked at once per draw there and
    // once per cell below (each cell goes through every draw).
    let stopped = |done| Stopped { done, asked: r };
    for done in 0..r {
        if deadline.passed() {
            return Err(stopped(done));
        }
        for i in 0..k_max {
            let j = rng.random_range(i..n - 1);
            pool.swap(i, j);
            rows.push(pool[i]);
        }
    }
    let mut p = Vec::with_capacity(n);
    for i in 0..n {
        if deadline.passed() {
            // Every draw is made, and i of the n cells have been through them all.
            return Err(stopped(r * i / n));
        }
        let k = neighbours[i] - 1;
        let mut larger = 0usize;
        for row in rows.chunks_exact(k_max.max(1)).take(r) {
            // Position j among the others: skip the cell itself.
            let sum: f64 = values[i]
                + row[..k]
                    .iter()
                    .map(|&j| values[if j >= i { j + 1 } else { j }])
                    .sum::<f64>();
            if sum >= observed[i] {
                larger += 1;
            }
        }
        let folded = larger.min(r - larger);
        #[allow(clippy::cast_precision_loss)]
        p.push(((2 * folded + 2) as f64 / (r + 1) as f64).min(1.0));
    }
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 12 × 12 grid with a hot corner.
    fn grid() -> Vec<(Cell, f64)> {
        let mut cells = Vec::new();
        for c in 0..12 {
            for r in 0..12 {
                let v = if c < 3 && r < 3 {
                    9.0
                } else {
                    f64::from(((c * 7 + r * 3) % 5) as i32)
                };
                cells.push(((c, r), v));
            }
        }
        cells
    }

    #[test]
    fn the_hot_corner_is_hot_and_the_formula_is_the_textbook_one() {
        let cells = grid();
        let g = gi_star(&cells, 250.0, 250.0, 0, 0).unwrap();
        let i = g.cells.iter().position(|c| *c == (1, 1)).unwrap();
        assert!(g.z[i] > 3.0, "{}", g.z[i]);
        assert_eq!(g.class[i], 3);
        assert_eq!(g.neighbours[i], 5, "rook neighbours and itself at 250 m");
        // The textbook formula by hand for one cell.
        let n = cells.len() as f64;
        let mean = cells.iter().map(|c| c.1).sum::<f64>() / n;
        let s = (cells.iter().map(|c| c.1 * c.1).sum::<f64>() / n - mean * mean).sqrt();
        let sum = 9.0 * 5.0;
        let expected = (sum - mean * 5.0) / (s * ((n * 5.0 - 25.0) / (n - 1.0)).sqrt());
        assert!((g.z[i] - expected).abs() < 1e-12);
    }

    #[test]
    fn z_p_and_fdr_match_pysal_on_every_reference_grid() {
        let reference: serde_json::Value =
            serde_json::from_str(include_str!("../../tests/fixtures/hotspots_reference.json"))
                .unwrap();
        for case in reference["gi_star"].as_array().unwrap() {
            let cells: Vec<(Cell, f64)> = case["cells"]
                .as_array()
                .unwrap()
                .iter()
                .zip(case["values"].as_array().unwrap())
                .map(|(c, v)| {
                    (
                        (c[0].as_i64().unwrap(), c[1].as_i64().unwrap()),
                        v.as_f64().unwrap(),
                    )
                })
                .collect();
            let g = gi_star(
                &cells,
                case["cell"].as_f64().unwrap(),
                case["band"].as_f64().unwrap(),
                0,
                0,
            )
            .unwrap();
            let name = case["name"].as_str().unwrap();
            assert_z_and_p(&g, case, name);
            for (alpha, cutoff) in case["fdr"].as_object().unwrap() {
                let a: f64 = alpha.parse().unwrap();
                let got = fdr_cutoff(&g.p, a);
                let want = cutoff.as_f64().unwrap();
                assert!(
                    (got - want).abs() < 1e-12,
                    "{name} fdr {a}: {got} vs {want}"
                );
            }
        }
    }

    #[test]
    fn irregular_units_match_pysal() {
        let reference: serde_json::Value =
            serde_json::from_str(include_str!("../../tests/fixtures/hotspots_reference.json"))
                .unwrap();
        for case in reference["gi_star_points"].as_array().unwrap() {
            let points: Vec<(f64, f64)> = case["points"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| (p[0].as_f64().unwrap(), p[1].as_f64().unwrap()))
                .collect();
            let values: Vec<f64> = case["values"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_f64().unwrap())
                .collect();
            let g = gi_star_points(
                &points,
                &values,
                case["band"].as_f64().unwrap(),
                (0, 0),
                Deadline::NEVER,
            )
            .unwrap();
            assert_z_and_p(&g, case, case["name"].as_str().unwrap());
        }
    }

    /// Each unit's z within 1e-9 and p within 1e-9 relative of the reference case's.
    fn assert_z_and_p(g: &GiStar, case: &serde_json::Value, name: &str) {
        for (i, (z, p)) in case["z"]
            .as_array()
            .unwrap()
            .iter()
            .zip(case["p"].as_array().unwrap())
            .enumerate()
        {
            let (z, p) = (z.as_f64().unwrap(), p.as_f64().unwrap());
            assert!(
                (g.z[i] - z).abs() < 1e-9,
                "{name} unit {i}: z {} vs {z}",
                g.z[i]
            );
            assert!(
                (g.p[i] - p).abs() <= 1e-9 * p.max(1e-300) + 1e-15,
                "{name} unit {i}: p {} vs {p}",
                g.p[i]
            );
        }
    }

    #[test]
    fn fdr_matches_the_worked_example() {
        // BH at 0.05 over 10 p-values: the 3rd smallest (0.01) is below 3 × 0.005, the 4th is not.
        let p = [
            0.001, 0.008, 0.039, 0.01, 0.041, 0.042, 0.06, 0.074, 0.205, 0.5,
        ];
        assert!((fdr_cutoff(&p, 0.05) - 0.015).abs() < 1e-12);
        // None significant: the Bonferroni bound.
        assert!((fdr_cutoff(&[0.5, 0.9], 0.05) - 0.025).abs() < 1e-12);
    }

    #[test]
    fn too_few_cells_and_too_small_bands_are_refused() {
        let few: Vec<(Cell, f64)> = (0..40)
            .map(|i| ((i, 0), if i < 10 { 1.0 } else { 0.0 }))
            .collect();
        assert_eq!(
            gi_star(&few, 250.0, 500.0, 0, 0).unwrap_err(),
            GiError::TooFew(10)
        );
        assert!(matches!(
            gi_star(&grid(), 250.0, 100.0, 0, 0),
            Err(GiError::BandTooSmall(100))
        ));
    }

    #[test]
    fn permutations_are_seeded_and_agree_with_the_normal_approximation() {
        let cells = grid();
        let a = gi_star(&cells, 250.0, 500.0, 999, 7).unwrap();
        let b = gi_star(&cells, 250.0, 500.0, 999, 7).unwrap();
        assert_eq!(a.p, b.p, "the same seed, the same p-values");
        let normal = gi_star(&cells, 250.0, 500.0, 0, 0).unwrap();
        let i = a.cells.iter().position(|c| *c == (1, 1)).unwrap();
        assert!(
            a.p[i] <= 0.002 && normal.p[i] < 0.001,
            "{} {}",
            a.p[i],
            normal.p[i]
        );
        // Where the normal p is large, so is the permutation p.
        for k in 0..cells.len() {
            if normal.p[k] > 0.5 {
                assert!(a.p[k] > 0.1, "cell {k}: {} vs {}", a.p[k], normal.p[k]);
            }
        }
    }

    #[test]
    fn a_passed_deadline_stops_the_permutations_and_answers_nothing() {
        let cells = grid();
        let passed = Deadline::after(std::time::Duration::ZERO);
        assert_eq!(
            gi_star_until(&cells, 250.0, 500.0, 999, 7, passed),
            Err(GiError::Stopped(Stopped {
                done: 0,
                asked: 999
            }))
        );
        // Analytical p-values have no permutations to stop; a far deadline changes nothing.
        assert_eq!(
            gi_star_until(&cells, 250.0, 500.0, 0, 0, passed),
            gi_star(&cells, 250.0, 500.0, 0, 0)
        );
        assert_eq!(
            gi_star_until(
                &cells,
                250.0,
                500.0,
                99,
                7,
                Deadline::after(std::time::Duration::from_secs(3600))
            ),
            gi_star(&cells, 250.0, 500.0, 99, 7)
        );
        // At irregular points (the areas' centres) too.
        #[allow(clippy::cast_precision_loss)]
        let points: Vec<(f64, f64)> = cells
            .iter()
            .map(|((c, r), _)| (*c as f64 * 250.0, *r as f64 * 250.0))
            .collect();
        let values: Vec<f64> = cells.iter().map(|(_, v)| *v).collect();
        assert_eq!(
            gi_star_points(&points, &values, 500.0, (99, 7), passed),
            Err(GiError::Stopped(Stopped { done: 0, asked: 99 }))
        );
        assert!(gi_star_points(&points, &values, 500.0, (0, 7), passed).is_ok());
    }
}
