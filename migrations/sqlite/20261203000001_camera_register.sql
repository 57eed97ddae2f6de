-- Cameras after the law change of 1 April 2025 (issue 15): no camera permit any more, but the
-- camera's own documented balancing of interests. A permit's reference is kept as the
-- assessment's reference; the other register fields start empty. The change log's triggers
-- record the rewritten rows (so an index snapshot replays them).
UPDATE features
SET properties = json_set(json_remove(properties, '$.permit_reference'),
                          '$.assessment_reference', json_extract(properties, '$.permit_reference'))
WHERE layer = 'cameras' AND json_type(properties, '$.permit_reference') IS NOT NULL;
