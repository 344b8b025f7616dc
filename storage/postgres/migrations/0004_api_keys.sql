-- Events API keys (x-api-key), as storage/sqlite's 0004. Only the
-- SHA-256 of a key is stored; the id names a key in listings and deletes
-- without revealing it. ListAPIKeys walks the second index.

CREATE TABLE api_keys (
    id          TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    hash        BYTEA  NOT NULL UNIQUE,
    description TEXT   NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL
);
CREATE INDEX api_keys_created ON api_keys (created_at, id);
