-- Need to know: accounts, web sessions, API tokens, the append-only audit log, and the weekly
-- counts kept after incidents are purged (gallring). Times are RFC 3339 text in UTC, whole seconds.
CREATE TABLE users (
    name           TEXT PRIMARY KEY,
    display_name   TEXT NOT NULL,
    organisation   TEXT NOT NULL,
    role           TEXT NOT NULL,
    password_hash  TEXT NOT NULL,               -- argon2id PHC string
    disabled       INTEGER NOT NULL DEFAULT 0,
    failed_logins  INTEGER NOT NULL DEFAULT 0,
    locked_until   TEXT,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL
);

CREATE TABLE sessions (
    token_hash  BLOB PRIMARY KEY,               -- SHA-256 of the cookie value; the value is never stored
    user_name   TEXT NOT NULL REFERENCES users (name),
    csrf_token  TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    ended_at    TEXT,
    address     TEXT
);
CREATE INDEX sessions_user ON sessions (user_name);

CREATE TABLE api_tokens (
    id            BLOB PRIMARY KEY,             -- UUID
    token_hash    BLOB NOT NULL UNIQUE,         -- SHA-256 of the token; the token is shown once
    user_name     TEXT NOT NULL REFERENCES users (name),
    label         TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    expires_at    TEXT,
    revoked_at    TEXT
);

CREATE TABLE audit_log (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    at        TEXT NOT NULL,
    actor     TEXT NOT NULL,
    role      TEXT,
    action    TEXT NOT NULL,
    layer     TEXT,
    features  TEXT,                             -- JSON array of feature ids
    bbox      TEXT,                             -- min_lon,min_lat,max_lon,max_lat
    address   TEXT,
    outcome   TEXT NOT NULL,
    detail    TEXT
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;

CREATE TABLE incident_weekly_counts (
    week      TEXT NOT NULL,                    -- ISO week, e.g. 2024-W07
    area      TEXT NOT NULL,                    -- area name, or '' outside every area
    category  TEXT NOT NULL,
    count     INTEGER NOT NULL CHECK (count >= 0),
    PRIMARY KEY (week, area, category)
);
