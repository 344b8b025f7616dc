-- Passkeys (WebAuthn credentials), keyed by pool and credential id, and
-- deleted with their user. transports is a comma-separated list. As
-- storage/sqlite's 0010.

CREATE TABLE webauthn_credentials (
    pool_id       TEXT   NOT NULL,
    id            BYTEA  NOT NULL,
    username      TEXT   NOT NULL,
    public_key    BYTEA  NOT NULL,
    sign_count    BIGINT NOT NULL,
    rp_id         TEXT   NOT NULL,
    friendly_name TEXT   NOT NULL,
    attachment    TEXT   NOT NULL,
    transports    TEXT   NOT NULL,
    aaguid        BYTEA,
    created_at    BIGINT NOT NULL,
    last_used_at  BIGINT NOT NULL,
    PRIMARY KEY (pool_id, id),
    FOREIGN KEY (pool_id, username) REFERENCES users (pool_id, username) ON DELETE CASCADE
);
-- Serves the cascade from users and the listing of a user's passkeys.
CREATE INDEX webauthn_credentials_user ON webauthn_credentials (pool_id, username, id);
