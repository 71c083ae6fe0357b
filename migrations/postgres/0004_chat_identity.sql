-- As migrations/sqlite/0008_chat_identity.sql: bots, link tickets, chat
-- links and deliveries.

CREATE TABLE bots (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    key_hash   BYTEA NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);

CREATE TABLE link_tickets (
    ticket_hash    BYTEA PRIMARY KEY,
    bot_id         TEXT NOT NULL REFERENCES bots(id),
    contact_id     TEXT NOT NULL,
    contact_name   TEXT,
    contact_avatar TEXT,
    created_at     BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL,
    opened_by      TEXT REFERENCES users(id),
    used_at        BIGINT
);
CREATE INDEX link_tickets_expiry ON link_tickets(expires_at);

CREATE TABLE chat_links (
    bot_id         TEXT NOT NULL REFERENCES bots(id),
    contact_id     TEXT NOT NULL,
    user_id        TEXT NOT NULL REFERENCES users(id),
    contact_name   TEXT,
    contact_avatar TEXT,
    linked_at      BIGINT NOT NULL,
    PRIMARY KEY (bot_id, contact_id)
);
CREATE INDEX chat_links_user ON chat_links(user_id);

CREATE TABLE deliveries (
    id          TEXT PRIMARY KEY,
    bot_id      TEXT NOT NULL REFERENCES bots(id),
    kind        TEXT NOT NULL,
    contact_id  TEXT NOT NULL,
    text        TEXT,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT,
    leased_until BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX deliveries_bot ON deliveries(bot_id, created_at);
CREATE INDEX deliveries_expiry ON deliveries(expires_at);
