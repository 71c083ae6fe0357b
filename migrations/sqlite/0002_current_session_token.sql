-- A refresh finds the family's current token among the family's rotated
-- ones: index only the current ones, so the cost does not grow with the
-- length of the chain.
CREATE INDEX session_tokens_current ON session_tokens(family_id) WHERE rotated_at IS NULL;
