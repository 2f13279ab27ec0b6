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
DECLARE
    nsp text;
BEGIN
    -- The operator class named with the extension's own schema, wherever it was made.
    SELECT n.nspname INTO nsp FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
    WHERE e.extname = 'pg_trgm';
    IF nsp IS NOT NULL THEN
        EXECUTE format('CREATE INDEX requests_search_reference ON requests USING gin (upper(reference) %I.gin_trgm_ops)', nsp);
        EXECUTE format('CREATE INDEX requests_search_surname_first ON requests USING gin (upper(surname || '' '' || given_name) %I.gin_trgm_ops)', nsp);
        EXECUTE format('CREATE INDEX requests_search_given_first ON requests USING gin (upper(given_name || '' '' || surname) %I.gin_trgm_ops)', nsp);
        EXECUTE format('CREATE INDEX requests_search_cf ON requests USING gin (upper(cf) %I.gin_trgm_ops)', nsp);
    END IF;
EXCEPTION WHEN OTHERS THEN
    RAISE NOTICE 'trigram indexes not made (%): the console searches requests without them', SQLERRM;
END
$$;
