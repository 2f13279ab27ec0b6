-- A request armed at the counter by reference: that arming's own CMP secret (sealed like
-- the activation code) and the operator who armed it. The holder's code and arming are
-- left as they are, so either can complete the request.
ALTER TABLE requests ADD COLUMN counter_sealed TEXT;
ALTER TABLE requests ADD COLUMN counter_by TEXT;
