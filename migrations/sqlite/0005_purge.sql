-- What the periodic purge (server::purge) finds expired state tokens by;
-- the other tables it purges have their time indexes already, and session
-- families are few enough to be scanned every ten minutes.
CREATE INDEX state_tokens_expiry ON state_tokens(expires_at);
