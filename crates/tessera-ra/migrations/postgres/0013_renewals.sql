-- Renewal requests (DOMAIN.md, Renewal): communicated (waiting for the form's signature),
-- forwarded (signed, waiting for the new certificate), completed, expired, cancelled.
-- At most one open renewal per certificate, across instances (the partial index).
CREATE TABLE renewals (
    id               TEXT PRIMARY KEY,
    serial           TEXT NOT NULL,
    reference        TEXT NOT NULL,
    state            TEXT NOT NULL,
    form             TEXT NOT NULL,
    contract_version TEXT NOT NULL,
    created_at       BIGINT NOT NULL,
    expires_at       BIGINT NOT NULL,
    signed_at        BIGINT,
    signed_form      TEXT,
    completed_at     BIGINT,
    new_serial       TEXT,
    cancelled_by     TEXT
);
CREATE UNIQUE INDEX renewals_open ON renewals (serial) WHERE state IN ('communicated', 'forwarded');
