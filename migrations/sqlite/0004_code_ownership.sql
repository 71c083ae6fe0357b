-- A one-time code belongs to the state token that asked for it, so that
-- another party's sends and wrong guesses never reach it (0001 kept one
-- code per recipient, which any stranger could replace or kill). Codes live
-- minutes: the old ones are dropped, not carried over.
DROP TABLE verify_codes;
CREATE TABLE verify_codes (
    state_token_hash BLOB PRIMARY KEY,  -- only the token's latest code counts
    channel    TEXT NOT NULL,
    recipient  TEXT NOT NULL,
    code_hash  BLOB NOT NULL,
    salt       BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    attempts   INTEGER NOT NULL DEFAULT 0,
    used_at    INTEGER
) STRICT;
CREATE INDEX verify_codes_expiry ON verify_codes(expires_at);

-- Every code that went out (or may have), for the sending budgets: per
-- state token, per WeChat identity, per recipient, per pair of those two,
-- and in all. Kept a day.
CREATE TABLE code_sends (
    id        INTEGER PRIMARY KEY,
    sent_at   INTEGER NOT NULL,
    recipient TEXT NOT NULL,   -- channel:normalised address
    identity  TEXT NOT NULL,   -- appid:openid of the state token
    state_token_hash BLOB NOT NULL
) STRICT;
CREATE INDEX code_sends_recipient ON code_sends(recipient, sent_at);
CREATE INDEX code_sends_identity ON code_sends(identity, sent_at);
CREATE INDEX code_sends_state_token ON code_sends(state_token_hash);
CREATE INDEX code_sends_time ON code_sends(sent_at);

-- Failed guesses of one-time codes and passwords, one row each, by subject
-- (the guessing WeChat identity, the source address, the recipient or
-- username guessed at). Kept a day, which is the window the ceilings count.
CREATE TABLE failed_guesses (
    id        INTEGER PRIMARY KEY,
    subject   TEXT NOT NULL,
    failed_at INTEGER NOT NULL
) STRICT;
CREATE INDEX failed_guesses_subject ON failed_guesses(subject, failed_at);
CREATE INDEX failed_guesses_time ON failed_guesses(failed_at);
