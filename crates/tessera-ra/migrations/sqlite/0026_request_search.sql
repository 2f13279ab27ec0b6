-- The console's search of requests by any part of the holder's name, tax code or
-- reference: a trigram index (FTS5), so that a search reads the few rows that may match
-- instead of every request. It only narrows: the search's own conditions still decide.
-- Kept by triggers; the reference is stored, not indexed (updates of names are rare).
CREATE VIRTUAL TABLE requests_search USING fts5(reference UNINDEXED, words, tokenize = 'trigram', detail = 'none');

INSERT INTO requests_search (reference, words)
SELECT reference, COALESCE(reference, '') || ' ' || COALESCE(surname, '') || ' ' || COALESCE(given_name, '') || ' '
       || COALESCE(given_name, '') || ' ' || COALESCE(surname, '') || ' ' || COALESCE(cf, '')
FROM requests;

CREATE TRIGGER requests_search_insert AFTER INSERT ON requests BEGIN
    INSERT INTO requests_search (reference, words)
    VALUES (new.reference, COALESCE(new.reference, '') || ' ' || COALESCE(new.surname, '') || ' '
            || COALESCE(new.given_name, '') || ' ' || COALESCE(new.given_name, '') || ' '
            || COALESCE(new.surname, '') || ' ' || COALESCE(new.cf, ''));
END;

CREATE TRIGGER requests_search_update AFTER UPDATE OF reference, surname, given_name, cf ON requests BEGIN
    DELETE FROM requests_search WHERE reference = old.reference;
    INSERT INTO requests_search (reference, words)
    VALUES (new.reference, COALESCE(new.reference, '') || ' ' || COALESCE(new.surname, '') || ' '
            || COALESCE(new.given_name, '') || ' ' || COALESCE(new.given_name, '') || ' '
            || COALESCE(new.surname, '') || ' ' || COALESCE(new.cf, ''));
END;

CREATE TRIGGER requests_search_delete AFTER DELETE ON requests BEGIN
    DELETE FROM requests_search WHERE reference = old.reference;
END;
