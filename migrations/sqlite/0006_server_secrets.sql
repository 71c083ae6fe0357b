-- Secrets the server keeps for itself, shared by all its instances:
-- `refresh` derives a rotated session token from its parent, so that any
-- instance answers a retried or concurrent refresh with the same new token.
CREATE TABLE server_secrets (
    name       TEXT PRIMARY KEY,
    secret     BLOB NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;
