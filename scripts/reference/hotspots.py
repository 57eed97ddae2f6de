#!/usr/bin/env python3
"""Reference values for lagesbild's hot spot statistics, from the established implementations.

- Getis-Ord Gi* (z, p) with binary distance-band weights: PySAL esda.G_Local(star=True,
  transform="B") on libpysal.weights.DistanceBand; two-sided p = 2 * esda's one-sided p_norm.
- The false discovery rate cut-offs: esda.fdr at 0.10, 0.05, 0.01.
- Mann-Kendall: pymannkendall.original_test.

Writes tests/fixtures/hotspots_reference.json, read by src/analysis tests. Run:

    python3 -m pip install esda libpysal pymannkendall
    python3 scripts/reference/hotspots.py
"""

import json
import pathlib

import esda
import libpysal
import numpy as np
import pymannkendall

CELL = 250.0


def grid_case(name, size, band, seed, hot):
    rng = np.random.default_rng(seed)
    cells, values = [], []
    for c in range(size):
        for r in range(size):
            lam = 0.6
            for (hc, hr, strength) in hot:
                d2 = (c - hc) ** 2 + (r - hr) ** 2
                lam += strength * np.exp(-d2 / 4.0)
            cells.append([c, r])
            values.append(float(rng.poisson(lam)))
    coords = np.array([[(c + 0.5) * CELL, (r + 0.5) * CELL] for c, r in cells])
    w = libpysal.weights.DistanceBand(coords, threshold=band, binary=True, silence_warnings=True)
    g = esda.G_Local(np.array(values), w, star=True, transform="B", permutations=0)
    p = np.minimum(1.0, 2.0 * g.p_norm)
    return {
        "name": name,
        "cell": CELL,
        "band": band,
        "cells": cells,
        "values": values,
        "z": [float(v) for v in g.Zs],
        "p": [float(v) for v in p],
        "fdr": {str(a): float(esda.fdr(p, a)) for a in (0.10, 0.05, 0.01)},
    }


def points_case(name, n, band, seed):
    """Irregular points (like areas' centres) with a distance band."""
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0.0, 6000.0, size=(n, 2))
    lam = 1.0 + 6.0 * np.exp(-((xy[:, 0] - 1500.0) ** 2 + (xy[:, 1] - 4500.0) ** 2) / 1.5e6)
    values = rng.poisson(lam).astype(float)
    w = libpysal.weights.DistanceBand(xy, threshold=band, binary=True, silence_warnings=True)
    g = esda.G_Local(values, w, star=True, transform="B", permutations=0)
    p = np.minimum(1.0, 2.0 * g.p_norm)
    return {
        "name": name,
        "band": band,
        "points": [[float(a), float(b)] for a, b in xy],
        "values": [float(v) for v in values],
        "z": [float(v) for v in g.Zs],
        "p": [float(v) for v in p],
    }


def mk_case(series):
    r = pymannkendall.original_test(series)
    return {"series": series, "s": float(r.s), "var_s": float(r.var_s), "z": float(r.z),
            "p": float(r.p), "tau": float(r.Tau)}


def main():
    out = {
        "generator": f"esda {esda.__version__}, libpysal {libpysal.__version__}, "
                     f"pymannkendall {pymannkendall.__version__}",
        "gi_star": [
            grid_case("two hot spots, rook+diagonal band", 20, 400.0, 1, [(5, 5, 6.0), (14, 12, 4.0)]),
            grid_case("one hot spot, 500 m band", 24, 500.0, 2, [(10, 8, 8.0)]),
            grid_case("sparse, 750 m band", 16, 750.0, 3, [(3, 12, 2.0)]),
        ],
        "gi_star_points": [
            points_case("80 irregular units, 1 200 m band", 80, 1200.0, 4),
            points_case("50 irregular units, 2 000 m band", 50, 2000.0, 5),
        ],
        "mann_kendall": [
            mk_case([1.2, 0.8, 1.9, 2.4, 2.0, 3.1, 2.9, 3.8, 3.6, 4.4, 4.1, 5.0]),
            mk_case([3.0, 3.0, 2.0, 3.0, 1.0, 2.0, 2.0, 1.0, 0.0, 1.0, 0.0, 0.0]),
            mk_case([0.5, -0.3, 1.1, 0.2, -0.8, 0.9, 0.1, -0.2, 0.4, 0.0, 0.6, -0.5]),
            mk_case([1.0, 1.0, 1.0, 2.0, 2.0, 2.0, 2.0, 3.0, 3.0, 1.0, 1.0, 4.0]),
        ],
    }
    path = pathlib.Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "hotspots_reference.json"
    path.write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
