-- A contact change asked during a renewal (signed with the expiring key): the new mobile
-- and e-mail with each code's keyed hash, until the codes sent to them come back.
ALTER TABLE renewals ADD COLUMN contact_change TEXT;
ALTER TABLE renewals ADD COLUMN contact_expires BIGINT NOT NULL DEFAULT 0;
ALTER TABLE renewals ADD COLUMN contact_tries BIGINT NOT NULL DEFAULT 0;
