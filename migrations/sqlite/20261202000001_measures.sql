-- Åtgärder (measures): a seventh layer. SQLite cannot change a CHECK constraint in place, so the
-- table is rebuilt with the new list (same columns, same rows, same indexes) in this migration's
-- transaction.
CREATE TABLE features_new (
    id             BLOB PRIMARY KEY,
    layer          TEXT NOT NULL CHECK (layer IN ('incidents', 'risk_environments', 'cameras', 'patrol_routes', 'walks', 'areas', 'measures')),
    geom           BLOB NOT NULL,
    min_lon        REAL NOT NULL,
    min_lat        REAL NOT NULL,
    max_lon        REAL NOT NULL,
    max_lat        REAL NOT NULL,
    category       TEXT,
    status         TEXT,
    time_start     TEXT,
    time_end       TEXT,
    organisation   TEXT NOT NULL,
    classification TEXT NOT NULL CHECK (classification IN ('open', 'internal', 'restricted')),
    properties     TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL,
    created_by     TEXT NOT NULL,
    version        INTEGER NOT NULL CHECK (version >= 1),
    deleted_at     TEXT,
    deleted_by     TEXT
);
INSERT INTO features_new SELECT id, layer, geom, min_lon, min_lat, max_lon, max_lat, category, status,
    time_start, time_end, organisation, classification, properties, created_at, updated_at, created_by,
    version, deleted_at, deleted_by FROM features;
DROP TABLE features;
ALTER TABLE features_new RENAME TO features;
CREATE INDEX features_live_layer ON features (layer) WHERE deleted_at IS NULL;
CREATE INDEX features_layer_time ON features (layer, time_start);
