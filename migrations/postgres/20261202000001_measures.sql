-- Åtgärder (measures): a seventh layer, and its view for QGIS.
ALTER TABLE features DROP CONSTRAINT features_layer_check;
ALTER TABLE features ADD CONSTRAINT features_layer_check
    CHECK (layer IN ('incidents', 'risk_environments', 'cameras', 'patrol_routes', 'walks', 'areas', 'measures'));

CREATE VIEW measures AS
    SELECT id, geom, properties->>'title' AS title, category AS kind, status,
           properties->'cause'->>'bone' AS cause_bone, properties->'cause'->>'text' AS cause,
           properties->>'owner' AS owner, properties->>'decided_at' AS decided_at,
           (properties->>'start')::date AS start, (properties->>'due')::date AS due,
           (properties->>'end')::date AS "end", properties->>'horizon' AS horizon,
           properties->'target_categories' AS target_categories,
           properties->>'description' AS description, organisation, classification, updated_at, version
    FROM features WHERE layer = 'measures' AND deleted_at IS NULL;
