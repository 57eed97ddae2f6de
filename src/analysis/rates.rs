//! Rates of Poisson counts with exact intervals: the statistics behind a measure's follow-up
//! ("did it work?"). Pure functions; checked against SciPy on fixed cases
//! (`scripts/reference/rate_ratio.py` → `tests/fixtures/rate_ratio_reference.json`).
//!
//! The follow-up compares the incidents of a measure's target categories in its area in equal
//! windows before and after its start with a comparison area over the same windows
//! (difference in differences on counts). With the comparison area's counts as exposures, the
//! ratio of rates is that of R's `poisson.test(c(after, before), T = c(comp_after,
//! comp_before))`: conditional on the total, the count after is binomial, and the exact
//! (Clopper–Pearson) interval of its proportion maps to an exact interval of the ratio.

/// A rate ratio with its interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateRatio {
    /// (x1 / t1) / (x2 / t2); `None` when x2 is 0.
    pub estimate: Option<f64>,
    /// Lower end of the interval (0 when x1 is 0).
    pub low: f64,
    /// Upper end; `None` when unbounded (x2 is 0).
    pub high: Option<f64>,
    /// The interval's confidence level (0.95).
    pub level: f64,
}

/// Fewer incidents than this in the target area, before and after together, and the follow-up
/// says nothing.
pub const MIN_EVENTS_FOR_A_VERDICT: u64 = 10;

/// ln Γ(x) for x > 0 (Lanczos, g = 7, n = 9: about 15 significant digits).
fn ln_gamma(x: f64) -> f64 {
    const G: f64 = 7.0;
    const C: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Reflection.
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut a = C[0];
    let t = x + G + 0.5;
    for (i, c) in C.iter().enumerate().skip(1) {
        #[allow(clippy::cast_precision_loss)]
        let i = i as f64;
        a += c / (x + i);
    }
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

/// The continued fraction of the incomplete beta function (modified Lentz).
fn beta_fraction(a: f64, b: f64, x: f64) -> f64 {
    const TINY: f64 = 1e-300;
    let (qab, qap, qam) = (a + b, a + 1.0, a - 1.0);
    let mut c = 1.0;
    let mut d = 1.0 - qab * x / qap;
    if d.abs() < TINY {
        d = TINY;
    }
    d = 1.0 / d;
    let mut h = d;
    for m in 1..=300 {
        let m = f64::from(m);
        let m2 = 2.0 * m;
        let aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1.0 + aa * d;
        if d.abs() < TINY {
            d = TINY;
        }
        c = 1.0 + aa / c;
        if c.abs() < TINY {
            c = TINY;
        }
        d = 1.0 / d;
        h *= d * c;
        let aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1.0 + aa * d;
        if d.abs() < TINY {
            d = TINY;
        }
        c = 1.0 + aa / c;
        if c.abs() < TINY {
            c = TINY;
        }
        d = 1.0 / d;
        let del = d * c;
        h *= del;
        if (del - 1.0).abs() < 1e-15 {
            break;
        }
    }
    h
}

/// The regularized incomplete beta function I_x(a, b).
#[must_use]
pub fn incomplete_beta(a: f64, b: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let ln_front = ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (1.0 - x).ln();
    let front = ln_front.exp();
    if x < (a + 1.0) / (a + b + 2.0) {
        front * beta_fraction(a, b, x) / a
    } else {
        1.0 - front * beta_fraction(b, a, 1.0 - x) / b
    }
}

/// The `q` quantile of the Beta(a, b) distribution (bisection on the incomplete beta: slow but
/// sure, to about 1e-15).
#[must_use]
pub fn beta_quantile(q: f64, a: f64, b: f64) -> f64 {
    let (mut lo, mut hi) = (0.0_f64, 1.0_f64);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if incomplete_beta(a, b, mid) < q {
            lo = mid;
        } else {
            hi = mid;
        }
        if hi - lo < 1e-16 {
            break;
        }
    }
    0.5 * (lo + hi)
}

