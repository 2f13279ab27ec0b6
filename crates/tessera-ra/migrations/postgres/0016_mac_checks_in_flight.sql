-- CMP MAC checks in flight, counted apart from the wrong ones: a check is reserved before
-- it is made (so that at most five wrong ones are made per round under any concurrency),
-- and a right one is never counted as wrong. A reservation older than a minute was lost
-- with its process and no longer counts.
ALTER TABLE requests ADD COLUMN mac_pending BIGINT NOT NULL DEFAULT 0;
ALTER TABLE requests ADD COLUMN mac_pending_at BIGINT NOT NULL DEFAULT 0;
