package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cognate-auth/cognate/storage"
)

// PutPasswordHash implements storage.Storage. A missing user fails the
// foreign key: ErrNotFound.
func (s *Store) PutPasswordHash(ctx context.Context, poolID, username, hash string) error {
	_, err := execRows(ctx, s.q(), "put password hash",
		`INSERT INTO password_hashes (pool_id, username, hash) VALUES ($1, $2, $3)
		ON CONFLICT (pool_id, username) DO UPDATE SET hash = excluded.hash`, poolID, username, hash)
	return err
}

// GetPasswordHash implements storage.Storage.
func (s *Store) GetPasswordHash(ctx context.Context, poolID, username string) (string, error) {
	return getOne(ctx, s.q(), "get password hash", func(sc pgx.Row) (string, error) {
		var h string
		return h, sc.Scan(&h)
	}, `SELECT hash FROM password_hashes WHERE pool_id = $1 AND username = $2`, poolID, username)
}

// DeletePasswordHash implements storage.Storage.
func (s *Store) DeletePasswordHash(ctx context.Context, poolID, username string) error {
	return execOne(ctx, s.q(), "delete password hash",
		`DELETE FROM password_hashes WHERE pool_id = $1 AND username = $2`, poolID, username)
}

const importJobColumns = `pool_id, job_id, job_name, role_arn, status, created_at, started_at, completed_at,
	upload_expires_at, file_size, rows_done, imported, skipped, failed, completion_message, lease_until`

func scanImportJob(sc pgx.Row) (storage.ImportJob, error) {
	var (
		j                                       storage.ImportJob
		created, started, completed, exp, lease int64
	)
	err := sc.Scan(&j.PoolID, &j.JobID, &j.JobName, &j.CloudWatchLogsRoleArn, &j.Status, &created, &started, &completed,
		&exp, &j.FileSize, &j.Rows, &j.Imported, &j.Skipped, &j.Failed, &j.CompletionMessage, &lease)
	if err != nil {
		return storage.ImportJob{}, err
	}
	j.CreatedAt, j.StartedAt, j.CompletedAt = fromMicros(created), fromMicros(started), fromMicros(completed)
	j.UploadExpiresAt, j.LeaseUntil = fromMicros(exp), fromMicros(lease)
	return j, nil
}

func importJobArgs(j storage.ImportJob) []any {
	return []any{j.PoolID, j.JobID, j.JobName, j.CloudWatchLogsRoleArn, j.Status, micros(j.CreatedAt), micros(j.StartedAt),
		micros(j.CompletedAt), micros(j.UploadExpiresAt), j.FileSize, j.Rows, j.Imported, j.Skipped, j.Failed,
		j.CompletionMessage, micros(j.LeaseUntil)}
}

