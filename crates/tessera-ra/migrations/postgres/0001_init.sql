-- The same schema as migrations/sqlite (0001 to 0005), for PostgreSQL. DER values and
-- identifiers are hex TEXT, times Unix seconds, flags and counters BIGINT.
CREATE TABLE holders (
    id         BIGSERIAL PRIMARY KEY,
    given_name TEXT NOT NULL,
    surname    TEXT NOT NULL,
    cf         TEXT,
    passport   TEXT,
    mobile     TEXT,
    email      TEXT,
    cf_forced  BIGINT NOT NULL DEFAULT 0,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE requests (
    reference      TEXT PRIMARY KEY,
    secret         TEXT NOT NULL,
    given_name     TEXT NOT NULL,
    surname        TEXT NOT NULL,
    cf             TEXT NOT NULL,
    profile        TEXT NOT NULL,
    issuance       TEXT NOT NULL DEFAULT 'waiting',
    transaction_id TEXT,
    cert_hash      TEXT,
    code_hash      TEXT,
    mobile         TEXT,
    armed          BIGINT NOT NULL DEFAULT 0,
    failures       BIGINT NOT NULL DEFAULT 0,
    holder_id      BIGINT REFERENCES holders(id),
    created_by     TEXT
);
CREATE UNIQUE INDEX requests_by_code ON requests(code_hash);

CREATE TABLE certificates (
    serial       TEXT PRIMARY KEY,
    reference    TEXT NOT NULL REFERENCES requests(reference),
    der          TEXT NOT NULL,
    issued_at    BIGINT NOT NULL,
    state        TEXT NOT NULL DEFAULT 'active',
    state_since  BIGINT,
    reason       BIGINT,
    approval     TEXT,
    approval_due BIGINT,
    seq          BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX certificates_by_reference ON certificates(reference);

CREATE TABLE otps (
    reference  TEXT PRIMARY KEY REFERENCES requests(reference),
    otp_hash   TEXT NOT NULL,
    sent_at    BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);

CREATE TABLE outbox (
    id        BIGSERIAL PRIMARY KEY,
    at        BIGINT NOT NULL,
    channel   TEXT NOT NULL,
    recipient TEXT NOT NULL,
    body      TEXT NOT NULL
);

CREATE TABLE audit (
    id      BIGSERIAL PRIMARY KEY,
    at      BIGINT NOT NULL,
    actor   TEXT NOT NULL,
    action  TEXT NOT NULL,
    subject TEXT NOT NULL,
    detail  TEXT NOT NULL
);
