-- The schema of migrations/sqlite/0001–0005 for PostgreSQL, in one step.
-- Integers are BIGINT throughout (times are milliseconds since the epoch,
-- flags 0 or 1), as the server reads and writes them on both backends.

-- Users are keyed by an id of the server's own, never by a WeChat id.
CREATE TABLE users (
    id             TEXT PRIMARY KEY,
    username       TEXT UNIQUE,
    password_hash  TEXT,
    name           TEXT,
    phone          TEXT UNIQUE,
    phone_verified BIGINT NOT NULL DEFAULT 0,
    email          TEXT UNIQUE,
    email_verified BIGINT NOT NULL DEFAULT 0,
    created_at     BIGINT NOT NULL,
    nickname       TEXT,
    picture        TEXT,
    gender         TEXT,
    birthdate      TEXT,
    locale         TEXT
);

-- A WeChat identity: (appid, openid), with the unionid linked when WeChat
-- gives one.
CREATE TABLE wechat_identities (
    appid      TEXT NOT NULL,
    openid     TEXT NOT NULL,
    unionid    TEXT,
    user_id    TEXT NOT NULL REFERENCES users(id),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (appid, openid)
);
CREATE INDEX wechat_identities_unionid ON wechat_identities(unionid) WHERE unionid IS NOT NULL;
CREATE INDEX wechat_identities_user ON wechat_identities(user_id);

-- Short-lived tokens that carry an unbound WeChat identity into a bind.
-- Stored by hash; spent by a successful bind.
CREATE TABLE state_tokens (
    token_hash BYTEA PRIMARY KEY,
    appid      TEXT NOT NULL,
    openid     TEXT NOT NULL,
    unionid    TEXT,
    mode       TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    spent_at   BIGINT
);
CREATE INDEX state_tokens_expiry ON state_tokens(expires_at);

-- A login and every session token rotated from it.
CREATE TABLE session_families (
    id            TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL REFERENCES users(id),
    amr           TEXT NOT NULL,
    auth_time     BIGINT NOT NULL,
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL,
    revoked_at    BIGINT,
    revoke_reason TEXT
);
CREATE INDEX session_families_user ON session_families(user_id);

-- Session tokens, stored only as SHA-256 hashes; the current token of a
-- family has rotated_at NULL.
CREATE TABLE session_tokens (
    token_hash      BYTEA PRIMARY KEY,
    family_id       TEXT NOT NULL REFERENCES session_families(id),
    issued_at       BIGINT NOT NULL,
    idle_expires_at BIGINT NOT NULL,
    rotated_at      BIGINT
);
CREATE INDEX session_tokens_family ON session_tokens(family_id);
CREATE INDEX session_tokens_current ON session_tokens(family_id) WHERE rotated_at IS NULL;

-- Signing keys: the newest unretired key signs.
CREATE TABLE signing_keys (
    kid         TEXT PRIMARY KEY,
    alg         TEXT NOT NULL,
    private_der BYTEA NOT NULL,
    public_jwk  TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    retired_at  BIGINT
);

-- One-time codes, one per state token (its latest).
CREATE TABLE verify_codes (
    state_token_hash BYTEA PRIMARY KEY,
    channel    TEXT NOT NULL,
    recipient  TEXT NOT NULL,
    code_hash  BYTEA NOT NULL,
    salt       BYTEA NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    attempts   BIGINT NOT NULL DEFAULT 0,
    used_at    BIGINT
);
CREATE INDEX verify_codes_expiry ON verify_codes(expires_at);

-- Every code sent, for the sending budgets. Kept a day.
CREATE TABLE code_sends (
    id        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    sent_at   BIGINT NOT NULL,
    recipient TEXT NOT NULL,
    identity  TEXT NOT NULL,
    state_token_hash BYTEA NOT NULL
);
CREATE INDEX code_sends_recipient ON code_sends(recipient, sent_at);
CREATE INDEX code_sends_identity ON code_sends(identity, sent_at);
CREATE INDEX code_sends_state_token ON code_sends(state_token_hash);
CREATE INDEX code_sends_time ON code_sends(sent_at);

-- Failed guesses of codes and passwords, by subject. Kept a day.
CREATE TABLE failed_guesses (
    id        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    subject   TEXT NOT NULL,
    failed_at BIGINT NOT NULL
);
CREATE INDEX failed_guesses_subject ON failed_guesses(subject, failed_at);
CREATE INDEX failed_guesses_time ON failed_guesses(failed_at);
