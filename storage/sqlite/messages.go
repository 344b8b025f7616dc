package sqlite

import (
	"context"
	"strconv"
	"time"

	"github.com/cognate-auth/cognate/storage"
)

const messageColumns = `id, pool_id, username, destination, kind, code, created_at,
	done_at, attempts, next_attempt_at, last_error, COALESCE(custom_subject, ''), COALESCE(custom_body, '')`

const (
	sqlAddMessage = `INSERT INTO messages (pool_id, username, destination, kind, code, created_at,
	done_at, attempts, next_attempt_at, last_error, custom_subject, custom_body)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	sqlGetMessage    = `SELECT ` + messageColumns + ` FROM messages WHERE id = ?`
	sqlUpdateMessage = `UPDATE messages SET code = ?, done_at = ?, attempts = ?, next_attempt_at = ?, last_error = ?
	WHERE id = ?`
)

func scanMessage(sc scanner) (storage.Message, error) {
	var (
		m                      storage.Message
		created, done, nextTry int64
	)
	if err := sc.Scan(&m.ID, &m.PoolID, &m.Username, &m.Destination, &m.Kind, &m.Code, &created,
		&done, &m.Attempts, &nextTry, &m.LastError, &m.Subject, &m.Body); err != nil {
		return m, err
	}
	m.CreatedAt, m.DoneAt, m.NextAttemptAt = fromMicros(created), fromMicros(done), fromMicros(nextTry)
	return m, nil
}

// AddMessage implements storage.Storage. The store assigns the ID, in
// increasing order; m.ID is ignored.
func (s *Store) AddMessage(ctx context.Context, m storage.Message) error {
	_, err := execRowsStmt(ctx, s.stmt(ctx, stAddMessage), "add message",
		m.PoolID, m.Username, m.Destination, m.Kind, m.Code, micros(m.CreatedAt),
		micros(m.DoneAt), m.Attempts, micros(m.NextAttemptAt), m.LastError, nullText(m.Subject), nullText(m.Body))
	return err
}

// ListMessages implements storage.Storage: newest (highest ID) first; a
// limit of zero or less means no limit.
func (s *Store) ListMessages(ctx context.Context, limit int) ([]storage.Message, error) {
	return getAll(ctx, s.reads(), "list messages", scanMessage,
		`SELECT `+messageColumns+` FROM messages ORDER BY id DESC LIMIT ?`, sqlLimit(limit))
}

// ClaimMessages implements storage.Storage. The select and the lease run
// in one write transaction, which SQLite serializes with every other.
func (s *Store) ClaimMessages(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]storage.Message, error) {
	var out []storage.Message
	err := s.inTx(ctx, func(tx *Store) error {
		var err error
		out, err = getAll(ctx, tx.tx, "claim messages", scanMessage,
			`SELECT `+messageColumns+` FROM messages WHERE done_at = 0 AND next_attempt_at <= ?
			ORDER BY next_attempt_at, id LIMIT ?`, micros(now), sqlLimit(limit))
		if err != nil {
			return err
		}
		until := now.Add(lease)
		for i := range out {
			if _, err := execRows(ctx, tx.tx, "claim messages",
				`UPDATE messages SET next_attempt_at = ? WHERE id = ?`, micros(until), out[i].ID); err != nil {
				return err
			}
			out[i].NextAttemptAt = until.UTC().Truncate(time.Microsecond)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// UpdateMessage implements storage.Storage. Only the delivery fields
// (Code, DoneAt, Attempts, NextAttemptAt, LastError) can change.
func (s *Store) UpdateMessage(ctx context.Context, id int64, fn func(storage.Message) (storage.Message, error)) error {
	return s.inTx(ctx, func(tx *Store) error {
		old, err := getOne(ctx, tx.tx, "update message", scanMessage, sqlGetMessage, id)
		if err != nil {
			return err
		}
		m, err := fn(old)
		if err != nil {
			return err
		}
		if m.ID != id {
			return errKeyChanged("update message", strconv.FormatInt(id, 10), strconv.FormatInt(m.ID, 10))
		}
		return execOne(ctx, tx.tx, "update message", sqlUpdateMessage,
			m.Code, micros(m.DoneAt), m.Attempts, micros(m.NextAttemptAt), m.LastError, id)
	})
}

// nullText stores an empty custom text as NULL.
func nullText(s string) any {
	if s == "" {
		return nil
	}
	return s
}
