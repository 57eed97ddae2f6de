//! The Mann-Kendall trend test: is a series going up or down over time, without assuming how?
//! S = Σ_{i<j} sign(x_j − x_i); its variance corrected for ties; z with the continuity
//! correction; two-sided normal p-value; Kendall's tau = S / (n(n − 1)/2). As
//! `pymannkendall.original_test`; checked against it on fixed series
//! (`scripts/reference/hotspots.py` → `tests/fixtures/hotspots_reference.json`).

use super::getis::normal_sf;

/// The result of a Mann-Kendall test.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct MannKendall {
    /// The statistic S.
    pub s: f64,
    /// Its variance (ties corrected).
    pub var_s: f64,
    /// The z-score.
    pub z: f64,
    /// The two-sided p-value.
    pub p: f64,
    /// Kendall's tau.
    pub tau: f64,
}

/// The Mann-Kendall test of `x` (in time order). A series of fewer than 3 values has no trend
/// (p = 1).
#[must_use]
pub fn mann_kendall(x: &[f64]) -> MannKendall {
    let n = x.len();
    if n < 3 {
        return MannKendall {
            s: 0.0,
            var_s: 0.0,
            z: 0.0,
            p: 1.0,
            tau: 0.0,
        };
    }
    let mut s = 0.0;
    for i in 0..n {
        for j in i + 1..n {
            s += (x[j] - x[i]).signum() * f64::from(u8::from(x[j] != x[i]));
        }
    }
    // Tie groups.
    let mut sorted = x.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mut ties = 0.0;
    let mut i = 0;
    while i < n {
        let mut j = i;
        while j + 1 < n && sorted[j + 1] == sorted[i] {
            j += 1;
        }
        #[allow(clippy::cast_precision_loss)]
        let t = (j - i + 1) as f64;
        ties += t * (t - 1.0) * (2.0 * t + 5.0);
        i = j + 1;
    }
    #[allow(clippy::cast_precision_loss)]
    let nf = n as f64;
    let var_s = (nf * (nf - 1.0) * (2.0 * nf + 5.0) - ties) / 18.0;
    let z = if var_s <= 0.0 {
        0.0
    } else if s > 0.0 {
        (s - 1.0) / var_s.sqrt()
    } else if s < 0.0 {
        (s + 1.0) / var_s.sqrt()
    } else {
        0.0
    };
    MannKendall {
        s,
        var_s,
        z,
        p: (2.0 * normal_sf(z.abs())).min(1.0),
        tau: s / (0.5 * nf * (nf - 1.0)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reference_series_matches_pymannkendall() {
        let reference: serde_json::Value =
            serde_json::from_str(include_str!("../../tests/fixtures/hotspots_reference.json"))
                .unwrap();
        for case in reference["mann_kendall"].as_array().unwrap() {
            let x: Vec<f64> = case["series"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_f64().unwrap())
                .collect();
            let m = mann_kendall(&x);
            for (got, key) in [
                (m.s, "s"),
                (m.var_s, "var_s"),
                (m.z, "z"),
                (m.p, "p"),
                (m.tau, "tau"),
            ] {
                let want = case[key].as_f64().unwrap();
                assert!((got - want).abs() < 1e-12, "{x:?} {key}: {got} vs {want}");
            }
        }
    }

    #[test]
    fn a_rising_series_rises_and_a_flat_one_has_no_trend() {
        let up: Vec<f64> = (0..12).map(f64::from).collect();
        let m = mann_kendall(&up);
        assert_eq!(m.s, 66.0);
        assert!((m.tau - 1.0).abs() < 1e-12);
        assert!(m.p < 0.001);
        let flat = [2.0; 12];
        let f = mann_kendall(&flat);
        assert_eq!((f.s, f.z, f.p), (0.0, 0.0, 1.0));
    }
}
