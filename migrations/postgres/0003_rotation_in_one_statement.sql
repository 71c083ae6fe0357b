-- As migrations/sqlite/0007_rotation_in_one_statement.sql.
ALTER TABLE session_tokens ADD COLUMN parent_hash BYTEA;
CREATE UNIQUE INDEX session_tokens_parent ON session_tokens(parent_hash);
CREATE FUNCTION session_tokens_rotated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE session_tokens SET rotated_at = NEW.issued_at WHERE token_hash = NEW.parent_hash;
    RETURN NULL;
END
$$;
CREATE TRIGGER session_tokens_rotated AFTER INSERT ON session_tokens
FOR EACH ROW WHEN (NEW.parent_hash IS NOT NULL) EXECUTE FUNCTION session_tokens_rotated();
