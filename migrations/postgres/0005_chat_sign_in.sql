-- As migrations/sqlite/0009_chat_sign_in.sql: chat sign-in challenges, and
-- state tokens that carry a chat contact.
CREATE TABLE chat_logins (
    state_token_hash BYTEA PRIMARY KEY,
    challenge       TEXT NOT NULL,
    bot_id          TEXT REFERENCES bots(id),
    created_at      BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL,
    answered_bot_id TEXT REFERENCES bots(id),
    contact_id      TEXT,
    answered_at     BIGINT,
    spent_at        BIGINT
);
CREATE UNIQUE INDEX chat_logins_pending ON chat_logins(challenge) WHERE answered_at IS NULL;
CREATE INDEX chat_logins_expiry ON chat_logins(expires_at);

ALTER TABLE state_tokens ADD COLUMN kind TEXT NOT NULL DEFAULT 'wechat';
