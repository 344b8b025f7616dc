package sqlite

import (
	"context"
	"errors"

	"github.com/cognate-auth/cognate/storage"
)

const attemptsColumns = `pool_id, key, failures, locked_until, last_failure, expires_at`

const (
	sqlGetAttempts = `SELECT ` + attemptsColumns + ` FROM attempts WHERE pool_id = ? AND key = ?`
	sqlPutAttempts = `INSERT INTO attempts (` + attemptsColumns + `) VALUES (?, ?, ?, ?, ?, ?)
	ON CONFLICT (pool_id, key) DO UPDATE SET failures = excluded.failures, locked_until = excluded.locked_until,
		last_failure = excluded.last_failure, expires_at = excluded.expires_at`
	sqlDeleteAttempts = `DELETE FROM attempts WHERE pool_id = ? AND key = ?`
)

func scanAttempts(sc scanner) (storage.AttemptCount, error) {
	var (
		a                           storage.AttemptCount
		locked, lastFailure, expire int64
	)
	if err := sc.Scan(&a.PoolID, &a.Key, &a.Failures, &locked, &lastFailure, &expire); err != nil {
		return a, err
	}
	a.LockedUntil, a.LastFailure, a.ExpiresAt = fromMicros(locked), fromMicros(lastFailure), fromMicros(expire)
	return a, nil
}

// GetAttempts implements storage.Storage.
func (s *Store) GetAttempts(ctx context.Context, poolID, key string) (storage.AttemptCount, error) {
	return getOneStmt(ctx, s.stmt(ctx, stGetAttempts), "get attempts", scanAttempts, poolID, key)
}

// UpdateAttempts implements storage.Storage.
func (s *Store) UpdateAttempts(ctx context.Context, poolID, key string, fn func(storage.AttemptCount) (storage.AttemptCount, error)) error {
	return s.inTx(ctx, func(tx *Store) error {
		old, err := tx.GetAttempts(ctx, poolID, key)
		switch {
		case errors.Is(err, storage.ErrNotFound):
			old = storage.AttemptCount{PoolID: poolID, Key: key}
		case err != nil:
			return err
		}
		a, err := fn(old)
		if err != nil {
			return err
		}
		if a.PoolID != poolID || a.Key != key {
			return errKeyChanged("update attempts", poolID+"/"+key, a.PoolID+"/"+a.Key)
		}
		if a.ExpiresAt.IsZero() {
			_, err := execRowsStmt(ctx, tx.stmt(ctx, stDeleteAttempts), "delete attempts", poolID, key)
			return err
		}
		_, err = execRowsStmt(ctx, tx.stmt(ctx, stPutAttempts), "put attempts",
			poolID, key, a.Failures, micros(a.LockedUntil), micros(a.LastFailure), micros(a.ExpiresAt))
		return err
	})
}
