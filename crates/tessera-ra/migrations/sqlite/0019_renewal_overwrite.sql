-- A fixed-slot card's renewal, authorised with the expiring key before its slot is
-- overwritten: the renewal code (sealed; the CMP secret that completes the renewal without
-- the old key), when it was authorised, when it was last sent and how often. Wrong codes wait like
-- wrong MACs, on the request's own counters.
ALTER TABLE renewals ADD COLUMN overwrite_code TEXT;
ALTER TABLE renewals ADD COLUMN overwrite_at BIGINT;
ALTER TABLE renewals ADD COLUMN overwrite_sent_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE renewals ADD COLUMN overwrite_sends BIGINT NOT NULL DEFAULT 0;