// CreateImportJob implements storage.Storage.
func (s *Store) CreateImportJob(ctx context.Context, j storage.ImportJob) error {
	_, err := execRows(ctx, s.q(), "create import job",
		`INSERT INTO import_jobs (`+importJobColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`,
		importJobArgs(j)...)
	return err
}

// GetImportJob implements storage.Storage.
func (s *Store) GetImportJob(ctx context.Context, poolID, jobID string) (storage.ImportJob, error) {
	return getOne(ctx, s.q(), "get import job", scanImportJob,
		`SELECT `+importJobColumns+` FROM import_jobs WHERE pool_id = $1 AND job_id = $2`, poolID, jobID)
}

// ListImportJobs implements storage.Storage.
func (s *Store) ListImportJobs(ctx context.Context, poolID, after string, limit int) ([]storage.ImportJob, error) {
	return getAll(ctx, s.q(), "list import jobs", scanImportJob,
		`SELECT `+importJobColumns+` FROM import_jobs WHERE pool_id = $1 AND job_id > $2 ORDER BY job_id LIMIT $3`,
		poolID, after, sqlLimit(limit))
}

// ListImportJobsToRun implements storage.Storage.
func (s *Store) ListImportJobsToRun(ctx context.Context, now time.Time) ([]storage.ImportJob, error) {
	return getAll(ctx, s.q(), "list import jobs to run", scanImportJob,
		`SELECT `+importJobColumns+` FROM import_jobs WHERE status IN ($1, $2, $3) AND lease_until < $4 ORDER BY pool_id, job_id`,
		storage.ImportPending, storage.ImportInProgress, storage.ImportStopping, micros(now))
}

// UpdateImportJob implements storage.Storage.
func (s *Store) UpdateImportJob(ctx context.Context, poolID, jobID string, fn func(storage.ImportJob) (storage.ImportJob, error)) error {
	return s.inTx(ctx, func(tx *Store) error {
		old, err := getOne(ctx, tx.tx, "update import job", scanImportJob,
			`SELECT `+importJobColumns+` FROM import_jobs WHERE pool_id = $1 AND job_id = $2 FOR UPDATE`, poolID, jobID)
		if err != nil {
			return err
		}
		j, err := fn(old)
		if err != nil {
			return err
		}
		if j.PoolID != poolID || j.JobID != jobID {
			return errKeyChanged("update import job", poolID+"/"+jobID, j.PoolID+"/"+j.JobID)
		}
		args := importJobArgs(j)
		return execOne(ctx, tx.tx, "update import job",
			`UPDATE import_jobs SET job_name = $1, role_arn = $2, status = $3, created_at = $4, started_at = $5, completed_at = $6,
			upload_expires_at = $7, file_size = $8, rows_done = $9, imported = $10, skipped = $11, failed = $12,
			completion_message = $13, lease_until = $14 WHERE pool_id = $15 AND job_id = $16`,
			append(args[2:], poolID, jobID)...)
	})
}

// PutImportFile implements storage.Storage.
func (s *Store) PutImportFile(ctx context.Context, poolID, jobID string, data []byte) error {
	if data == nil {
		data = []byte{}
	}
	_, err := execRows(ctx, s.q(), "put import file",
		`INSERT INTO import_files (pool_id, job_id, data) VALUES ($1, $2, $3)
		ON CONFLICT (pool_id, job_id) DO UPDATE SET data = excluded.data`, poolID, jobID, data)
	return err
}

// GetImportFile implements storage.Storage.
func (s *Store) GetImportFile(ctx context.Context, poolID, jobID string) ([]byte, error) {
	return getOne(ctx, s.q(), "get import file", func(sc pgx.Row) ([]byte, error) {
		var b []byte
		return b, sc.Scan(&b)
	}, `SELECT data FROM import_files WHERE pool_id = $1 AND job_id = $2`, poolID, jobID)
}

// DeleteImportFile implements storage.Storage.
func (s *Store) DeleteImportFile(ctx context.Context, poolID, jobID string) error {
	_, err := execRows(ctx, s.q(), "delete import file",
		`DELETE FROM import_files WHERE pool_id = $1 AND job_id = $2`, poolID, jobID)
	return err
}

// AddImportRowError implements storage.Storage.
func (s *Store) AddImportRowError(ctx context.Context, e storage.ImportRowError) error {
	_, err := execRows(ctx, s.q(), "add import row error",
		`INSERT INTO import_row_errors (pool_id, job_id, row_num, username, message) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (pool_id, job_id, row_num) DO NOTHING`, e.PoolID, e.JobID, e.Row, e.Username, e.Message)
	return err
}

// ListImportRowErrors implements storage.Storage.
func (s *Store) ListImportRowErrors(ctx context.Context, poolID, jobID string, afterRow int64, limit int) ([]storage.ImportRowError, error) {
	return getAll(ctx, s.q(), "list import row errors", func(sc pgx.Row) (storage.ImportRowError, error) {
		var e storage.ImportRowError
		return e, sc.Scan(&e.PoolID, &e.JobID, &e.Row, &e.Username, &e.Message)
	}, `SELECT pool_id, job_id, row_num, username, message FROM import_row_errors
		WHERE pool_id = $1 AND job_id = $2 AND row_num > $3 ORDER BY row_num LIMIT $4`, poolID, jobID, afterRow, sqlLimit(limit))
}
