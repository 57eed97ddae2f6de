"""Rules between parameters that no JSON Schema can state, told to the fuzzer.

The OpenAPI document types every parameter as its parser reads it; what it cannot say is how
values relate: bbox, near and intersects exclude each other; distance goes with intersects;
area excludes bbox; a box's west edge is not east of its east edge, nor its south edge north
of its north edge; an interval does not end before it starts; a briefing's from is not after
its to. Generated requests are kept to those rules (the server answers 400 naming the
parameter when a client breaks one; tests/api/bad_input.rs checks that). Nothing else is
changed: every other value is the fuzzer's own.
"""
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


def _ordered_box(value):
    nums = _numbers(value)
    if not nums or len(nums) != 4 or not all(isinstance(n, (int, float)) for n in nums):
        return value  # not four numbers: the server refuses it, as it should
    w, s, e, n = nums
    return [min(w, e), min(s, n), max(w, e), max(s, n)]


@schemathesis.hook
def map_query(ctx, query):
    if not query:
        return query
    spatial = [k for k in ("bbox", "near", "intersects") if k in query]
    for k in spatial[1:]:
        del query[k]
    if "distance" in query and "intersects" not in query:
        del query["distance"]
    if "area" in query and "bbox" in query:
        del query["bbox"]
    if "pack" in query:
        query.pop("area", None)
        query.pop("bbox", None)
    if "bbox" in query:
        query["bbox"] = _ordered_box(query["bbox"])
    if "datetime" in query and isinstance(query["datetime"], str) and "/" in query["datetime"]:
        a, _, b = query["datetime"].partition("/")
        if a and b and a not in ("..",) and b not in ("..",) and a > b:
            query["datetime"] = f"{b}/{a}"
    if "from" in query and "to" in query and isinstance(query["from"], str) and query["from"] > query["to"]:
        query["from"], query["to"] = query["to"], query["from"]
    return query
