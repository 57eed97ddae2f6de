-- Every change to a feature row, by any writer (an instance, an import on the command line, a
-- manual edit), so that several instances on one database keep their pictures in step (issue 14):
-- which feature changed, never what it holds. Triggers write it in the same transaction as the
-- change, so the log is never behind or ahead of the data.
--
-- Sequence numbers are drawn before commit, so on PostgreSQL a later number can commit first.
-- Each entry therefore also holds its transaction's id: a reader takes entries in (xid, seq)
-- order, and only those whose transaction is older than the oldest one still running
-- (pg_snapshot_xmin), so no entry can later appear behind the position it has reached.
CREATE TABLE changes (
    xid   bigint NOT NULL DEFAULT (pg_current_xact_id()::text::bigint),
    seq   bigserial NOT NULL,
    id    uuid NOT NULL,
    layer text NOT NULL,
    at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (xid, seq)
);

-- Entries up to here were pruned: an instance that had not reached it reloads its picture.
CREATE TABLE changes_pruned (
    xid bigint NOT NULL,
    seq bigint NOT NULL
);
INSERT INTO changes_pruned (xid, seq) VALUES (0, 0);

-- One statement-level trigger per kind of change, with the changed rows as transition tables:
-- a million-row COPY writes its entries in one INSERT … SELECT, not a million trigger calls.
-- The notification is only a wake-up for the instances listening (its payload is empty, so
-- PostgreSQL folds a transaction's notifications into one); a lost one loses nothing, since
-- an instance reads the log from where it stands.
CREATE FUNCTION lagesbild_log_rows() RETURNS trigger LANGUAGE plpgsql AS $$
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
    PERFORM pg_notify('lagesbild_changes', '');
    RETURN NULL;
END
$$;

CREATE TRIGGER features_changes_insert AFTER INSERT ON features
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION lagesbild_log_rows();
CREATE TRIGGER features_changes_update AFTER UPDATE ON features
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION lagesbild_log_rows();
CREATE TRIGGER features_changes_delete AFTER DELETE ON features
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION lagesbild_log_rows();
