-- Events API keys (x-api-key). Only the SHA-256 of a key is stored; the
-- id names a key in listings and deletes without revealing it.

CREATE TABLE api_keys (
    id          TEXT PRIMARY KEY,
    hash        BLOB NOT NULL UNIQUE,
    description TEXT NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
);
