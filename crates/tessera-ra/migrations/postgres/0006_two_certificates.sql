-- Requests with two certificates (cns+signature): the certificate profiles already
-- confirmed (comma-separated names) and the one waiting for certConf.
ALTER TABLE requests ADD COLUMN confirmed_profiles TEXT NOT NULL DEFAULT '';
ALTER TABLE requests ADD COLUMN pending_profile TEXT;
