package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/cognate-auth/cognate/storage"
)

const codeColumns = `pool_id, username, purpose, hash, value, created_at, expires_at, used_at`

func scanCode(r pgx.Row) (storage.Code, error) {
	var (
		c                      storage.Code
		created, expires, used int64
	)
	if err := r.Scan(&c.PoolID, &c.Username, &c.Purpose, &c.Hash, &c.Value, &created, &expires, &used); err != nil {
		return storage.Code{}, err
	}
	c.CreatedAt, c.ExpiresAt, c.UsedAt = fromMicros(created), fromMicros(expires), fromMicros(used)
	return c, nil
}

// PutCode implements storage.Storage. A missing user is ErrNotFound.
func (s *Store) PutCode(ctx context.Context, c storage.Code) error {
	_, err := execRows(ctx, s.q(), "put code",
		`INSERT INTO codes (`+codeColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		ON CONFLICT (pool_id, username, purpose) DO UPDATE SET
			hash = excluded.hash, value = excluded.value, used_at = excluded.used_at,
			created_at = excluded.created_at, expires_at = excluded.expires_at`,
		c.PoolID, c.Username, c.Purpose, c.Hash, c.Value, micros(c.CreatedAt), micros(c.ExpiresAt), micros(c.UsedAt))
	return err
}

// GetCode implements storage.Storage.
func (s *Store) GetCode(ctx context.Context, poolID, username, purpose string) (storage.Code, error) {
	return getOne(ctx, s.q(), "get code", scanCode,
		`SELECT `+codeColumns+` FROM codes WHERE pool_id = $1 AND username = $2 AND purpose = $3`,
		poolID, username, purpose)
}

// UpdateCode implements storage.Storage. The updater may not change
// PoolID, Username or Purpose.
func (s *Store) UpdateCode(ctx context.Context, poolID, username, purpose string, fn func(storage.Code) (storage.Code, error)) error {
	return s.inTx(ctx, func(tx *Store) error {
		old, err := getOne(ctx, tx.tx, "update code", scanCode,
			`SELECT `+codeColumns+` FROM codes WHERE pool_id = $1 AND username = $2 AND purpose = $3 FOR UPDATE`,
			poolID, username, purpose)
		if err != nil {
			return err
		}
		c, err := fn(old)
		if err != nil {
			return err
		}
		if c.PoolID != poolID || c.Username != username || c.Purpose != purpose {
			return errKeyChanged("update code", poolID+"/"+username+"/"+purpose, c.PoolID+"/"+c.Username+"/"+c.Purpose)
		}
		return execOne(ctx, tx.tx, "update code",
			`UPDATE codes SET hash = $4, value = $5, created_at = $6, expires_at = $7, used_at = $8
			WHERE pool_id = $1 AND username = $2 AND purpose = $3`,
			poolID, username, purpose, c.Hash, c.Value, micros(c.CreatedAt), micros(c.ExpiresAt), micros(c.UsedAt))
	})
}

// DeleteCode implements storage.Storage. A missing code is ErrNotFound.
func (s *Store) DeleteCode(ctx context.Context, poolID, username, purpose string) error {
	return execOne(ctx, s.q(), "delete code",
		`DELETE FROM codes WHERE pool_id = $1 AND username = $2 AND purpose = $3`, poolID, username, purpose)
}
