-- A request for a passport holder keeps the passport number in `cf` and the issuing
-- country here (serialNumber PAS<country>-<number>); NULL for tax codes.
ALTER TABLE requests ADD COLUMN passport_country TEXT;
