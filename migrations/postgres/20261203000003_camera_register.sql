-- Cameras after the law change of 1 April 2025 (issue 15): no camera permit any more, but the
-- camera's own documented balancing of interests. A permit's reference is kept as the
-- assessment's reference, and the row's version is raised (its ETag changes with its content);
-- the other register fields (purpose, assessment date, next review, operator, last checked,
-- resolution, mounting height) start empty. The change log's triggers record the rewritten
-- rows. Older binaries do not know the new fields: upgrade every instance together (stop,
-- migrate, start).
UPDATE features
SET properties = (properties - 'permit_reference')
    || jsonb_build_object('assessment_reference', properties -> 'permit_reference'),
    version = version + 1
WHERE layer = 'cameras' AND properties ? 'permit_reference';

DROP VIEW cameras;
CREATE VIEW cameras AS
    SELECT id, geom, category AS owner, status, (properties->>'direction')::float8 AS direction,
           (properties->>'field_of_view')::float8 AS field_of_view, (properties->>'range_m')::float8 AS range_m,
           properties->>'purpose' AS purpose, (properties->>'assessment_date')::date AS assessment_date,
           properties->>'assessment_reference' AS assessment_reference,
           (properties->>'next_review')::date AS next_review,
           COALESCE((properties->>'next_review')::date < current_date, false) AS stale,
           properties->>'operator' AS operator, (properties->>'last_checked')::date AS last_checked,
           (properties->>'resolution_px')::int AS resolution_px,
           (properties->>'mounting_height_m')::float8 AS mounting_height_m,
           organisation, classification, updated_at, version
    FROM features WHERE layer = 'cameras' AND deleted_at IS NULL;
