-- Bulk import of existing users: password hashes imported from another
-- system (until the first password sign-in replaces them with an SRP
-- verifier), and Cognito's user import jobs with their uploaded CSV and
-- the errors of their rows.

CREATE TABLE password_hashes (
    pool_id  TEXT NOT NULL,
    username TEXT NOT NULL,
    hash     TEXT NOT NULL,
    PRIMARY KEY (pool_id, username),
    FOREIGN KEY (pool_id, username) REFERENCES users (pool_id, username) ON DELETE CASCADE
) WITHOUT ROWID;

CREATE TABLE import_jobs (
    pool_id            TEXT   NOT NULL REFERENCES pools (id) ON DELETE CASCADE,
    job_id             TEXT   NOT NULL,
    job_name           TEXT   NOT NULL,
    role_arn           TEXT   NOT NULL,
    status             TEXT   NOT NULL,
    created_at         BIGINT NOT NULL,
    started_at         BIGINT NOT NULL,
    completed_at       BIGINT NOT NULL,
    upload_expires_at  BIGINT NOT NULL,
    file_size          BIGINT NOT NULL,
    rows_done          BIGINT NOT NULL,
    imported           BIGINT NOT NULL,
    skipped            BIGINT NOT NULL,
    failed             BIGINT NOT NULL,
    completion_message TEXT   NOT NULL,
    lease_until        BIGINT NOT NULL,
    PRIMARY KEY (pool_id, job_id)
);
CREATE INDEX import_jobs_to_run ON import_jobs (status, lease_until);

CREATE TABLE import_files (
    pool_id TEXT NOT NULL,
    job_id  TEXT NOT NULL,
    data    BLOB NOT NULL,
    PRIMARY KEY (pool_id, job_id),
    FOREIGN KEY (pool_id, job_id) REFERENCES import_jobs (pool_id, job_id) ON DELETE CASCADE
);

CREATE TABLE import_row_errors (
    pool_id  TEXT   NOT NULL,
    job_id   TEXT   NOT NULL,
    row_num  BIGINT NOT NULL,
    username TEXT   NOT NULL,
    message  TEXT   NOT NULL,
    PRIMARY KEY (pool_id, job_id, row_num),
    FOREIGN KEY (pool_id, job_id) REFERENCES import_jobs (pool_id, job_id) ON DELETE CASCADE
) WITHOUT ROWID;
