//! Emerging hot spots: a cell's Gi* class week by week over the last weeks, and the
//! Mann-Kendall trend of its z-scores, sorted into the patterns ArcGIS's Emerging Hot Spot
//! Analysis names (new, consecutive, intensifying, persistent, diminishing, sporadic,
//! oscillating, historical). A week counts as hot when its class is at least +1 (90 % after the
//! false discovery rate correction), cold at −1 or below.

use super::trend::{MannKendall, mann_kendall};

/// A cell's pattern over the weeks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Pattern {
    /// Hot in the last week only.
    New,
    /// One unbroken run of at least two hot weeks at the end, never hot before it, under 90 % hot.
    Consecutive,
    /// Hot in at least 90 % of the weeks including the last, clustering rising significantly.
    Intensifying,
    /// Hot in at least 90 % of the weeks including the last, no significant trend.
    Persistent,
    /// Hot in at least 90 % of the weeks including the last, clustering falling significantly.
    Diminishing,
    /// Hot in the last week, on and off before, under 90 % hot, never cold.
    Sporadic,
    /// Hot in the last week, cold in some week before, under 90 % hot.
    Oscillating,
    /// Not hot in the last week, but hot in at least 90 % of the weeks.
    Historical,
    /// None of these.
    None,
}

/// The significance of the trend that makes a hot spot intensifying or diminishing.
pub const TREND_ALPHA: f64 = 0.05;

/// The pattern of one cell from its weekly classes and z-scores (oldest first), with the trend.
#[must_use]
pub fn pattern(classes: &[i8], z: &[f64]) -> (Pattern, MannKendall) {
    let trend = mann_kendall(z);
    let n = classes.len();
    if n == 0 {
        return (Pattern::None, trend);
    }
    let hot: Vec<bool> = classes.iter().map(|c| *c >= 1).collect();
    let cold_any = classes.iter().any(|c| *c <= -1);
    let hot_n = hot.iter().filter(|h| **h).count();
    let last_hot = hot[n - 1];
    // At least 90 % of the weeks.
    let mostly = hot_n * 10 >= n * 9;
    let run = hot.iter().rev().take_while(|h| **h).count();
    let before_run_hot = hot[..n - run].iter().any(|h| *h);
    let p = if !last_hot {
        if mostly {
            Pattern::Historical
        } else {
            Pattern::None
        }
    } else if hot_n == 1 {
        Pattern::New
    } else if mostly {
        if trend.p < TREND_ALPHA && trend.s > 0.0 {
            Pattern::Intensifying
        } else if trend.p < TREND_ALPHA && trend.s < 0.0 {
            Pattern::Diminishing
        } else {
            Pattern::Persistent
        }
    } else if run >= 2 && !before_run_hot {
        Pattern::Consecutive
    } else if cold_any {
        Pattern::Oscillating
    } else {
        Pattern::Sporadic
    };
    (p, trend)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn z_of(c: &[i8]) -> Vec<f64> {
        c.iter().map(|c| f64::from(*c) * 1.5).collect()
    }

    #[test]
    fn each_pattern_from_its_definition() {
        let cases: [(&[i8], Pattern); 9] = [
            (&[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2], Pattern::New),
            (&[0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 2], Pattern::Consecutive),
            (&[1, 1, 1, 1, 1, 2, 2, 2, 3, 3, 3, 3], Pattern::Intensifying),
            (&[2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2], Pattern::Persistent),
            (&[3, 3, 3, 3, 3, 2, 2, 2, 2, 1, 1, 1], Pattern::Diminishing),
            (&[0, 1, 0, 1, 0, 0, 1, 0, 0, 1, 0, 1], Pattern::Sporadic),
            (
                &[0, -1, 0, 1, 0, 0, 1, 0, 0, -2, 0, 1],
                Pattern::Oscillating,
            ),
            (&[2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 0], Pattern::Historical),
            (&[0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0], Pattern::None),
        ];
        for (classes, expected) in cases {
            assert_eq!(pattern(classes, &z_of(classes)).0, expected, "{classes:?}");
        }
    }
}
