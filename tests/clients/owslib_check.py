"""OWSLib, the OGC client library of the Python GIS world, reads lagesbild as a user would.

Run by tests/api/clients.rs: python owslib_check.py BASE TOKEN ROLE. Prints one line per
check; exits non-zero on the first that fails.
"""
import sys

from owslib.ogcapi.features import Features

base, token, role = sys.argv[1], sys.argv[2], sys.argv[3]
api = Features(base, headers={"Authorization": f"Bearer {token}"})


def check(ok, what):
    if not ok:
        print(f"not ok - {what}")
        sys.exit(1)
    print(f"ok - {what}")


conformance = api.conformance()["conformsTo"]
check(any(c.endswith("/conf/core") for c in conformance), "conformance lists Part 1 core")
document = api.api()
check(document["openapi"].startswith("3.0"), "the service-desc link gives an OpenAPI 3.0 document")
layers = api.feature_collections()
check(len(layers) > 0, f"feature collections: {layers}")
for layer in layers:
    items = api.collection_items(layer, limit=5)
    check(items["type"] == "FeatureCollection" and len(items["features"]) <= 5,
          f"{layer}: a page of {len(items['features'])} of {items['numberMatched']}")
    schema = api.collection_schema(layer)
    names = set(schema["properties"]["properties"]["properties"])
    for f in items["features"]:
        check(set(f["properties"]) == names, f"{layer}: every property the schema names")
    if items["features"]:
        one = api.collection_item(layer, items["features"][0]["id"])
        check(one["id"] == items["features"][0]["id"], f"{layer}: one feature by id")
if role == "admin":
    box = api.collection_items("incidents", bbox=[17.835, 59.232, 17.855, 59.245], limit=1000)
    inside = all(17.835 <= f["geometry"]["coordinates"][0] <= 17.855
                 and 59.232 <= f["geometry"]["coordinates"][1] <= 59.245 for f in box["features"])
    check(inside and box["numberMatched"] > 0, f"a bbox query: {box['numberMatched']} incidents in Alby")
if role == "night_walker":
    check("incidents" not in layers, "a count-only layer is not offered as features")
print("all OWSLib checks passed")
