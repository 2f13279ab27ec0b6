-- Holder activation: the activation code's hash (to find the request from it), the mobile
-- number the OTP goes to, whether the CMP reference is armed, and brute-force counters.
ALTER TABLE requests ADD COLUMN code_hash TEXT;
ALTER TABLE requests ADD COLUMN mobile TEXT;
ALTER TABLE requests ADD COLUMN armed INTEGER NOT NULL DEFAULT 0;
ALTER TABLE requests ADD COLUMN failures INTEGER NOT NULL DEFAULT 0;
CREATE UNIQUE INDEX requests_by_code ON requests(code_hash);

-- One pending OTP per request (hashed), with when it was sent and until when it is good.
CREATE TABLE otps (
    reference  TEXT PRIMARY KEY REFERENCES requests(reference),
    otp_hash   TEXT NOT NULL,
    sent_at    BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);

-- Messages for the SMS and e-mail gateways: the default gateway is this table (and a log
-- file beside the database).
CREATE TABLE outbox (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    at        BIGINT NOT NULL,
    channel   TEXT NOT NULL,
    recipient TEXT NOT NULL,
    body      TEXT NOT NULL
);
