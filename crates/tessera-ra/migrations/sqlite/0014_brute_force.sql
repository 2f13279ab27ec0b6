-- Brute force without locking holders out. An OTP is tried only inside the session its
-- SMS opened (activation code and tax code right): its keyed hash is kept with the OTP.
-- Wrong CMP MACs no longer lock a request for good: they make it wait (mac_retry_at,
-- Unix seconds) after every five, longer each time.
ALTER TABLE otps ADD COLUMN session_hash TEXT;
ALTER TABLE requests ADD COLUMN mac_failures BIGINT NOT NULL DEFAULT 0;
ALTER TABLE requests ADD COLUMN mac_retry_at BIGINT NOT NULL DEFAULT 0;
