-- Holders registered by operators (a request copies the holder's name and tax code, so
-- the subject of its certificates does not change if the holder record is edited later).
CREATE TABLE holders (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    given_name TEXT NOT NULL,
    surname    TEXT NOT NULL,
    cf         TEXT,
    passport   TEXT,
    mobile     TEXT,
    email      TEXT,
    cf_forced  INTEGER NOT NULL DEFAULT 0,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

ALTER TABLE requests ADD COLUMN holder_id INTEGER REFERENCES holders(id);
ALTER TABLE requests ADD COLUMN created_by TEXT;
