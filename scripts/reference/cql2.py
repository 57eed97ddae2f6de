#!/usr/bin/env python3
"""Reference answers for lagesbild's CQL2 filters, from an established implementation.

pygeofilter (geopython) parses each filter in CQL2 text and evaluates it with its native
evaluator over a fixed set of features; the ids it picks are written beside the features to
tests/fixtures/cql2_reference.json, read by src/filter/tests.rs, which checks that lagesbild's
own parser and evaluator pick exactly the same ids.

The filters stay where pygeofilter's native evaluator is defined: its Python comparisons are
two-valued and fail on missing values, so compared properties are present in every feature
(`title` is missing in some, and only ever tested with IS NULL and LIKE, whose unknowns are
left out here as CQL2 leaves them out); its temporal predicates are Allen relations, so times
are compared with < > on TIMESTAMP. LIKE patterns use `%` only: pygeofilter 0.4.0's CQL2 text
parser takes `.` as the one-character wildcard where CQL2 has `_`, and does not read `\`
escapes as CQL2 does, so those are checked in src/filter/tests.rs against plain predicates
instead. Run:

    python3 -m pip install pygeofilter==0.4.0 shapely==2.2.0
    python3 scripts/reference/cql2.py
"""

import datetime as dt
import json
import pathlib
import random

import shapely.geometry
from pygeofilter.backends.native.evaluate import NativeEvaluator
from pygeofilter.parsers.cql2_text import parse

CATEGORIES = ["car_fire", "shooting", "explosion", "vandalism", "threat_violence", "other"]
TITLES = ["Bilbrand vid torget", "Skott mot port", "Klotter på skola", "Bråk i centrum", "100% klotter_x"]


def features():
    rng = random.Random(20261202)
    out = []
    start = dt.datetime(2026, 10, 1, tzinfo=dt.timezone.utc)
    for i in range(60):
        t = start + dt.timedelta(minutes=rng.randrange(0, 60 * 24 * 60))
        offset = rng.choice([0, 1, 2])
        local = t.astimezone(dt.timezone(dt.timedelta(hours=offset)))
        text = local.isoformat().replace("+00:00", "Z")
        props = {
            "category": rng.choice(CATEGORIES),
            "severity": rng.randint(1, 5),
            "occurred_at": text,
            "status": rng.choice(["open", "closed"]),
            "title": rng.choice(TITLES + [None]),
        }
        lon = round(17.80 + rng.random() * 0.10, 6)
        lat = round(59.20 + rng.random() * 0.06, 6)
        out.append({
            "type": "Feature",
            "id": f"f{i:02}",
            "geometry": {"type": "Point", "coordinates": [lon, lat]},
            "properties": props,
        })
    return out


FILTERS = [
    "category = 'shooting'",
    "category <> 'shooting' AND severity >= 3",
    "severity > 2 OR status = 'closed'",
    "NOT (severity < 4)",
    "severity BETWEEN 2 AND 4",
    "severity NOT BETWEEN 2 AND 4",
    "category IN ('car_fire', 'explosion', 'other')",
    "category NOT IN ('car_fire', 'explosion')",
    "title IS NULL",
    "title IS NOT NULL",
    "occurred_at > TIMESTAMP('2026-11-01T00:00:00Z')",
    "occurred_at < TIMESTAMP('2026-10-15T12:00:00Z') AND category = 'vandalism'",
    "S_INTERSECTS(geometry, POLYGON((17.82 59.21, 17.87 59.21, 17.87 59.24, 17.82 59.24, 17.82 59.21)))",
    "S_WITHIN(geometry, POLYGON((17.80 59.20, 17.85 59.20, 17.85 59.26, 17.80 59.26, 17.80 59.20)))",
    "S_DISJOINT(geometry, POLYGON((17.80 59.20, 17.85 59.20, 17.85 59.26, 17.80 59.26, 17.80 59.20)))",
    "S_INTERSECTS(geometry, POLYGON((17.82 59.21, 17.87 59.21, 17.87 59.24, 17.82 59.24, 17.82 59.21))) AND (severity >= 4 OR category = 'shooting')",
    "(category = 'car_fire' OR category = 'vandalism') AND NOT (status = 'open') AND severity <= 3",
]

LIKE_FILTERS = [
    "title LIKE 'Bil%'",
    "title LIKE '%klotter%'",
    "title NOT LIKE '%vid%'",
    "title LIKE '%orget'",
]


def item(f):
    p = dict(f["properties"])
    p["occurred_at"] = dt.datetime.fromisoformat(p["occurred_at"].replace("Z", "+00:00"))
    p["geometry"] = shapely.geometry.shape(f["geometry"])
    return p


def main():
    fs = features()
    items = [(f["id"], item(f)) for f in fs]
    cases = []
    for text in FILTERS + LIKE_FILTERS:
        ast = parse(text)
        pick = NativeEvaluator(use_getattr=False).evaluate(ast)
        if text in LIKE_FILTERS:
            # LIKE on a missing title is unknown (left out), as in SQL and CQL2.
            ids = [i for i, it in items if it["title"] is not None and pick(it)]
        else:
            ids = [i for i, it in items if pick(it)]
        cases.append({"filter": text, "ids": ids})
    out = {
        "source": "pygeofilter 0.4.0 (NativeEvaluator over CQL2 text), scripts/reference/cql2.py",
        "features": fs,
        "cases": cases,
    }
    path = pathlib.Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "cql2_reference.json"
    path.write_text(json.dumps(out, indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {path}: {len(cases)} filters over {len(fs)} features")
    for c in cases:
        print(f"{len(c['ids']):3} {c['filter']}")


if __name__ == "__main__":
    main()
