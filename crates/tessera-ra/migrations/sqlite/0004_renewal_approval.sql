-- Renewals under the "approval" policy: the new certificate works at once, but until an
-- operator approves it (approval = 'pending') it is suspended from the old certificate's
-- expiry (= the new certificate's start, approval_due), and revoked 120 days after that.
ALTER TABLE certificates ADD COLUMN approval TEXT;
ALTER TABLE certificates ADD COLUMN approval_due BIGINT;
