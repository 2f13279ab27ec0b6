-- What a blank card receives at activation (PIN, PUK, PIV management key) and the
-- holder's user code, each sealed for its request and purpose (AES-256-GCM).
ALTER TABLE requests ADD COLUMN sealed_pin TEXT;
ALTER TABLE requests ADD COLUMN sealed_puk TEXT;
ALTER TABLE requests ADD COLUMN sealed_management_key TEXT;
ALTER TABLE requests ADD COLUMN sealed_user_code TEXT;
