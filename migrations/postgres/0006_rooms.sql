-- As migrations/sqlite/0010_rooms.sql: rooms, their members and API clients.

CREATE TABLE rooms (
    room_key   TEXT PRIMARY KEY,
    bot_id     TEXT NOT NULL REFERENCES bots(id),
    room_id    TEXT NOT NULL,
    topic      TEXT NOT NULL,
    avatar     TEXT,
    owner_id   TEXT,
    admin_ids  TEXT NOT NULL,
    synced_at  BIGINT NOT NULL,
    left_at    BIGINT,
    UNIQUE (bot_id, room_id)
);
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
);
CREATE INDEX room_members_member ON room_members(member_id);

CREATE TABLE api_clients (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    key_hash   BYTEA NOT NULL UNIQUE,
    scopes     TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);
