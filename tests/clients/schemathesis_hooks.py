"""Rules between values that no JSON Schema can state, told to the fuzzer.

The OpenAPI document types every parameter as its parser reads it; what it cannot say is how
values relate: bbox, near and intersects exclude each other; distance goes with intersects;
area excludes bbox (and pack excludes both); by=area takes neither; a box's west edge is not
east of its east edge, nor its south edge north of its north edge, and a box has an area; an
interval does not end before it starts; a briefing's window runs from `from` to `to`, at most a
year; week 53 exists only in some years. Generated requests are kept to those rules (a client
that breaks one gets 400 naming the parameter; tests/api/bad_input.rs checks that). In bodies, a geometry is made valid as a whole
(rings closed and not crossing, lines of two different positions: 422 naming the place
otherwise) and a client-chosen id is dropped (an id must be unused); a CQL2 filter is made a
valid one. Only schema-valid
(positive) cases are touched; every other value is the fuzzer's own.
"""
import datetime as dt

import schemathesis


def _numbers(value):
    if isinstance(value, (list, tuple)):
        return list(value)
    if isinstance(value, str):
        try:
            return [float(v) for v in value.split(",")]
        except ValueError:
            return None
    return None


def _box(value):
    nums = _numbers(value)
    if not nums or len(nums) != 4 or not all(isinstance(n, (int, float)) and not isinstance(n, bool) for n in nums):
        return value  # not four numbers: the server refuses it, as it should
    w, s, e, n = nums
    w, e = min(w, e), max(w, e)
    s, n = min(s, n), max(s, n)
    # A box needs an area (and a briefing's at most 10° across): keep it small and real.
    if e - w < 1e-3:
        e = min(w + 0.01, 180.0)
        w = e - 0.01
    if n - s < 1e-3:
        n = min(s + 0.01, 90.0)
        s = n - 0.01
    box = [w, s, min(e, w + 5.0), min(n, s + 5.0)]
    return ",".join(repr(v) for v in box) if isinstance(value, str) else box


def _day(text):
    try:
        return dt.date.fromisoformat(text)
    except (TypeError, ValueError):
        return None


def _interval(value):
    if not isinstance(value, str) or value.count("/") != 1:
        return value
    a, b = value.split("/")
    if a and b and a != ".." and b != ".." and a[:19] > b[:19]:
        return f"{b}/{a}"
    return value


