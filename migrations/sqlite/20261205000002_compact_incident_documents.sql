-- Incidents' `properties` documents leave out what their row's columns hold (issue 17):
-- `category`, `status`, and `occurred_at` when it is a whole second in UTC (`time_start`), and a
-- missing `reference`. Rows written before keep every field and read as they did. Nothing in
-- the schema changes; a server of an earlier release cannot read the shorter documents, and
-- this migration, unknown to it, stops it from starting on a database that may hold them.
SELECT 1;
