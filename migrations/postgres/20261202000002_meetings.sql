-- Chefssamrådets möten: one record per meeting; changed only while open, then closed for good
-- (corrections are new records naming the one they correct).
CREATE TABLE meetings (
    id             uuid PRIMARY KEY,
    week           TEXT NOT NULL,               -- ISO week, e.g. 2026-W49
    held_on        TEXT NOT NULL,               -- YYYY-MM-DD, within the week
    organisations  TEXT NOT NULL,               -- JSON array of organisations present (never persons)
    minutes        TEXT NOT NULL,
    decisions      TEXT NOT NULL,               -- JSON array of {measure, change}
    corrects       uuid,                   -- the closed meeting this record corrects
    classification TEXT NOT NULL CHECK (classification IN ('open', 'internal', 'restricted')),
    created_at     timestamptz NOT NULL,
    created_by     TEXT NOT NULL,
    closed_at      timestamptz,
    version        BIGINT NOT NULL CHECK (version >= 1)
);
CREATE INDEX meetings_held_on ON meetings (held_on);
