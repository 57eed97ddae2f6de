-- lagesbild on PostGIS: all layers in one table with a GiST-indexed geometry(…, 4326) column,
-- and one view per layer so QGIS or plain SQL can read each layer directly.
CREATE EXTENSION IF NOT EXISTS postgis;

CREATE TABLE features (
    id             uuid PRIMARY KEY,
    layer          text NOT NULL CHECK (layer IN ('incidents', 'risk_environments', 'cameras', 'patrol_routes', 'walks', 'areas')),
    geom           geometry(Geometry, 4326) NOT NULL,
    category       text,
    status         text,
    time_start     timestamptz,
    time_end       timestamptz,
    organisation   text NOT NULL,
    classification text NOT NULL CHECK (classification IN ('open', 'internal', 'restricted')),
    properties     jsonb NOT NULL,
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL,
    created_by     text NOT NULL,
    version        bigint NOT NULL CHECK (version >= 1),
    deleted_at     timestamptz,
    deleted_by     text
);

CREATE INDEX features_geom_gist ON features USING gist (geom);
CREATE INDEX features_live_layer ON features (layer) WHERE deleted_at IS NULL;
CREATE INDEX features_layer_time ON features (layer, time_start);

-- Per-layer views of live features (what QGIS should open).
CREATE VIEW incidents AS
    SELECT id, geom, category, status, time_start AS occurred_at,
           (properties->>'severity')::int AS severity, properties->>'reference' AS reference,
           properties->>'description' AS description, organisation, classification,
           created_at, updated_at, created_by, version
    FROM features WHERE layer = 'incidents' AND deleted_at IS NULL;

CREATE VIEW risk_environments AS
    SELECT id, geom, category AS kind, properties->>'level' AS level, status,
           (properties->>'since')::date AS since, (properties->>'last_assessed')::date AS last_assessed,
           (properties->>'next_review')::date AS next_review, properties->>'assessed_by' AS assessed_by,
           (status = 'active' AND (properties->>'next_review')::date < current_date) AS stale,
           properties->>'description' AS description, organisation, classification, updated_at, version
    FROM features WHERE layer = 'risk_environments' AND deleted_at IS NULL;

CREATE VIEW cameras AS
    SELECT id, geom, category AS owner, status, (properties->>'direction')::float8 AS direction,
           (properties->>'field_of_view')::float8 AS field_of_view, (properties->>'range_m')::float8 AS range_m,
           properties->>'permit_reference' AS permit_reference, organisation, classification, updated_at, version
    FROM features WHERE layer = 'cameras' AND deleted_at IS NULL;

CREATE VIEW patrol_routes AS
    SELECT id, geom, properties->>'name' AS name, category AS kind, status, properties->'weekdays' AS weekdays,
           properties->>'start_time' AS start_time, properties->>'end_time' AS end_time,
           organisation, classification, updated_at, version
    FROM features WHERE layer = 'patrol_routes' AND deleted_at IS NULL;

CREATE VIEW walks AS
    SELECT id, geom, (properties->>'route_id')::uuid AS route_id, time_start AS started_at, time_end AS ended_at,
           (properties->>'walkers')::int AS walkers, properties->>'report' AS report,
           organisation, classification, updated_at, version
    FROM features WHERE layer = 'walks' AND deleted_at IS NULL;

CREATE VIEW areas AS
    SELECT id, geom, properties->>'name' AS name, properties->>'municipality' AS municipality,
           category AS police_classification, (properties->>'approximate')::boolean AS approximate,
           properties->>'source' AS source, organisation, classification, updated_at, version
    FROM features WHERE layer = 'areas' AND deleted_at IS NULL;
