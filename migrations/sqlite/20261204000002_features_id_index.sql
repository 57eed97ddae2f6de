-- The id's uniqueness as a named unique index instead of the table's PRIMARY KEY (issue 17).
-- A primary key's index belongs to the table and cannot be dropped, so a first import kept
-- inserting a million random UUIDs into it one by one; a unique index is set aside with the
-- other indexes and built once, sorted, before the commit (a million-row import 1 s faster),
-- and a repeated id still fails the commit there. The table is rebuilt in this migration's
-- transaction (SQLite cannot drop a primary key in place): the same columns and CHECKs, with
-- `id` now NOT NULL (SQLite's BLOB primary key did not enforce it; lagesbild never wrote a
-- NULL id), the same rows under the same rowids (the change log's bulk entries follow rowid
-- order), then the indexes and the change log's triggers, which dropping the old table took
-- with it. The copy writes no change-log entries: no feature changed.
CREATE TABLE features_new (
    id             BLOB NOT NULL,               -- UUID, 16 bytes; unique (features_id below)
    layer          TEXT NOT NULL CHECK (layer IN ('incidents', 'risk_environments', 'cameras', 'patrol_routes', 'walks', 'areas', 'measures')),
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
INSERT INTO features_new (rowid, id, layer, geom, min_lon, min_lat, max_lon, max_lat, category,
    status, time_start, time_end, organisation, classification, properties, created_at, updated_at,
    created_by, version, deleted_at, deleted_by)
SELECT rowid, id, layer, geom, min_lon, min_lat, max_lon, max_lat, category, status, time_start,
    time_end, organisation, classification, properties, created_at, updated_at, created_by,
    version, deleted_at, deleted_by
FROM features ORDER BY rowid;
DROP TABLE features;
ALTER TABLE features_new RENAME TO features;

CREATE UNIQUE INDEX features_id ON features (id);
CREATE INDEX features_live_layer ON features (layer) WHERE deleted_at IS NULL;
CREATE INDEX features_layer_time ON features (layer, time_start);

CREATE TRIGGER features_changes_insert AFTER INSERT ON features
BEGIN
    INSERT INTO changes (id, layer) VALUES (NEW.id, NEW.layer);
END;

CREATE TRIGGER features_changes_update AFTER UPDATE ON features
BEGIN
    INSERT INTO changes (id, layer)
        SELECT OLD.id, OLD.layer WHERE OLD.id IS NOT NEW.id OR OLD.layer IS NOT NEW.layer;
    INSERT INTO changes (id, layer) VALUES (NEW.id, NEW.layer);
END;

CREATE TRIGGER features_changes_delete AFTER DELETE ON features
BEGIN
    INSERT INTO changes (id, layer) VALUES (OLD.id, OLD.layer);
END;
