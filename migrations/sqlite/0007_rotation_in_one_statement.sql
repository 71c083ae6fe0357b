-- A rotation is one statement, so one round trip and one commit: inserting
-- the successor with the hash of the token it replaces. The unique index
-- lets one successor in per token, whoever races, and the trigger marks the
-- replaced token rotated within the same statement. (Tokens rotated before
-- this migration have rotated_at set and no successor pointing at them.)
ALTER TABLE session_tokens ADD COLUMN parent_hash BLOB;
CREATE UNIQUE INDEX session_tokens_parent ON session_tokens(parent_hash);
CREATE TRIGGER session_tokens_rotated AFTER INSERT ON session_tokens
WHEN NEW.parent_hash IS NOT NULL
BEGIN
    UPDATE session_tokens SET rotated_at = NEW.issued_at WHERE token_hash = NEW.parent_hash;
END;
