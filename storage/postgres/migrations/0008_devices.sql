-- Devices users confirmed (ConfirmDevice): the SRP salt and verifier of
-- each device's secret, its status and when it was last used. A device
-- goes with its user. As storage/sqlite's 0008.

CREATE TABLE devices (
    pool_id               TEXT COLLATE "C" NOT NULL,
    device_key            TEXT COLLATE "C" NOT NULL,
    username              TEXT COLLATE "C" NOT NULL,
    group_key             TEXT    NOT NULL,
    name                  TEXT    NOT NULL,
    remembered            BOOLEAN NOT NULL,
    salt                  BYTEA   NOT NULL,
    verifier              BYTEA   NOT NULL,
    last_ip               TEXT    NOT NULL,
    created_at            BIGINT  NOT NULL,
    updated_at            BIGINT  NOT NULL,
    last_authenticated_at BIGINT  NOT NULL,
    PRIMARY KEY (pool_id, device_key),
    FOREIGN KEY (pool_id, username) REFERENCES users (pool_id, username) ON DELETE CASCADE
);
-- Serves a user's listing and the cascade from users.
CREATE INDEX devices_user ON devices (pool_id, username, device_key);
