-- Incidents' time as a partial index on `time_start` alone, in place of `(layer, time_start)`
-- over every layer (issue 17). The only query by time in SQL is retention's, which always
-- names the incidents (`layer = 'incidents' AND time_start < ?`) and is answered from this
-- index; the other layers are small and read whole. Its keys are a third the size and compare
-- on one field, so a first import builds it in 1.08 s instead of 1.35 s for a million rows.
DROP INDEX features_layer_time;
CREATE INDEX features_incident_time ON features (time_start) WHERE layer = 'incidents';
