-- Douyin sign-in: wechat_identities holds the identities of both Mini
-- Program platforms, keyed by (provider, appid, openid); the rows before
-- this migration are WeChat's. A unionid links identities within one
-- platform only, so its index leads with the provider. SQLite cannot change
-- a primary key in place: the table is built anew and the rows copied
-- (nothing references it, so foreign keys stay as they are).
CREATE TABLE wechat_identities_new (
    provider   TEXT NOT NULL DEFAULT 'wechat' CHECK (provider IN ('wechat', 'douyin')),
    appid      TEXT NOT NULL,
    openid     TEXT NOT NULL,
    unionid    TEXT,
    user_id    TEXT NOT NULL REFERENCES users(id),
    created_at INTEGER NOT NULL,
    PRIMARY KEY (provider, appid, openid)
) STRICT;
INSERT INTO wechat_identities_new (provider, appid, openid, unionid, user_id, created_at)
    SELECT 'wechat', appid, openid, unionid, user_id, created_at FROM wechat_identities;
DROP TABLE wechat_identities;
ALTER TABLE wechat_identities_new RENAME TO wechat_identities;
CREATE INDEX wechat_identities_unionid ON wechat_identities(provider, unionid) WHERE unionid IS NOT NULL;
CREATE INDEX wechat_identities_user ON wechat_identities(user_id);

-- A state token's kind may now also be 'douyin' (appid, openid and unionid
-- as for 'wechat'); the column is free text already.
