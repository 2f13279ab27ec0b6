-- SMS codes are now kept keyed (HMAC with the activation-code key), not as SHA-256 of
-- reference and code: pending ones from before cannot be checked, so they go (a code
-- lives minutes; the holder asks for another).
DELETE FROM otps;
