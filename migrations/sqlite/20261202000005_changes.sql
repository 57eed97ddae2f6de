-- Every change to a feature row, by any writer (the server, an import on the command line, a
-- manual edit), in commit order: which feature changed, never what it holds. A trigger writes
-- it in the same transaction as the change, so the log is never behind or ahead of the data.
-- The server uses it to trust its index snapshot at start-up and replay what came after
-- (issue 17); instances will follow it to stay in step (issue 14).
CREATE TABLE changes (
    seq   INTEGER PRIMARY KEY AUTOINCREMENT,
    id    BLOB NOT NULL,                       -- the feature's UUID
    layer TEXT NOT NULL
);

CREATE TRIGGER features_changes_insert AFTER INSERT ON features
BEGIN
    INSERT INTO changes (id, layer) VALUES (NEW.id, NEW.layer);
END;

-- A row whose id or layer was changed by hand is logged under its old name too, so that the
-- old one is taken out of the picture.
CREATE TRIGGER features_changes_update AFTER UPDATE ON features
BEGIN
    INSERT INTO changes (id, layer)
        SELECT OLD.id, OLD.layer WHERE OLD.id IS NOT NEW.id OR OLD.layer IS NOT NEW.layer;
    INSERT INTO changes (id, layer) VALUES (NEW.id, NEW.layer);
END;

CREATE TRIGGER features_changes_delete AFTER DELETE ON features
BEGIN
    INSERT INTO changes (id, layer) VALUES (OLD.id, OLD.layer);
END;

-- Which database this is, so an index snapshot is never applied to another one.
CREATE TABLE store_identity (
    id BLOB NOT NULL
);
INSERT INTO store_identity (id) VALUES (randomblob(16));