def _repair(path, query):
    spatial = [k for k in ("bbox", "near", "intersects") if k in query]
    for k in spatial[1:]:
        del query[k]
    if "distance" in query and "intersects" not in query:
        del query["distance"]
    if "area" in query:
        query.pop("bbox", None)
    if "pack" in query:
        query.pop("area", None)
        query.pop("bbox", None)
    if query.get("by") == "area":
        query.pop("bbox", None)
        query.pop("area", None)
    # A CQL2 filter has a grammar no JSON Schema states: the fuzzer's strings stand for "some
    # filter", and a valid one in the chosen encoding takes their place (bad filters: bad_input.rs).
    if "filter" in query or "filter-lang" in query or "filter-crs" in query:
        query["filter"] = "true" if query.get("filter-lang") == "cql2-json" else "TRUE"
    if "bbox-crs" in query and "bbox" not in query:
        del query["bbox-crs"]
    if "bbox" in query:
        nums = _numbers(query["bbox"])
        sweref = nums and len(nums) == 4 and all(isinstance(n, (int, float)) for n in nums) and abs(nums[0]) > 1000
        if sweref:
            # A SWEREF 99 TM box (northing, easting in metres): bbox-crs says so.
            n1, e1, n2, e2 = nums
            box = [min(n1, n2), min(e1, e2), max(n1, n2), max(e1, e2)]
            query["bbox-crs"] = "http://www.opengis.net/def/crs/EPSG/0/3006"
            query["bbox"] = ",".join(repr(v) for v in box) if isinstance(query["bbox"], str) else box
        else:
            query.pop("bbox-crs", None)
            query["bbox"] = _box(query["bbox"])
    if "datetime" in query:
        query["datetime"] = _interval(query["datetime"])
    if "since" in query:
        query["since"] = _interval(query["since"])
    a, b = _day(query.get("from")), _day(query.get("to"))
    if a and b and a > b:
        a, b = b, a
    if a and not b:
        b = a + dt.timedelta(days=30)
    if a and b and (b - a).days > 366:
        a = b - dt.timedelta(days=30)
    if a:
        query["from"] = a.isoformat()
    if b and "to" in query or (a and b):
        query["to"] = b.isoformat()
    # Near repeats: the space bands reach at most 2000 m.
    try:
        space, bands = float(query.get("space", 100)), int(query.get("space_bands", 3))
        if space * bands > 2000:
            query["space_bands"] = str(max(1, int(2000 // space)))
    except (TypeError, ValueError):
        pass
    # Gi* over the grid: bands of 250–5000 m (over areas, 100–50000 m).
    try:
        if "band" in query and query.get("by", "grid") == "grid" and "hotspots" in path:
            query["band"] = str(min(5000.0, max(250.0, float(query["band"]))))
    except (TypeError, ValueError):
        pass
    # Gi* with permutations: a band of at most 1000 m (the work grows with its square).
    try:
        if int(query.get("permutations", 0)) > 0 and query.get("by", "grid") == "grid" and float(query.get("band", 500)) > 1000:
            query["band"] = "1000"
    except (TypeError, ValueError):
        pass
    week = query.get("week")
    if isinstance(week, str) and week.endswith("-W53"):
        try:
            dt.date.fromisocalendar(int(week[:4]), 53, 1)
        except ValueError:
            query["week"] = week[:-2] + "52"
    return query


def _small_valid(geometry):
    """A valid geometry of the same kind near the generated one's first position: the
    validity of rings and lines (closed, not crossing, two different positions) is what no
    schema states."""
    import json

    try:
        g = json.loads(geometry) if isinstance(geometry, str) else geometry
        kind = g["type"]
        first = g["coordinates"]
        while isinstance(first, list) and first and isinstance(first[0], list):
            first = first[0]
        x, y = float(first[0]), float(first[1])
    except (ValueError, KeyError, TypeError, IndexError):
        return geometry
    x, y = max(-179.0, min(179.0, x)), max(-89.0, min(89.0, y))
    line = [[x, y], [x + 0.01, y + 0.01]]
    ring = [[x, y], [x + 0.01, y], [x + 0.01, y + 0.01], [x, y]]
    shapes = {
        "Point": [x, y],
        "LineString": line,
        "MultiLineString": [line],
        "Polygon": [ring],
        "MultiPolygon": [[ring]],
    }
    if kind not in shapes:
        return geometry
    out = {"type": kind, "coordinates": shapes[kind]}
    return json.dumps(out) if isinstance(geometry, str) else out


@schemathesis.hook
def map_case(ctx, case):
    # Only schema-valid (positive) cases are kept to the rules between values: a negative case
    # is meant to be refused, and is left exactly as generated.
    meta = getattr(case, "meta", None)
    if meta is not None and not meta.generation.mode.is_positive:
        return case
    if isinstance(case.body, dict) and case.body.get("type") == "Feature":
        # A feature's geometry valid as a whole (closed rings, two different positions), and
        # its id left to the server (an id must be unused: state, not shape).
        if isinstance(case.body.get("geometry"), dict):
            case.body["geometry"] = _small_valid(case.body["geometry"])
        case.body.pop("id", None)
    if isinstance(case.body, dict) and isinstance(case.body.get("geometry"), dict) and case.method.upper() == "PATCH":
        case.body["geometry"] = _small_valid(case.body["geometry"])
    if isinstance(case.query, dict) and "intersects" in case.query:
        case.query["intersects"] = _small_valid(case.query["intersects"])
    if isinstance(case.query, dict) and case.query and (case.path_parameters or {}).get("file") == "briefing.png":
        case.query.pop("pack", None)  # a pack of pages is a PDF
    if isinstance(case.query, dict) and case.query:
        case.query = _repair(case.operation.path, dict(case.query))
    return case
