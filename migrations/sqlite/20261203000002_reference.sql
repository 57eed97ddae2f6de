-- Reference layers: public base data the analyses use but the picture does not show (building
-- footprints that block camera views, the walkable path network routes are suggested over).
-- Not under need to know. An import replaces a kind whole, in one transaction.
CREATE TABLE reference_features (
    kind TEXT NOT NULL CHECK (kind IN ('buildings', 'paths')),
    seq  INTEGER NOT NULL,
    wkb  BLOB NOT NULL,                      -- WKB, EPSG:4326
    PRIMARY KEY (kind, seq)
);

CREATE TABLE reference_sources (
    kind        TEXT PRIMARY KEY CHECK (kind IN ('buildings', 'paths')),
    source      TEXT NOT NULL,
    features    INTEGER NOT NULL,
    imported_at TEXT NOT NULL
);
