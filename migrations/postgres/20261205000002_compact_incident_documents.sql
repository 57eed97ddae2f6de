-- Incidents' `properties` documents leave out what their row's columns hold (issue 17):
-- `category`, `status`, and `occurred_at` when it is a whole second in UTC (`time_start`), and a
-- missing `reference`. That is a third of the bytes and half the keys PostgreSQL parses into
-- jsonb on every import (a million incidents: 1.0–1.3 s of the database's own load time). Rows
-- written before keep every field and read as they did; the per-layer views read the columns
-- already. A server of an earlier release cannot read the shorter documents: this migration,
-- unknown to it, stops it from starting on a database that may hold them.
COMMENT ON COLUMN features.properties IS
    'The layer''s own fields. Incidents leave out category, status and occurred_at (a whole UTC second), which the columns category, status and time_start hold, and a missing reference; the incidents view shows them all.';
