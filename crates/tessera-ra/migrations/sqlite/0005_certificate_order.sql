-- The order certificates were issued in (for "the newest certificate of a request"),
-- portable to PostgreSQL (which has no rowid).
ALTER TABLE certificates ADD COLUMN seq BIGINT NOT NULL DEFAULT 0;
UPDATE certificates SET seq = rowid;
