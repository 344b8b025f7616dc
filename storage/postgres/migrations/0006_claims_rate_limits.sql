-- Shared state that used to live in each node's memory: one-time claims
-- (answered SRP challenges, so an answer is accepted once across nodes)
-- and the token buckets of the shared per-address guess limiter. As
-- storage/sqlite's 0006.

CREATE TABLE one_time_claims (
    key        BYTEA  NOT NULL PRIMARY KEY,
    expires_at BIGINT NOT NULL
);
CREATE INDEX one_time_claims_expires ON one_time_claims (expires_at);

-- A bucket is kept as its GCRA theoretical arrival time (tat, unix
-- microseconds): it is full again once tat has passed, so a row whose
-- tat is past is the same as no row and may be deleted. allowed records
-- whether the last take succeeded, which the take reads back. The table
-- is UNLOGGED: a take writes no WAL, and what a crash (or a failover to
-- a standby) loses is only that buckets start full again.
CREATE UNLOGGED TABLE rate_limits (
    key     TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    tat     BIGINT  NOT NULL,
    allowed BOOLEAN NOT NULL
);
CREATE INDEX rate_limits_tat ON rate_limits (tat);
