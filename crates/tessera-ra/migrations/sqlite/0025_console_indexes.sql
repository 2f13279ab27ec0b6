-- The console's office counts and lists as index ranges (bench/console.py: 100,000
-- holders): each home count is an equality on the office and the state, the suspended
-- certificates a range of their own.
CREATE INDEX requests_by_office_verification ON requests(office, verification);
CREATE INDEX requests_by_office_issuance ON requests(office, issuance, failures, code_issued_at);
CREATE INDEX requests_by_office_failures ON requests(office, failures);
CREATE INDEX certificates_by_state ON certificates(state);
-- The sweeper's renewal notices look for each active certificate's confirmed successor:
-- without this, one probe scans every certificate (quadratic in SQLite).
CREATE INDEX certificates_by_replaces ON certificates(replaces);
-- Each certificate's end of validity, so that the notices read only the certificates near
-- it (older rows are filled in by the first sweep that reads them).
ALTER TABLE certificates ADD COLUMN not_after BIGINT;
CREATE INDEX certificates_by_not_after ON certificates(not_after);
-- The sweeper's other rounds, every few seconds: certificates still unconfirmed, and
-- activation codes kept until the holder's time to come back runs out (few rows each).
CREATE INDEX certificates_unconfirmed ON certificates(issued_at) WHERE confirmed = 0;
CREATE INDEX requests_code_kept ON requests(code_kept_until) WHERE code_kept_until IS NOT NULL;
