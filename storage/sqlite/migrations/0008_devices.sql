-- Devices users confirmed (ConfirmDevice): the SRP salt and verifier of
-- each device's secret, its status and when it was last used. A device
-- goes with its user.

CREATE TABLE devices (
    pool_id               TEXT    NOT NULL,
    device_key            TEXT    NOT NULL,
    username              TEXT    NOT NULL,
    group_key             TEXT    NOT NULL,
    name                  TEXT    NOT NULL,
    remembered            INTEGER NOT NULL,
    salt                  BLOB    NOT NULL,
    verifier              BLOB    NOT NULL,
    last_ip               TEXT    NOT NULL,
    created_at            BIGINT  NOT NULL,
    updated_at            BIGINT  NOT NULL,
    last_authenticated_at BIGINT  NOT NULL,
    PRIMARY KEY (pool_id, device_key),
    FOREIGN KEY (pool_id, username) REFERENCES users (pool_id, username) ON DELETE CASCADE
) WITHOUT ROWID;
-- Serves a user's listing and the cascade from users.
CREATE INDEX devices_user ON devices (pool_id, username, device_key);
