-- The change log's triggers no longer notify (issue 14: NOTIFY takes a global lock at commit,
-- so a notification in every writing transaction serialised the commits of all writers and
-- cost 44–49 % of write throughput at 16 writers). A server now sends the wake-up itself, after
-- its writes have committed, at most once every few milliseconds however many it makes
-- (`service::signal`); `lagesbild import` sends one when it is done. A write by any other
-- hand is found by the instances' regular look at the log (startup::FOLLOW_INTERVAL).
CREATE OR REPLACE FUNCTION lagesbild_log_rows() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO changes (id, layer) SELECT id, layer FROM new_rows;
    ELSIF TG_OP = 'UPDATE' THEN
        -- A row whose id or layer was changed by hand is logged under its old name too.
        INSERT INTO changes (id, layer)
            SELECT id, layer FROM new_rows
            UNION SELECT id, layer FROM old_rows;
    ELSE
        INSERT INTO changes (id, layer) SELECT id, layer FROM old_rows;
    END IF;
    RETURN NULL;
END
$$;
