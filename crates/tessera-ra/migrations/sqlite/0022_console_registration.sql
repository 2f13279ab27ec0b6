-- Registration and identification at the console. A holder's full data (sex, birth
-- date and place, residence address) and how the tax code was found against them (or
-- accepted anyway, recorded). A request's path through verification [stati della
-- pratica]: registered -> to-verify -> to-correct (with the verifier's reason) ->
-- to-verify ... -> awaiting-originals -> completed; NULL for requests made through the
-- JSON API, which keep their old path. The identity document shown, and how the holder
-- was identified. Documents (signed forms, scans) sealed with the RA's key, for a
-- request, a lifecycle change or a contact change; kept until keep_until.
ALTER TABLE holders ADD COLUMN sex TEXT;
ALTER TABLE holders ADD COLUMN birth_date TEXT;
ALTER TABLE holders ADD COLUMN birth_place TEXT;
ALTER TABLE holders ADD COLUMN address TEXT;
ALTER TABLE holders ADD COLUMN cf_accepted_anyway TEXT;

ALTER TABLE requests ADD COLUMN verification TEXT;
ALTER TABLE requests ADD COLUMN verification_reason TEXT;
ALTER TABLE requests ADD COLUMN verification_by TEXT;
ALTER TABLE requests ADD COLUMN verification_at BIGINT;
ALTER TABLE requests ADD COLUMN originals_due BIGINT;
ALTER TABLE requests ADD COLUMN originals_reminded BIGINT NOT NULL DEFAULT 0;
ALTER TABLE requests ADD COLUMN id_document TEXT;
ALTER TABLE requests ADD COLUMN identified_by TEXT;
ALTER TABLE requests ADD COLUMN identified_at BIGINT;
ALTER TABLE requests ADD COLUMN code_issued_at BIGINT;
ALTER TABLE requests ADD COLUMN registered_at BIGINT;
CREATE INDEX requests_by_verification ON requests(verification);

CREATE TABLE documents (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    owner_kind  TEXT NOT NULL,
    owner       TEXT NOT NULL,
    office      TEXT,
    kind        TEXT NOT NULL,
    media       TEXT NOT NULL,
    size        BIGINT NOT NULL,
    sha256      TEXT NOT NULL,
    sealed      TEXT NOT NULL,
    uploaded_by TEXT NOT NULL,
    uploaded_at BIGINT NOT NULL,
    keep_until  BIGINT NOT NULL
);
CREATE INDEX documents_by_owner ON documents(owner_kind, owner);

CREATE TABLE ca_notices (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    title      TEXT NOT NULL,
    body       TEXT NOT NULL,
    author     TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    until      BIGINT
);
