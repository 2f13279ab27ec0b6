-- Requests whose certificates are issued suspended until the registration office has
-- validated the paperwork (DOMAIN.md, activation step 5).
ALTER TABLE requests ADD COLUMN issued_suspended BIGINT NOT NULL DEFAULT 0;
