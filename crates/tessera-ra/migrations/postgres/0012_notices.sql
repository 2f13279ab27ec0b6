-- The notices sent to holders (renewal from 60 days before expiry; a renewal still
-- waiting for approval), each once per certificate and kind.
CREATE TABLE notices (
    serial  TEXT NOT NULL,
    kind    TEXT NOT NULL,
    sent_at BIGINT NOT NULL,
    PRIMARY KEY (serial, kind)
);
