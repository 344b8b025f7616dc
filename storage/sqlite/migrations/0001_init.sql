-- Initial schema of the user pool store.
--
-- Written in a portable dialect so a PostgreSQL backend can reuse it almost
-- verbatim: TEXT, BIGINT (INTEGER affinity in SQLite, 64-bit in PostgreSQL,
-- where plain INTEGER would be 32-bit), BLOB (BYTEA there).
-- Timestamps are unix microseconds, 0 meaning "not set". Settings and
-- attribute maps are JSON documents so new fields need no migration.

CREATE TABLE pools (
    id         TEXT   NOT NULL PRIMARY KEY,
    name       TEXT   NOT NULL,
    settings   TEXT   NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE clients (
    client_id  TEXT   NOT NULL PRIMARY KEY,
    pool_id    TEXT   NOT NULL REFERENCES pools (id),
    name       TEXT   NOT NULL,
    secret     TEXT   NOT NULL,
    settings   TEXT   NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX clients_pool ON clients (pool_id, client_id);

CREATE TABLE users (
    pool_id             TEXT    NOT NULL REFERENCES pools (id),
    username            TEXT    NOT NULL,
    sub                 TEXT    NOT NULL,
    email               TEXT    NOT NULL,
    attributes          TEXT    NOT NULL,
    pending_attributes  TEXT    NOT NULL,
    status              TEXT    NOT NULL,
    enabled             INTEGER NOT NULL,
    srp_salt            BLOB,
    srp_verifier        BLOB,
    password_expires_at BIGINT  NOT NULL,
    failed_sign_ins     BIGINT  NOT NULL,
    locked_until        BIGINT  NOT NULL,
    created_at          BIGINT  NOT NULL,
    updated_at          BIGINT  NOT NULL,
    PRIMARY KEY (pool_id, username)
);
CREATE UNIQUE INDEX users_sub ON users (pool_id, sub);
-- Users without an email alias store '' and must not collide.
CREATE UNIQUE INDEX users_email ON users (pool_id, email) WHERE email <> '';

-- "groups" is a keyword in recent SQLite and in MySQL; avoid it.
CREATE TABLE pool_groups (
    pool_id     TEXT   NOT NULL REFERENCES pools (id),
    name        TEXT   NOT NULL,
    description TEXT   NOT NULL,
    precedence  BIGINT,
    role_arn    TEXT   NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (pool_id, name)
);

-- The primary key doubles as the by-user index ListGroupsForUser needs.
CREATE TABLE group_members (
    pool_id    TEXT NOT NULL,
    username   TEXT NOT NULL,
    group_name TEXT NOT NULL,
    PRIMARY KEY (pool_id, username, group_name),
    FOREIGN KEY (pool_id, username) REFERENCES users (pool_id, username) ON DELETE CASCADE,
    FOREIGN KEY (pool_id, group_name) REFERENCES pool_groups (pool_id, name) ON DELETE CASCADE
);

CREATE TABLE codes (
    pool_id    TEXT   NOT NULL,
    username   TEXT   NOT NULL,
    purpose    TEXT   NOT NULL,
    hash       BLOB   NOT NULL,
    value      TEXT   NOT NULL,
    attempts   BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (pool_id, username, purpose),
    FOREIGN KEY (pool_id, username) REFERENCES users (pool_id, username) ON DELETE CASCADE
);
CREATE INDEX codes_expires ON codes (expires_at);

-- The dev outbox keeps messages of deleted users, so no foreign key. The
-- id is SQLite's rowid (an identity column in PostgreSQL); ListMessages
-- walks its primary key backwards.
CREATE TABLE messages (
    id          INTEGER NOT NULL PRIMARY KEY,
    pool_id     TEXT    NOT NULL,
    username    TEXT    NOT NULL,
    destination TEXT    NOT NULL,
    kind        TEXT    NOT NULL,
    code        TEXT    NOT NULL,
    created_at  BIGINT  NOT NULL
);

CREATE TABLE refresh_families (
    id         TEXT   NOT NULL PRIMARY KEY,
    pool_id    TEXT   NOT NULL,
    client_id  TEXT   NOT NULL,
    username   TEXT   NOT NULL,
    event_id   TEXT   NOT NULL,
    scope      TEXT   NOT NULL,
    auth_time  BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT NOT NULL,
    FOREIGN KEY (pool_id, username) REFERENCES users (pool_id, username) ON DELETE CASCADE
);
CREATE INDEX refresh_families_user ON refresh_families (pool_id, username);
CREATE INDEX refresh_families_expires ON refresh_families (expires_at);

CREATE TABLE refresh_tokens (
    hash       BLOB   NOT NULL PRIMARY KEY,
    family_id  TEXT   NOT NULL REFERENCES refresh_families (id) ON DELETE CASCADE,
    pool_id    TEXT   NOT NULL,
    client_id  TEXT   NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    rotated_at BIGINT NOT NULL
);
-- Serves the cascade from refresh_families and garbage collection.
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_expires ON refresh_tokens (expires_at);

CREATE TABLE signing_keys (
    id              TEXT   NOT NULL PRIMARY KEY,
    pool_id         TEXT   NOT NULL REFERENCES pools (id),
    key_use         TEXT   NOT NULL,
    algorithm       TEXT   NOT NULL,
    private_key_der BLOB   NOT NULL,
    created_at      BIGINT NOT NULL
);
CREATE INDEX signing_keys_pool ON signing_keys (pool_id, created_at);

CREATE TABLE secrets (
    name  TEXT NOT NULL PRIMARY KEY,
    value BLOB NOT NULL
);
