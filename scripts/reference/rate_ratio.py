#!/usr/bin/env python3
"""Reference values for lagesbild's follow-up statistics (src/analysis/rates.rs), made with SciPy.

For each case: the exact (Clopper-Pearson) 95 % interval of a binomial proportion, and the rate
ratio of two Poisson counts with exposures with its exact conditional interval, as R's
poisson.test(c(x1, x2), T = c(t1, t2)) computes it: given n = x1 + x2, x1 ~ Bin(n, p) with
p = r t1 / (r t1 + t2), so the interval for p maps to r = p t2 / ((1 - p) t1).

Run: python3 scripts/reference/rate_ratio.py > tests/fixtures/rate_ratio_reference.json
"""
import json

import scipy
from scipy.stats import binomtest

CASES = [
    # (x1, t1, x2, t2): counts after/before in the target, comparison counts as exposures
    (12, 100, 20, 100),
    (30, 250, 45, 240),
    (5, 80, 9, 95),
    (0, 50, 7, 60),
    (7, 60, 0, 50),
    (1, 1, 1, 1),
    (150, 1200, 210, 1150),
    (3, 10, 4, 12),
    (48, 31, 61, 29),
    (200, 1000, 200, 1000),
]

out = {"scipy": scipy.__version__, "level": 0.95, "cases": []}
for x1, t1, x2, t2 in CASES:
    n = x1 + x2
    ci = binomtest(x1, n).proportion_ci(confidence_level=0.95, method="exact")
    lo_p, hi_p = ci.low, ci.high
    to_r = lambda p: float("inf") if p >= 1 else p * t2 / ((1 - p) * t1)
    estimate = (x1 / t1) / (x2 / t2) if x2 > 0 else float("inf")
    out["cases"].append({
        "x1": x1, "t1": t1, "x2": x2, "t2": t2,
        "p_low": lo_p, "p_high": hi_p,
        "estimate": estimate if estimate != float("inf") else None,
        "low": to_r(lo_p),
        "high": to_r(hi_p) if hi_p < 1 else None,
    })
print(json.dumps(out, indent=2))
