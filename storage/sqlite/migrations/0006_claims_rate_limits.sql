-- Shared state that used to live in each node's memory: one-time claims
-- (answered SRP challenges, so an answer is accepted once across nodes)
-- and the token buckets of the shared per-address guess limiter.

CREATE TABLE one_time_claims (
    key        BLOB   NOT NULL PRIMARY KEY,
    expires_at BIGINT NOT NULL
) WITHOUT ROWID;
CREATE INDEX one_time_claims_expires ON one_time_claims (expires_at);

-- A bucket is kept as its GCRA theoretical arrival time (tat, unix
-- microseconds): it is full again once tat has passed, so a row whose
-- tat is past is the same as no row and may be deleted. allowed records
-- whether the last take succeeded, which the take reads back.
CREATE TABLE rate_limits (
    key     TEXT    NOT NULL PRIMARY KEY,
    tat     BIGINT  NOT NULL,
    allowed BOOLEAN NOT NULL
) WITHOUT ROWID;
CREATE INDEX rate_limits_tat ON rate_limits (tat);
