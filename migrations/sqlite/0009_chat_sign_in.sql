-- Chat sign-in, for the web: a page's challenge (six digits), which the
-- first contact to send it to a bot takes; the page's state token collects
-- the outcome once. Live challenges are unique.
CREATE TABLE chat_logins (
    state_token_hash BLOB PRIMARY KEY,
    challenge       TEXT NOT NULL,
    bot_id          TEXT REFERENCES bots(id),   -- only this bot's contacts may answer; any bot's when NULL
    created_at      INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL,
    answered_bot_id TEXT REFERENCES bots(id),
    contact_id      TEXT,
    answered_at     INTEGER,
    spent_at        INTEGER
) STRICT;
CREATE UNIQUE INDEX chat_logins_pending ON chat_logins(challenge) WHERE answered_at IS NULL;
CREATE INDEX chat_logins_expiry ON chat_logins(expires_at);

-- A state token may carry a chat contact instead of a WeChat identity: for
-- kind 'chat', appid holds the bot's id and openid the contact's id.
ALTER TABLE state_tokens ADD COLUMN kind TEXT NOT NULL DEFAULT 'wechat';
