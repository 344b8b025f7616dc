package sqlite

import (
	"context"

	"github.com/cognate-auth/cognate/storage"
)

const codeColumns = `pool_id, username, purpose, hash, value, attempts, created_at, expires_at`

const (
	sqlPutCode = `INSERT INTO codes (` + codeColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
	ON CONFLICT (pool_id, username, purpose) DO UPDATE SET
		hash = excluded.hash, value = excluded.value, attempts = excluded.attempts,
		created_at = excluded.created_at, expires_at = excluded.expires_at`
	sqlGetCode    = `SELECT ` + codeColumns + ` FROM codes WHERE pool_id = ? AND username = ? AND purpose = ?`
	sqlUpdateCode = `UPDATE codes SET hash = ?, value = ?, attempts = ?, created_at = ?, expires_at = ?
	WHERE pool_id = ? AND username = ? AND purpose = ?`
	sqlDeleteCode = `DELETE FROM codes WHERE pool_id = ? AND username = ? AND purpose = ?`
	sqlAddMessage = `INSERT INTO messages (pool_id, username, destination, kind, code, created_at) VALUES (?, ?, ?, ?, ?, ?)`
)

func scanCode(sc scanner) (storage.Code, error) {
	r := new(struct { // one allocation, see scanUser
		c                storage.Code
		created, expires int64
		dest             [8]any
	})
	c := &r.c
	r.dest = [...]any{&c.PoolID, &c.Username, &c.Purpose, &c.Hash, &c.Value, &c.Attempts, &r.created, &r.expires}
	if err := sc.Scan(r.dest[:]...); err != nil {
		return storage.Code{}, err
	}
	c.CreatedAt, c.ExpiresAt = fromMicros(r.created), fromMicros(r.expires)
	return *c, nil
}

// PutCode implements storage.Storage. A missing user is ErrNotFound.
func (s *Store) PutCode(ctx context.Context, c storage.Code) error {
	_, err := execRowsStmt(ctx, s.stmt(ctx, stPutCode), "put code",
		c.PoolID, c.Username, c.Purpose, c.Hash, c.Value, c.Attempts, micros(c.CreatedAt), micros(c.ExpiresAt))
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
			c.Hash, c.Value, c.Attempts, micros(c.CreatedAt), micros(c.ExpiresAt), poolID, username, purpose)
	})
}

// DeleteCode implements storage.Storage. A missing code is ErrNotFound.
func (s *Store) DeleteCode(ctx context.Context, poolID, username, purpose string) error {
	return execOneStmt(ctx, s.stmt(ctx, stDeleteCode), "delete code", poolID, username, purpose)
}

const messageColumns = `id, pool_id, username, destination, kind, code, created_at`

func scanMessage(sc scanner) (storage.Message, error) {
	var (
		m       storage.Message
		created int64
	)
	if err := sc.Scan(&m.ID, &m.PoolID, &m.Username, &m.Destination, &m.Kind, &m.Code, &created); err != nil {
		return m, err
	}
	m.CreatedAt = fromMicros(created)
	return m, nil
}

// AddMessage implements storage.Storage. The store assigns the ID, in
// increasing order; m.ID is ignored.
func (s *Store) AddMessage(ctx context.Context, m storage.Message) error {
	_, err := execRowsStmt(ctx, s.stmt(ctx, stAddMessage), "add message",
		m.PoolID, m.Username, m.Destination, m.Kind, m.Code, micros(m.CreatedAt))
	return err
}

// ListMessages implements storage.Storage: newest (highest ID) first; a
// limit of zero or less means no limit.
func (s *Store) ListMessages(ctx context.Context, limit int) ([]storage.Message, error) {
	return getAll(ctx, s.reads(), "list messages", scanMessage,
		`SELECT `+messageColumns+` FROM messages ORDER BY id DESC LIMIT ?`, sqlLimit(limit))
}
