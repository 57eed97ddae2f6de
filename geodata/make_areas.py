#!/usr/bin/env python3
"""Authors geodata/areas.geojson: approximate district outlines for Botkyrka and Södertälje.

Each outline is a smooth irregular 12-gon around a centre placed by hand from public reference
facts (station positions, the police's rough area markers; see geodata/README.md). They are
NOT official boundaries and say so in their properties. Re-run to regenerate:
    python3 geodata/make_areas.py > geodata/areas.geojson
"""
import json
import math

# name, municipality, centre lon, lat, radius east-west m, north-south m, classification, year, reference
AREAS = [
    ("Alby", "Botkyrka", 17.8480, 59.2360, 650, 480, "utsatt", 2025, "Alby metro station"),
    ("Fittja", "Botkyrka", 17.8570, 59.2455, 520, 420, "sarskilt_utsatt", 2025, "Fittja metro station"),
    ("Hallunda", "Botkyrka", 17.8270, 59.2405, 480, 430, "sarskilt_utsatt", 2025, "Hallunda metro station (police area Hallunda/Norsborg)"),
    ("Norsborg", "Botkyrka", 17.8085, 59.2410, 430, 420, "sarskilt_utsatt", 2025, "Norsborg metro station (police area Hallunda/Norsborg)"),
    ("Tumba", "Botkyrka", 17.8330, 59.2010, 700, 560, None, None, "Tumba railway station"),
    ("Storvreten", "Botkyrka", 17.8560, 59.1920, 450, 380, "utsatt", 2025, "south-east of Tumba railway station"),
    ("Tullinge", "Botkyrka", 17.9050, 59.2060, 800, 600, None, None, "Tullinge railway station"),
    ("Ronna", "Södertälje", 17.6060, 59.2060, 480, 380, "sarskilt_utsatt", 2023, "police marker Ronna/Geneta/Lina hage"),
    ("Geneta", "Södertälje", 17.5910, 59.2130, 430, 360, "sarskilt_utsatt", 2023, "police marker Ronna/Geneta/Lina hage"),
    ("Lina hage", "Södertälje", 17.6180, 59.2165, 380, 300, "sarskilt_utsatt", 2023, "police marker Ronna/Geneta/Lina hage"),
    ("Hovsjö", "Södertälje", 17.6010, 59.1690, 480, 360, "sarskilt_utsatt", 2023, "police marker Hovsjö"),
    ("Fornhöjden", "Södertälje", 17.6330, 59.1710, 400, 330, "utsatt", 2019, "between Södertälje Syd and Södertälje hamn stations"),
    ("Saltskog", "Södertälje", 17.6680, 59.1770, 420, 330, "utsatt", 2023, "east of Östertälje railway station"),
    ("Södertälje centrum", "Södertälje", 17.6280, 59.1950, 520, 420, None, None, "Södertälje C railway station"),
]

M_PER_DEG_LAT = 111_320.0


def outline(lon, lat, rx, ry, seed):
    ring = []
    for i in range(12):
        t = 2 * math.pi * i / 12
        wobble = 1 + 0.10 * math.sin(3 * t + seed) + 0.05 * math.cos(5 * t + 2 * seed)
        dx = rx * wobble * math.cos(t)
        dy = ry * wobble * math.sin(t)
        ring.append([round(lon + dx / (M_PER_DEG_LAT * math.cos(math.radians(lat))), 6),
                     round(lat + dy / M_PER_DEG_LAT, 6)])
    ring.append(ring[0])
    return ring


features = []
for i, (name, kommun, lon, lat, rx, ry, cls, year, ref) in enumerate(AREAS):
    props = {
        "name": name,
        "municipality": kommun,
        "approximate": True,
        "source": f"Approximate outline drawn by the lagesbild project around {ref}; not an official boundary.",
        "organisation": "lagesbild (approximate geodata)",
        "classification": "open",
    }
    if cls:
        props["police_classification"] = cls
        props["classification_year"] = year
    features.append({"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [outline(lon, lat, rx, ry, i * 0.7)]},
                     "properties": props})

print(json.dumps({"type": "FeatureCollection", "name": "areas", "features": features}, ensure_ascii=False, indent=1))
