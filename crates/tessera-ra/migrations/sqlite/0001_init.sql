-- Requests [pratiche] registered by operators, the certificates issued for them, and the
-- audit log. DER values and identifiers are hex TEXT, times are Unix seconds: the same
-- columns work on PostgreSQL (migrations/postgres, next).
CREATE TABLE requests (
    reference      TEXT PRIMARY KEY,
    secret         TEXT NOT NULL,
    given_name     TEXT NOT NULL,
    surname        TEXT NOT NULL,
    cf             TEXT NOT NULL,
    profile        TEXT NOT NULL,
    issuance       TEXT NOT NULL DEFAULT 'waiting',
    transaction_id TEXT,
    cert_hash      TEXT
);

CREATE TABLE certificates (
    serial      TEXT PRIMARY KEY,
    reference   TEXT NOT NULL REFERENCES requests(reference),
    der         TEXT NOT NULL,
    issued_at   BIGINT NOT NULL,
    state       TEXT NOT NULL DEFAULT 'active',
    state_since BIGINT,
    reason      BIGINT
);

CREATE INDEX certificates_by_reference ON certificates(reference);

CREATE TABLE audit (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    at      BIGINT NOT NULL,
    actor   TEXT NOT NULL,
    action  TEXT NOT NULL,
    subject TEXT NOT NULL,
    detail  TEXT NOT NULL
);
