-- How far the audit journal (`store::audit_journal`) has been moved into `audit_log`: records
-- of the journal files numbered at or below `moved` are in the table, and are skipped when the
-- files are read again after a stop that came before they were cut.
CREATE TABLE audit_journal (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    moved INTEGER NOT NULL
);
INSERT INTO audit_journal (id, moved) VALUES (1, 0);
