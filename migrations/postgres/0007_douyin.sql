-- As migrations/sqlite/0011_douyin.sql: wechat_identities holds WeChat's and
-- Douyin's identities, keyed by (provider, appid, openid); the rows before
-- this migration are WeChat's. The default stays, so that an instance still
-- running the previous version (a rolling upgrade) binds WeChat identities
-- as before.
ALTER TABLE wechat_identities ADD COLUMN provider TEXT NOT NULL DEFAULT 'wechat'
    CHECK (provider IN ('wechat', 'douyin'));
ALTER TABLE wechat_identities DROP CONSTRAINT wechat_identities_pkey;
ALTER TABLE wechat_identities ADD PRIMARY KEY (provider, appid, openid);
DROP INDEX wechat_identities_unionid;
CREATE INDEX wechat_identities_unionid ON wechat_identities(provider, unionid) WHERE unionid IS NOT NULL;
