-- Cameras after the law change of 1 April 2025 (issue 15): no camera permit any more, but the
-- camera's own documented balancing of interests. A permit's reference is kept as the
-- assessment's reference, and the row's version is raised (its ETag changes with its content);
-- the other register fields start empty. The change log's triggers record the rewritten rows
-- (so an index snapshot replays them). Older binaries do not know the new fields.
UPDATE features
SET properties = json_set(json_remove(properties, '$.permit_reference'),
                          '$.assessment_reference', json_extract(properties, '$.permit_reference')),
    version = version + 1
WHERE layer = 'cameras' AND json_type(properties, '$.permit_reference') IS NOT NULL;
