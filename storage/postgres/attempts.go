package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/cognate-auth/cognate/storage"
)

const attemptsColumns = `pool_id, key, failures, locked_until, last_failure, expires_at`

func scanAttempts(r pgx.Row) (storage.AttemptCount, error) {
	var (
		a                           storage.AttemptCount
		locked, lastFailure, expire int64
	)
	if err := r.Scan(&a.PoolID, &a.Key, &a.Failures, &locked, &lastFailure, &expire); err != nil {
		return storage.AttemptCount{}, err
	}
	a.LockedUntil, a.LastFailure, a.ExpiresAt = fromMicros(locked), fromMicros(lastFailure), fromMicros(expire)
	return a, nil
}

// GetAttempts implements storage.Storage. A row with no expiry is a
// placeholder of UpdateAttempts (see there), never a counter.
func (s *Store) GetAttempts(ctx context.Context, poolID, key string) (storage.AttemptCount, error) {
	return getOne(ctx, s.q(), "get attempts", scanAttempts,
		`SELECT `+attemptsColumns+` FROM attempts WHERE pool_id = $1 AND key = $2 AND expires_at <> 0`, poolID, key)
}

// UpdateAttempts implements storage.Storage. A counter that does not
// exist yet has nothing to lock, so concurrent first updaters would each
// start from zero: the first one in inserts a placeholder row (expiry 0,
// which no stored counter has) and every updater then locks that row,
// the others waiting, once it commits, to count on top of it. A missing
// pool is ErrNotFound before fn runs.
func (s *Store) UpdateAttempts(ctx context.Context, poolID, key string, fn func(storage.AttemptCount) (storage.AttemptCount, error)) error {
	const lock = `SELECT ` + attemptsColumns + ` FROM attempts WHERE pool_id = $1 AND key = $2 FOR UPDATE`
	return s.inTx(ctx, func(tx *Store) error {
		placed := false
		old, err := getOne(ctx, tx.tx, "update attempts", scanAttempts, lock, poolID, key)
		if errors.Is(err, storage.ErrNotFound) {
			var n int64
			n, err = execRows(ctx, tx.tx, "update attempts",
				`INSERT INTO attempts (`+attemptsColumns+`) VALUES ($1, $2, 0, 0, 0, 0) ON CONFLICT DO NOTHING`,
				poolID, key)
			if err != nil {
				return err
			}
			placed = n == 1
			old, err = getOne(ctx, tx.tx, "update attempts", scanAttempts, lock, poolID, key)
		}
		if err != nil {
			return err
		}
		if old.ExpiresAt.IsZero() {
			old = storage.AttemptCount{PoolID: poolID, Key: key}
		}
		a, err := fn(old)
		if err == nil && (a.PoolID != poolID || a.Key != key) {
			err = errKeyChanged("update attempts", poolID+"/"+key, a.PoolID+"/"+a.Key)
		}
		if err != nil {
			if placed {
				// Inside Atomic the transaction may yet commit: take the
				// placeholder back.
				if _, derr := execRows(ctx, tx.tx, "delete attempts",
					`DELETE FROM attempts WHERE pool_id = $1 AND key = $2`, poolID, key); derr != nil {
					return errors.Join(err, derr)
				}
			}
			return err
		}
		if a.ExpiresAt.IsZero() {
			_, err := execRows(ctx, tx.tx, "delete attempts",
				`DELETE FROM attempts WHERE pool_id = $1 AND key = $2`, poolID, key)
			return err
		}
		return execOne(ctx, tx.tx, "put attempts",
			`UPDATE attempts SET failures = $3, locked_until = $4, last_failure = $5, expires_at = $6
			WHERE pool_id = $1 AND key = $2`,
			poolID, key, a.Failures, micros(a.LockedUntil), micros(a.LastFailure), micros(a.ExpiresAt))
	})
}
