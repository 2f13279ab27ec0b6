-- The request forms the RA made for a request (their SHA-256): a form signed remotely
-- must be one of them, byte for byte.
CREATE TABLE request_forms (
    reference TEXT NOT NULL,
    digest    TEXT NOT NULL,
    made_at   BIGINT NOT NULL,
    PRIMARY KEY (reference, digest)
);