/// The exact (Clopper–Pearson) interval of a binomial proportion: `k` successes in `n`.
#[must_use]
pub fn clopper_pearson(k: u64, n: u64, level: f64) -> (f64, f64) {
    if n == 0 {
        return (0.0, 1.0);
    }
    let alpha = 1.0 - level;
    #[allow(clippy::cast_precision_loss)]
    let (k, n) = (k as f64, n as f64);
    let low = if k == 0.0 {
        0.0
    } else {
        beta_quantile(alpha / 2.0, k, n - k + 1.0)
    };
    let high = if k >= n {
        1.0
    } else {
        beta_quantile(1.0 - alpha / 2.0, k + 1.0, n - k)
    };
    (low, high)
}

/// The ratio of two Poisson rates, `x1` events in exposure `t1` against `x2` in `t2`, with the
/// exact conditional interval (as R's `poisson.test(c(x1, x2), T = c(t1, t2))`).
#[must_use]
pub fn rate_ratio(x1: u64, t1: f64, x2: u64, t2: f64, level: f64) -> RateRatio {
    let (p_low, p_high) = clopper_pearson(x1, x1 + x2, level);
    let to_ratio = |p: f64| p * t2 / ((1.0 - p) * t1);
    #[allow(clippy::cast_precision_loss)]
    let estimate = (x2 > 0).then(|| (x1 as f64 / t1) / (x2 as f64 / t2));
    RateRatio {
        estimate,
        low: to_ratio(p_low),
        high: (p_high < 1.0).then(|| to_ratio(p_high)),
        level,
    }
}

/// Counts of a follow-up: the target area and the comparison, in equal windows before and
/// after the measure's start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FollowUpCounts {
    /// Target area, before.
    pub before: u64,
    /// Target area, after.
    pub after: u64,
    /// Comparison area, before.
    pub comparison_before: u64,
    /// Comparison area, after.
    pub comparison_after: u64,
}

/// What the follow-up can honestly say.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Too few incidents (or none in the comparison) to say anything.
    TooFew,
    /// The interval includes 1: no change that can be told from chance.
    NoClearChange(RateRatio),
    /// Fewer incidents than the comparison would lead one to expect.
    Decrease(RateRatio),
    /// More incidents than the comparison would lead one to expect.
    Increase(RateRatio),
}

impl Verdict {
    /// The verdict in Swedish, as the agenda and the lägesbild document print it.
    #[must_use]
    pub fn swedish(&self) -> String {
        let pct = |r: f64| (r - 1.0).abs() * 100.0;
        let interval = |rr: &RateRatio| match rr.high {
            Some(h) => format!("95 % intervall {:.2}–{:.2}", rr.low, h),
            None => format!("95 % intervall från {:.2}", rr.low),
        };
        match self {
            Verdict::TooFew => "För få händelser för att säga något.".to_owned(),
            Verdict::NoClearChange(rr) => format!(
                "Ingen säker förändring jämfört med jämförelseområdet (kvot {:.2}, {}).",
                rr.estimate.unwrap_or(f64::NAN),
                interval(rr)
            ),
            Verdict::Decrease(rr) => format!(
                "Färre händelser än jämförelseområdet ger anledning att vänta: cirka {:.0} % färre (kvot {:.2}, {}).",
                pct(rr.estimate.unwrap_or(1.0)),
                rr.estimate.unwrap_or(f64::NAN),
                interval(rr)
            ),
            Verdict::Increase(rr) => format!(
                "Fler händelser än jämförelseområdet ger anledning att vänta: cirka {:.0} % fler (kvot {:.2}, {}).",
                pct(rr.estimate.unwrap_or(1.0)),
                rr.estimate.unwrap_or(f64::NAN),
                interval(rr)
            ),
        }
    }
}

