-- Need to know: accounts, web sessions, API tokens, the append-only audit log, and the weekly
-- counts kept after incidents are purged (gallring).
CREATE TABLE users (
    name           text PRIMARY KEY,
    display_name   text NOT NULL,
    organisation   text NOT NULL,
    role           text NOT NULL,
    password_hash  text NOT NULL,               -- argon2id PHC string
    disabled       boolean NOT NULL DEFAULT false,
    failed_logins  bigint NOT NULL DEFAULT 0,
    locked_until   timestamptz,
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL
);

CREATE TABLE sessions (
    token_hash  bytea PRIMARY KEY,              -- SHA-256 of the cookie value; the value is never stored
    user_name   text NOT NULL REFERENCES users (name),
    csrf_token  text NOT NULL,
    created_at  timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL,
    ended_at    timestamptz,
    address     text
);
CREATE INDEX sessions_user ON sessions (user_name);

CREATE TABLE api_tokens (
    id            uuid PRIMARY KEY,
    token_hash    bytea NOT NULL UNIQUE,        -- SHA-256 of the token; the token is shown once
    user_name     text NOT NULL REFERENCES users (name),
    label         text NOT NULL,
    created_at    timestamptz NOT NULL,
    expires_at    timestamptz,
    revoked_at    timestamptz
);

CREATE TABLE audit_log (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at        timestamptz NOT NULL,
    actor     text NOT NULL,
    role      text,
    action    text NOT NULL,
    layer     text,
    features  text,                             -- JSON array of feature ids
    bbox      text,                             -- min_lon,min_lat,max_lon,max_lat
    address   text,
    outcome   text NOT NULL,
    detail    text
);
CREATE INDEX audit_log_at ON audit_log (at);

CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only';
END;
$$;
CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();

CREATE TABLE incident_weekly_counts (
    week      text NOT NULL,                    -- ISO week, e.g. 2024-W07
    area      text NOT NULL,                    -- area name, or '' outside every area
    category  text NOT NULL,
    count     bigint NOT NULL CHECK (count >= 0),
    PRIMARY KEY (week, area, category)
);
