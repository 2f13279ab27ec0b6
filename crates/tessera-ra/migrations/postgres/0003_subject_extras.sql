-- As migrations/sqlite/0007.
-- Optional subject data of the signature certificate (DOMAIN.md), copied to the request
-- like the holder's name: professional title or role, organization and its identifier
-- (VATIT-… or CF:IT-…), and the e-mail the holder chose to have in the certificate.
ALTER TABLE requests ADD COLUMN title TEXT;
ALTER TABLE requests ADD COLUMN organization TEXT;
ALTER TABLE requests ADD COLUMN organization_identifier TEXT;
ALTER TABLE requests ADD COLUMN subject_email TEXT;
-- The country that issued a passport holder's passport (serialNumber PASIT-…).
ALTER TABLE holders ADD COLUMN passport_country TEXT;
