-- Chat identity: the bots that speak for the server in WeChat chats (the
-- Wechaty plugin), the one-time tickets their login cards carry, the chat
-- contacts linked to users, and what the bots are to deliver.

-- A bot's key is shown once, at `miniauth bots add`; only its hash is kept.
CREATE TABLE bots (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    key_hash   BLOB NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
) STRICT;

-- A login card's ticket: single use, bound to the bot and the contact it
-- was made for. The first signed-in user to open it holds it; a link is
-- made only when that user confirms the code the contact got in chat.
CREATE TABLE link_tickets (
    ticket_hash    BLOB PRIMARY KEY,
    bot_id         TEXT NOT NULL REFERENCES bots(id),
    contact_id     TEXT NOT NULL,
    contact_name   TEXT,
    contact_avatar TEXT,
    created_at     INTEGER NOT NULL,
    expires_at     INTEGER NOT NULL,
    opened_by      TEXT REFERENCES users(id),
    used_at        INTEGER
) STRICT;
CREATE INDEX link_tickets_expiry ON link_tickets(expires_at);

-- Which user a bot's contact is. One user a contact; a user may have
-- contacts at several bots.
CREATE TABLE chat_links (
    bot_id         TEXT NOT NULL REFERENCES bots(id),
    contact_id     TEXT NOT NULL,
    user_id        TEXT NOT NULL REFERENCES users(id),
    contact_name   TEXT,
    contact_avatar TEXT,
    linked_at      INTEGER NOT NULL,
    PRIMARY KEY (bot_id, contact_id)
) STRICT;
CREATE INDEX chat_links_user ON chat_links(user_id);

-- What a bot is to deliver, kept until it acknowledges it: a text to a
-- contact, or news of a link or unlink. One handed out is handed out again
-- once its lease ends unacknowledged; a code's text expires with the code.
CREATE TABLE deliveries (
    id          TEXT PRIMARY KEY,
    bot_id      TEXT NOT NULL REFERENCES bots(id),
    kind        TEXT NOT NULL,
    contact_id  TEXT NOT NULL,
    text        TEXT,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER,
    leased_until INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX deliveries_bot ON deliveries(bot_id, created_at);
CREATE INDEX deliveries_expiry ON deliveries(expires_at);
