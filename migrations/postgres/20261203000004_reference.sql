-- Reference layers: public base data the analyses use but the picture does not show (building
-- footprints that block camera views, the walkable path network routes are suggested over).
-- Not under need to know: a municipality's own copy of Lantmäteriet or OpenStreetMap data.
-- An import replaces a kind whole, in one transaction.
CREATE TABLE reference_features (
    kind text NOT NULL CHECK (kind IN ('buildings', 'paths')),
    seq  bigint NOT NULL,
    geom geometry(Geometry, 4326) NOT NULL,
    PRIMARY KEY (kind, seq)
);
CREATE INDEX reference_features_geom ON reference_features USING gist (geom);

CREATE TABLE reference_sources (
    kind        text PRIMARY KEY CHECK (kind IN ('buildings', 'paths')),
    source      text NOT NULL,
    features    bigint NOT NULL,
    imported_at timestamptz NOT NULL
);
