-- Attempt counters move off the users table so that names with no user
-- can be counted (and locked) exactly like real users; messages become a
-- delivery queue that a dispatcher drains. As storage/sqlite's 0005.

CREATE TABLE attempts (
    pool_id      TEXT COLLATE "C" NOT NULL REFERENCES pools (id) ON DELETE CASCADE,
    key          TEXT COLLATE "C" NOT NULL,
    failures     BIGINT NOT NULL,
    locked_until BIGINT NOT NULL,
    last_failure BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    PRIMARY KEY (pool_id, key)
);
CREATE INDEX attempts_expires ON attempts (expires_at);

-- Carry over the counts of users who were failing when the schema was
-- upgraded; they are forgotten a day after the last failure.
INSERT INTO attempts (pool_id, key, failures, locked_until, last_failure, expires_at)
SELECT pool_id, 'password/' || username, failed_sign_ins, locked_until, updated_at,
       GREATEST(locked_until, updated_at) + 86400000000
FROM users WHERE failed_sign_ins > 0;

ALTER TABLE users DROP COLUMN failed_sign_ins;
ALTER TABLE users DROP COLUMN locked_until;

-- Wrong codes count per user and purpose in attempts too, not per code:
-- a fresh code does not bring fresh guesses. A used code stays, marked,
-- until it expires.
ALTER TABLE codes DROP COLUMN attempts;
ALTER TABLE codes ADD COLUMN used_at BIGINT NOT NULL DEFAULT 0;

-- Messages already in the outbox count as sent.
ALTER TABLE messages ADD COLUMN done_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN attempts BIGINT NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN next_attempt_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN last_error TEXT NOT NULL DEFAULT '';
UPDATE messages SET done_at = created_at;
CREATE INDEX messages_pending ON messages (next_attempt_at, id) WHERE done_at = 0;
CREATE INDEX messages_done ON messages (done_at) WHERE done_at <> 0;
