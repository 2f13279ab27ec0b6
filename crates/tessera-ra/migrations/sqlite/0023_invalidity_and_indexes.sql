-- A revocation for key compromise records when the key is known or suspected to have
-- been compromised (RFC 5280 5.3.2 invalidityDate), which the CRL and OCSP carry.
ALTER TABLE certificates ADD COLUMN invalidity_date BIGINT;

-- The console finds an object's events by subject, an office's by office, the newest
-- by sequence; renewals by their request and new certificate.
CREATE INDEX audit_by_subject ON audit(subject);
CREATE INDEX audit_by_office ON audit(office);
CREATE INDEX audit_by_seq ON audit(seq);
CREATE INDEX renewals_by_reference ON renewals(reference);
CREATE INDEX certificates_by_approval ON certificates(approval);
