package sqlite

import (
	"context"

	"github.com/cognate-auth/cognate/storage"
)

const codeColumns = `pool_id, username, purpose, hash, value, created_at, expires_at, used_at`

const (
	sqlPutCode = `INSERT INTO codes (` + codeColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
	ON CONFLICT (pool_id, username, purpose) DO UPDATE SET
		hash = excluded.hash, value = excluded.value, used_at = excluded.used_at,
		created_at = excluded.created_at, expires_at = excluded.expires_at`
	sqlGetCode    = `SELECT ` + codeColumns + ` FROM codes WHERE pool_id = ? AND username = ? AND purpose = ?`
	sqlUpdateCode = `UPDATE codes SET hash = ?, value = ?, created_at = ?, expires_at = ?, used_at = ?
	WHERE pool_id = ? AND username = ? AND purpose = ?`
	sqlDeleteCode = `DELETE FROM codes WHERE pool_id = ? AND username = ? AND purpose = ?`
)

func scanCode(sc scanner) (storage.Code, error) {
	r := new(struct { // one allocation, see scanUser
		c                      storage.Code
		created, expires, used int64
		dest                   [8]any
	})
	c := &r.c
	r.dest = [...]any{&c.PoolID, &c.Username, &c.Purpose, &c.Hash, &c.Value, &r.created, &r.expires, &r.used}
	if err := sc.Scan(r.dest[:]...); err != nil {
		return storage.Code{}, err
	}
	c.CreatedAt, c.ExpiresAt, c.UsedAt = fromMicros(r.created), fromMicros(r.expires), fromMicros(r.used)
	return *c, nil
}

// PutCode implements storage.Storage. A missing user is ErrNotFound.
func (s *Store) PutCode(ctx context.Context, c storage.Code) error {
	_, err := execRowsStmt(ctx, s.stmt(ctx, stPutCode), "put code",
		c.PoolID, c.Username, c.Purpose, c.Hash, c.Value, micros(c.CreatedAt), micros(c.ExpiresAt), micros(c.UsedAt))
	return err
}

// GetCode implements storage.Storage.
func (s *Store) GetCode(ctx context.Context, poolID, username, purpose string) (storage.Code, error) {
	return getOneStmt(ctx, s.stmt(ctx, stGetCode), "get code", scanCode, poolID, username, purpose)
}

// UpdateCode implements storage.Storage. The updater may not change
// PoolID, Username or Purpose.
func (s *Store) UpdateCode(ctx context.Context, poolID, username, purpose string, fn func(storage.Code) (storage.Code, error)) error {
	return s.inTx(ctx, func(tx *Store) error {
		old, err := tx.GetCode(ctx, poolID, username, purpose)
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
		return execOneStmt(ctx, tx.stmt(ctx, stUpdateCode), "update code",
			c.Hash, c.Value, micros(c.CreatedAt), micros(c.ExpiresAt), micros(c.UsedAt), poolID, username, purpose)
	})
}

// DeleteCode implements storage.Storage. A missing code is ErrNotFound.
func (s *Store) DeleteCode(ctx context.Context, poolID, username, purpose string) error {
	return execOneStmt(ctx, s.stmt(ctx, stDeleteCode), "delete code", poolID, username, purpose)
}
