-- A request's code, sealed, is kept a while after its last certificate is confirmed
-- (until code_kept_until, Unix seconds), only to answer a repeated certConf from a client
-- that lost the pkiconf; then it goes.
ALTER TABLE requests ADD COLUMN code_kept_until BIGINT;
