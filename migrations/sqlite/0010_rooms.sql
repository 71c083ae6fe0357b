-- Rooms as groups: each bot's copy of the WeChat rooms it is in, synced by
-- the Wechaty plugin, and the API clients that may read them.

-- A bot's copy of a room, replaced whole by each snapshot no older than the
-- last. A room the bot left keeps its row, emptied, with left_at set, so
-- that a snapshot taken before the leave cannot bring it back; the purge
-- removes it a day later.
CREATE TABLE rooms (
    room_key   TEXT PRIMARY KEY,
    bot_id     TEXT NOT NULL REFERENCES bots(id),
    room_id    TEXT NOT NULL,
    topic      TEXT NOT NULL,
    avatar     TEXT,
    owner_id   TEXT,
    admin_ids  TEXT NOT NULL,   -- a JSON array of member ids
    synced_at  INTEGER NOT NULL,
    left_at    INTEGER,
    UNIQUE (bot_id, room_id)
) STRICT;
CREATE INDEX rooms_room ON rooms(room_id);
CREATE INDEX rooms_left ON rooms(left_at);

CREATE TABLE room_members (
    room_key   TEXT NOT NULL REFERENCES rooms(room_key) ON DELETE CASCADE,
    member_id  TEXT NOT NULL,
    room_alias TEXT,
    inviter_id TEXT,
    avatar     TEXT,
    name       TEXT,
    PRIMARY KEY (room_key, member_id)
) STRICT;
-- Which rooms a linked contact is in, for the id_token's rooms claim.
CREATE INDEX room_members_member ON room_members(member_id);

-- An app backend's credential (`miniauth clients add`): shown once, kept
-- as a hash; scopes is a space-separated list.
CREATE TABLE api_clients (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    key_hash   BLOB NOT NULL UNIQUE,
    scopes     TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
) STRICT;
