-- OAuth 2.0 authorization codes and hosted-UI login sessions, as
-- storage/sqlite's 0002.
--
-- Both kinds hang off the pool rather than the user: DeleteUser removes a
-- user's rows explicitly (by the (pool_id, username) indexes below). Both
-- are looked up by the SHA-256 of a secret value and collected by
-- expires_at, 0 meaning "never expires".

CREATE TABLE auth_codes (
    hash           BYTEA  NOT NULL PRIMARY KEY,
    pool_id        TEXT COLLATE "C" NOT NULL REFERENCES pools (id) ON DELETE CASCADE,
    client_id      TEXT   NOT NULL,
    username       TEXT COLLATE "C" NOT NULL,
    redirect_uri   TEXT   NOT NULL,
    scope          TEXT   NOT NULL,
    nonce          TEXT   NOT NULL,
    code_challenge TEXT   NOT NULL,
    auth_time      BIGINT NOT NULL,
    created_at     BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL,
    redeemed_at    BIGINT NOT NULL,
    family_id      TEXT   NOT NULL
);
-- Serves DeleteUser and, through its pool_id prefix, the cascade from pools.
CREATE INDEX auth_codes_user ON auth_codes (pool_id, username);
CREATE INDEX auth_codes_expires ON auth_codes (expires_at);

CREATE TABLE login_sessions (
    hash       BYTEA  NOT NULL PRIMARY KEY,
    pool_id    TEXT COLLATE "C" NOT NULL REFERENCES pools (id) ON DELETE CASCADE,
    username   TEXT COLLATE "C" NOT NULL,
    auth_time  BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX login_sessions_user ON login_sessions (pool_id, username);
CREATE INDEX login_sessions_expires ON login_sessions (expires_at);
