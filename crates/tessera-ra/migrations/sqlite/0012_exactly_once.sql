-- Exactly-once issuance (RFC 9483 sections 3 and 5): each CMP transaction that issued a
-- certificate, with the hash of the request as received and the answer sent, so that a
-- retransmission gets the same answer and nothing is issued twice. Certificates wait
-- for certConf unconfirmed; rejected or never confirmed, they are revoked, never deleted.
CREATE TABLE cmp_transactions (
    transaction_id TEXT PRIMARY KEY,
    reference      TEXT NOT NULL REFERENCES requests(reference),
    request_hash   TEXT NOT NULL,
    answer         TEXT NOT NULL,
    answer_nonce   TEXT NOT NULL,
    serial         TEXT NOT NULL,
    created_at     BIGINT NOT NULL
);
CREATE INDEX cmp_transactions_by_reference ON cmp_transactions(reference);
-- Certificates from before this migration were confirmed or deleted: count them confirmed.
ALTER TABLE certificates ADD COLUMN confirmed BIGINT NOT NULL DEFAULT 1;
-- The certificate profile each was issued under, and the certificate a renewal replaces.
ALTER TABLE certificates ADD COLUMN profile TEXT;
ALTER TABLE certificates ADD COLUMN replaces TEXT;
