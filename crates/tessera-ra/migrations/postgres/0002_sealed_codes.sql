-- As migrations/sqlite/0006.
-- Activation codes are no longer kept as issued (src/codes.rs): code_hash becomes a keyed
-- hash, and the code is kept sealed only while its request is armed (requests), or while
-- its holder's OTP is pending (otps). Store::open converts the codes of an older database
-- before this migration drops them.
ALTER TABLE requests ADD COLUMN sealed_code TEXT;
ALTER TABLE otps ADD COLUMN sealed_code TEXT;
ALTER TABLE requests DROP COLUMN secret;