/// The follow-up of a measure: the difference in differences of the counts as a rate ratio
/// with its exact 95 % interval, and a verdict that claims an effect only when the interval
/// excludes 1 and there are enough incidents.
#[must_use]
pub fn follow_up(c: FollowUpCounts) -> Verdict {
    if c.before + c.after < MIN_EVENTS_FOR_A_VERDICT
        || c.comparison_before == 0
        || c.comparison_after == 0
        || c.before == 0
    {
        return Verdict::TooFew;
    }
    #[allow(clippy::cast_precision_loss)]
    let rr = rate_ratio(
        c.after,
        c.comparison_after as f64,
        c.before,
        c.comparison_before as f64,
        0.95,
    );
    match rr.high {
        Some(h) if h < 1.0 => Verdict::Decrease(rr),
        _ if rr.low > 1.0 => Verdict::Increase(rr),
        _ => Verdict::NoClearChange(rr),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const REFERENCE: &str = include_str!("../../tests/fixtures/rate_ratio_reference.json");

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-9 * b.abs().max(1.0)
    }

    #[test]
    fn the_intervals_match_scipy_on_every_reference_case() {
        let reference: serde_json::Value = serde_json::from_str(REFERENCE).unwrap();
        let cases = reference["cases"].as_array().unwrap();
        assert!(cases.len() >= 10);
        let mut wrong = Vec::new();
        for c in cases {
            let (x1, x2) = (c["x1"].as_u64().unwrap(), c["x2"].as_u64().unwrap());
            let (t1, t2) = (c["t1"].as_f64().unwrap(), c["t2"].as_f64().unwrap());
            let (pl, ph) = clopper_pearson(x1, x1 + x2, 0.95);
            let rr = rate_ratio(x1, t1, x2, t2, 0.95);
            let ok = close(pl, c["p_low"].as_f64().unwrap())
                && close(ph, c["p_high"].as_f64().unwrap())
                && close(rr.low, c["low"].as_f64().unwrap())
                && rr
                    .high
                    .map(|h| close(h, c["high"].as_f64().unwrap_or(f64::NAN)))
                    == c["high"].as_f64().map(|_| true)
                && rr
                    .estimate
                    .map(|e| close(e, c["estimate"].as_f64().unwrap_or(f64::NAN)))
                    == c["estimate"].as_f64().map(|_| true);
            if !ok {
                wrong.push(format!("{c} → ({pl}, {ph}) {rr:?}"));
            }
        }
        assert!(
            wrong.is_empty(),
            "differs from SciPy:\n{}",
            wrong.join("\n")
        );
    }

    #[test]
    fn the_verdict_claims_nothing_without_evidence() {
        // Few events: nothing said.
        let few = FollowUpCounts {
            before: 4,
            after: 2,
            comparison_before: 100,
            comparison_after: 100,
        };
        assert_eq!(follow_up(few), Verdict::TooFew);
        assert!(follow_up(few).swedish().contains("För få händelser"));
        // Halved, but the comparison halved too: no effect.
        let same = FollowUpCounts {
            before: 40,
            after: 20,
            comparison_before: 400,
            comparison_after: 200,
        };
        assert!(matches!(follow_up(same), Verdict::NoClearChange(_)));
        // Halved while the comparison stayed: a decrease, said with its interval.
        let down = FollowUpCounts {
            before: 80,
            after: 40,
            comparison_before: 400,
            comparison_after: 400,
        };
        let v = follow_up(down);
        assert!(matches!(v, Verdict::Decrease(_)), "{v:?}");
        assert!(v.swedish().contains("cirka 50 % färre"), "{}", v.swedish());
        // Doubled while the comparison stayed: an increase.
        let up = FollowUpCounts {
            before: 30,
            after: 60,
            comparison_before: 300,
            comparison_after: 300,
        };
        assert!(matches!(follow_up(up), Verdict::Increase(_)));
    }

    #[test]
    fn the_incomplete_beta_has_its_known_values() {
        // I_x(1, 1) = x; I_x(a, b) = 1 - I_{1-x}(b, a); I_0.5(a, a) = 0.5.
        assert!(close(incomplete_beta(1.0, 1.0, 0.3), 0.3));
        assert!(close(
            incomplete_beta(2.5, 4.0, 0.2),
            1.0 - incomplete_beta(4.0, 2.5, 0.8)
        ));
        assert!(close(incomplete_beta(7.0, 7.0, 0.5), 0.5));
        assert!(close(ln_gamma(10.0), 362_880.0_f64.ln()));
    }
}
