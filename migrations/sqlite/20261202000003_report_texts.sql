-- The lägesbild document's own text (Lag 2023:196 § 4): "other relevant information" and the
-- analysis, one record per report period (e.g. 2026), changed at the version read.
CREATE TABLE report_texts (
    period         TEXT PRIMARY KEY,            -- e.g. 2026 or 2026-H2
    body           TEXT NOT NULL,               -- JSON: {other_information: [{heading, text}], analysis}
    classification TEXT NOT NULL CHECK (classification IN ('open', 'internal', 'restricted')),
    updated_at     TEXT NOT NULL,
    updated_by     TEXT NOT NULL,
    version        INTEGER NOT NULL CHECK (version >= 1)
);
