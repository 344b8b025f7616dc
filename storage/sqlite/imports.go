package sqlite

import (
	"context"
	"time"

	"github.com/cognate-auth/cognate/storage"
)

// PutPasswordHash implements storage.Storage. A missing user fails the
// foreign key: ErrNotFound.
func (s *Store) PutPasswordHash(ctx context.Context, poolID, username, hash string) error {
	_, err := execRows(ctx, s.writes(), "put password hash",
		`INSERT INTO password_hashes (pool_id, username, hash) VALUES (?, ?, ?)
		ON CONFLICT (pool_id, username) DO UPDATE SET hash = excluded.hash`, poolID, username, hash)
	return err
}

// GetPasswordHash implements storage.Storage.
func (s *Store) GetPasswordHash(ctx context.Context, poolID, username string) (string, error) {
	return getOne(ctx, s.reads(), "get password hash", func(sc scanner) (string, error) {
		var h string
		return h, sc.Scan(&h)
	}, `SELECT hash FROM password_hashes WHERE pool_id = ? AND username = ?`, poolID, username)
}

// DeletePasswordHash implements storage.Storage.
func (s *Store) DeletePasswordHash(ctx context.Context, poolID, username string) error {
	return execOne(ctx, s.writes(), "delete password hash",
		`DELETE FROM password_hashes WHERE pool_id = ? AND username = ?`, poolID, username)
}

const importJobColumns = `pool_id, job_id, job_name, role_arn, status, created_at, started_at, completed_at,
	upload_expires_at, file_size, rows_done, imported, skipped, failed, completion_message, lease_until`

func scanImportJob(sc scanner) (storage.ImportJob, error) {
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
	_, err := execRows(ctx, s.writes(), "create import job",
		`INSERT INTO import_jobs (`+importJobColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		importJobArgs(j)...)
	return err
}

// GetImportJob implements storage.Storage.
func (s *Store) GetImportJob(ctx context.Context, poolID, jobID string) (storage.ImportJob, error) {
	return getOne(ctx, s.reads(), "get import job", scanImportJob,
		`SELECT `+importJobColumns+` FROM import_jobs WHERE pool_id = ? AND job_id = ?`, poolID, jobID)
}

// ListImportJobs implements storage.Storage.
func (s *Store) ListImportJobs(ctx context.Context, poolID, after string, limit int) ([]storage.ImportJob, error) {
	return getAll(ctx, s.reads(), "list import jobs", scanImportJob,
		`SELECT `+importJobColumns+` FROM import_jobs WHERE pool_id = ? AND job_id > ? ORDER BY job_id LIMIT ?`,
		poolID, after, sqlLimit(limit))
}

// ListImportJobsToRun implements storage.Storage.
func (s *Store) ListImportJobsToRun(ctx context.Context, now time.Time) ([]storage.ImportJob, error) {
	return getAll(ctx, s.reads(), "list import jobs to run", scanImportJob,
		`SELECT `+importJobColumns+` FROM import_jobs WHERE status IN (?, ?, ?) AND lease_until < ? ORDER BY pool_id, job_id`,
		storage.ImportPending, storage.ImportInProgress, storage.ImportStopping, micros(now))
}

// UpdateImportJob implements storage.Storage.
func (s *Store) UpdateImportJob(ctx context.Context, poolID, jobID string, fn func(storage.ImportJob) (storage.ImportJob, error)) error {
	return s.inTx(ctx, func(tx *Store) error {
		old, err := tx.GetImportJob(ctx, poolID, jobID)
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
			`UPDATE import_jobs SET job_name = ?, role_arn = ?, status = ?, created_at = ?, started_at = ?, completed_at = ?,
			upload_expires_at = ?, file_size = ?, rows_done = ?, imported = ?, skipped = ?, failed = ?,
			completion_message = ?, lease_until = ? WHERE pool_id = ? AND job_id = ?`,
			append(args[2:], poolID, jobID)...)
	})
}

// PutImportFile implements storage.Storage.
func (s *Store) PutImportFile(ctx context.Context, poolID, jobID string, data []byte) error {
	if data == nil {
		data = []byte{}
	}
	_, err := execRows(ctx, s.writes(), "put import file",
		`INSERT INTO import_files (pool_id, job_id, data) VALUES (?, ?, ?)
		ON CONFLICT (pool_id, job_id) DO UPDATE SET data = excluded.data`, poolID, jobID, data)
	return err
}

// GetImportFile implements storage.Storage.
func (s *Store) GetImportFile(ctx context.Context, poolID, jobID string) ([]byte, error) {
	return getOne(ctx, s.reads(), "get import file", func(sc scanner) ([]byte, error) {
		var b []byte
		return b, sc.Scan(&b)
	}, `SELECT data FROM import_files WHERE pool_id = ? AND job_id = ?`, poolID, jobID)
}

// DeleteImportFile implements storage.Storage.
func (s *Store) DeleteImportFile(ctx context.Context, poolID, jobID string) error {
	_, err := execRows(ctx, s.writes(), "delete import file",
		`DELETE FROM import_files WHERE pool_id = ? AND job_id = ?`, poolID, jobID)
	return err
}

// AddImportRowError implements storage.Storage.
func (s *Store) AddImportRowError(ctx context.Context, e storage.ImportRowError) error {
	_, err := execRows(ctx, s.writes(), "add import row error",
		`INSERT INTO import_row_errors (pool_id, job_id, row_num, username, message) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (pool_id, job_id, row_num) DO NOTHING`, e.PoolID, e.JobID, e.Row, e.Username, e.Message)
	return err
}

// ListImportRowErrors implements storage.Storage.
func (s *Store) ListImportRowErrors(ctx context.Context, poolID, jobID string, afterRow int64, limit int) ([]storage.ImportRowError, error) {
	return getAll(ctx, s.reads(), "list import row errors", func(sc scanner) (storage.ImportRowError, error) {
		var e storage.ImportRowError
		return e, sc.Scan(&e.PoolID, &e.JobID, &e.Row, &e.Username, &e.Message)
	}, `SELECT pool_id, job_id, row_num, username, message FROM import_row_errors
		WHERE pool_id = ? AND job_id = ? AND row_num > ? ORDER BY row_num LIMIT ?`, poolID, jobID, afterRow, sqlLimit(limit))
}
