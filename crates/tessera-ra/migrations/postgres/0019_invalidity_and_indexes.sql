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

-- A certificate the RA itself holds suspended for the paperwork: issued before its
-- request was verified ('verification'), or its originals late ('originals'). The
-- matching step releases exactly those; any other change clears it.
ALTER TABLE certificates ADD COLUMN held_for TEXT;
-- A document replaced by a correction: kept (retention), no longer the current one.
ALTER TABLE documents ADD COLUMN superseded_at BIGINT;

-- Wrong console sign-ins counted per typed name and client address (names that exist or
-- not alike): a stranger elsewhere slows only their own tries, never keeps the operator
-- out, and learns nothing about which names exist.
CREATE TABLE sign_in_waits (
    name     TEXT NOT NULL,
    address  TEXT NOT NULL,
    failures BIGINT NOT NULL DEFAULT 0,
    retry_at BIGINT NOT NULL DEFAULT 0,
    updated_at BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (name, address)
);

-- An API token lasts a fixed time from its creation.
ALTER TABLE operator_tokens ADD COLUMN expires_at BIGINT;

-- A contact change asked without the card (DOMAIN: the certified-mail guide's
-- procedure): the new e-mail and mobile, each confirmed by a code sent to it (kept
-- keyed), the residence, the identity document's scans (documents), then the office's
-- decision. The id is the random link the holder continues with. A tax code no holder
-- has is kept the same way (the page says nothing of it) and never reaches an office.
CREATE TABLE contact_changes (
    id           TEXT PRIMARY KEY,
    cf           TEXT NOT NULL,
    holder_id    BIGINT,
    office       TEXT,
    new_email    TEXT NOT NULL,
    new_mobile   TEXT NOT NULL,
    address      TEXT NOT NULL,
    email_code   TEXT NOT NULL,
    sms_code     TEXT NOT NULL,
    tries        BIGINT NOT NULL DEFAULT 0,
    state        TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    submitted_at BIGINT,
    decided_by   TEXT,
    decided_at   BIGINT,
    reason       TEXT
);
CREATE INDEX contact_changes_by_office ON contact_changes(office, state);
