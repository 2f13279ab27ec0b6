-- The console's search of requests by any part of the holder's name, tax code or
-- reference: trigram indexes (pg_trgm, in PostgreSQL's contrib) on the very expressions
-- the search compares, so that it reads the few rows that may match instead of every
-- request. Where the extension cannot be created (not installed, or the RA's role may not
-- create it), the search works as before, without them.
DO $$
BEGIN
    CREATE EXTENSION IF NOT EXISTS pg_trgm;
EXCEPTION WHEN OTHERS THEN
    RAISE NOTICE 'pg_trgm is not available: the console searches requests without an index';
END
$$;

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
        CREATE INDEX requests_search_reference ON requests USING gin (upper(reference) gin_trgm_ops);
        CREATE INDEX requests_search_surname_first ON requests USING gin (upper(surname || ' ' || given_name) gin_trgm_ops);
        CREATE INDEX requests_search_given_first ON requests USING gin (upper(given_name || ' ' || surname) gin_trgm_ops);
        CREATE INDEX requests_search_cf ON requests USING gin (upper(cf) gin_trgm_ops);
    END IF;
END
$$;
