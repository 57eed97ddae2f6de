-- lagesbild on SQLite: all layers in one table, geometry as WKB (WGS84, EPSG:4326).
-- The bounding-box columns let plain SQL filter by area without a spatial extension.
CREATE TABLE features (
    id             BLOB PRIMARY KEY,            -- UUID, 16 bytes
    layer          TEXT NOT NULL CHECK (layer IN ('incidents', 'risk_environments', 'cameras', 'patrol_routes', 'walks', 'areas')),
    geom           BLOB NOT NULL,               -- OGC WKB, lon/lat WGS84
    min_lon        REAL NOT NULL,
    min_lat        REAL NOT NULL,
    max_lon        REAL NOT NULL,
    max_lat        REAL NOT NULL,
    category       TEXT,
    status         TEXT,
    time_start     TEXT,                        -- RFC 3339, NULL when the layer has no time
    time_end       TEXT,                        -- RFC 3339, NULL when open or timeless
    organisation   TEXT NOT NULL,
    classification TEXT NOT NULL CHECK (classification IN ('open', 'internal', 'restricted')),
    properties     TEXT NOT NULL,               -- JSON object of the layer's own fields
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL,
    created_by     TEXT NOT NULL,
    version        INTEGER NOT NULL CHECK (version >= 1),
    deleted_at     TEXT,                        -- soft delete: kept for audit and retention
    deleted_by     TEXT
);

CREATE INDEX features_live_layer ON features (layer) WHERE deleted_at IS NULL;
CREATE INDEX features_layer_time ON features (layer, time_start);
