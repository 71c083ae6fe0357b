-- Users are keyed by an id of the server's own, never by a WeChat id.
CREATE TABLE users (
    id             TEXT PRIMARY KEY,
    username       TEXT UNIQUE,
    password_hash  TEXT,
    name           TEXT,
    phone          TEXT UNIQUE,
    phone_verified INTEGER NOT NULL DEFAULT 0,
    email          TEXT UNIQUE,
    email_verified INTEGER NOT NULL DEFAULT 0,
    created_at     INTEGER NOT NULL
) STRICT;

-- A WeChat identity: (appid, openid), with the unionid linked when WeChat
-- gives one.
CREATE TABLE wechat_identities (
    appid      TEXT NOT NULL,
    openid     TEXT NOT NULL,
    unionid    TEXT,
    user_id    TEXT NOT NULL REFERENCES users(id),
    created_at INTEGER NOT NULL,
    PRIMARY KEY (appid, openid)
) STRICT;
CREATE INDEX wechat_identities_unionid ON wechat_identities(unionid) WHERE unionid IS NOT NULL;
CREATE INDEX wechat_identities_user ON wechat_identities(user_id);

-- Short-lived tokens that carry an unbound WeChat identity into a bind.
-- Stored by hash; spent by a successful bind.
CREATE TABLE state_tokens (
    token_hash BLOB PRIMARY KEY,
    appid      TEXT NOT NULL,
    openid     TEXT NOT NULL,
    unionid    TEXT,
    mode       TEXT NOT NULL,          -- SOCIAL_BIND or USER_REGISTER
    expires_at INTEGER NOT NULL,
    spent_at   INTEGER
) STRICT;

-- A login and every session token rotated from it. Revoking the family
-- ends them all.
CREATE TABLE session_families (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users(id),
    amr          TEXT NOT NULL,        -- JSON array, e.g. ["wechat"]
    auth_time    INTEGER NOT NULL,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,     -- absolute lifetime
    revoked_at   INTEGER,
    revoke_reason TEXT
) STRICT;
CREATE INDEX session_families_user ON session_families(user_id);

-- Session tokens, stored only as SHA-256 hashes. The current token of a
-- family has rotated_at NULL.
CREATE TABLE session_tokens (
    token_hash BLOB PRIMARY KEY,
    family_id  TEXT NOT NULL REFERENCES session_families(id),
    issued_at  INTEGER NOT NULL,
    idle_expires_at INTEGER NOT NULL,
    rotated_at INTEGER
) STRICT;
CREATE INDEX session_tokens_family ON session_tokens(family_id);

-- Signing keys. The newest unretired key signs; retired keys stay in the
-- JWKS until the tokens they signed have expired.
CREATE TABLE signing_keys (
    kid         TEXT PRIMARY KEY,
    alg         TEXT NOT NULL,
    private_der BLOB NOT NULL,
    public_jwk  TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    retired_at  INTEGER
) STRICT;

-- One-time codes: only the latest per recipient counts.
CREATE TABLE verify_codes (
    channel    TEXT NOT NULL,
    recipient  TEXT NOT NULL,
    code_hash  BLOB NOT NULL,
    salt       BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    attempts   INTEGER NOT NULL DEFAULT 0,
    used_at    INTEGER,
    PRIMARY KEY (channel, recipient)
) STRICT;
