-- The registration office's console: offices, operator accounts (argon2id password hash,
-- TOTP secret sealed like activation codes, the last TOTP step accepted so that a code
-- is taken once, wrong tries that make the account wait), console sessions (the cookie's
-- SHA-256 only; kept here so that they hold across RA instances), per-account API tokens
-- (SHA-256 only), and holders and requests belonging to an office. The audit log becomes
-- a hash chain: each entry's hash covers the previous one's, audit_head keeps the last.
CREATE TABLE offices (
    code       TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE operators (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    name              TEXT NOT NULL UNIQUE,
    office            TEXT NOT NULL REFERENCES offices(code),
    role              TEXT NOT NULL,
    email             TEXT,
    password_hash     TEXT NOT NULL,
    must_change       BIGINT NOT NULL DEFAULT 1,
    totp_sealed       TEXT NOT NULL,
    totp_step         BIGINT NOT NULL DEFAULT 0,
    totp_drift        BIGINT NOT NULL DEFAULT 0,
    failures          BIGINT NOT NULL DEFAULT 0,
    retry_at          BIGINT NOT NULL DEFAULT 0,
    disabled          BIGINT NOT NULL DEFAULT 0,
    created_at        BIGINT NOT NULL,
    created_by        TEXT NOT NULL,
    last_sign_in      BIGINT,
    last_sign_in_from TEXT
);

CREATE TABLE console_sessions (
    id_hash     TEXT PRIMARY KEY,
    operator_id BIGINT NOT NULL REFERENCES operators(id),
    stage       TEXT NOT NULL,
    csrf        TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    last_seen   BIGINT NOT NULL,
    address     TEXT
);
CREATE INDEX console_sessions_by_operator ON console_sessions(operator_id);

CREATE TABLE operator_tokens (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    operator_id  BIGINT NOT NULL REFERENCES operators(id),
    label        TEXT NOT NULL,
    token_sha256 TEXT NOT NULL UNIQUE,
    created_at   BIGINT NOT NULL,
    revoked_at   BIGINT,
    last_used_at BIGINT
);

ALTER TABLE holders ADD COLUMN office TEXT;
ALTER TABLE requests ADD COLUMN office TEXT;
CREATE INDEX requests_by_office ON requests(office);
CREATE INDEX holders_by_office ON holders(office);

ALTER TABLE audit ADD COLUMN office TEXT;
ALTER TABLE audit ADD COLUMN address TEXT;
ALTER TABLE audit ADD COLUMN seq BIGINT;
ALTER TABLE audit ADD COLUMN hash TEXT;
CREATE TABLE audit_head (
    id   BIGINT PRIMARY KEY,
    seq  BIGINT NOT NULL,
    hash TEXT NOT NULL
);
