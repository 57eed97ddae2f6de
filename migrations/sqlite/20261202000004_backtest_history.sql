-- The weekly back-test's scores, kept: one row per scope (what the caller could see: precision,
-- ceiling and categories), ISO week and method, so the history outlives the incidents' retention.
CREATE TABLE backtest_history (
    scope       TEXT NOT NULL,
    week        TEXT NOT NULL,               -- ISO week, e.g. 2026-W48
    method      TEXT NOT NULL,               -- naive, kde, gi_star
    incidents   REAL NOT NULL,
    hit_rate    REAL NOT NULL,
    pai         REAL NOT NULL,
    pei_star    REAL NOT NULL,
    stability   REAL,
    computed_at TEXT NOT NULL,
    PRIMARY KEY (scope, week, method)
);
