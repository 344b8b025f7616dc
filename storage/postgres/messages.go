package postgres

import (
	"cmp"
	"context"
	"slices"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cognate-auth/cognate/storage"
)

const messageColumns = `id, pool_id, username, destination, kind, code, created_at,
	done_at, attempts, next_attempt_at, last_error, COALESCE(custom_subject, ''), COALESCE(custom_body, '')`

func scanMessage(r pgx.Row) (storage.Message, error) {
	var (
		m                      storage.Message
		created, done, nextTry int64
	)
	if err := r.Scan(&m.ID, &m.PoolID, &m.Username, &m.Destination, &m.Kind, &m.Code, &created,
		&done, &m.Attempts, &nextTry, &m.LastError, &m.Subject, &m.Body); err != nil {
		return storage.Message{}, err
	}
	m.CreatedAt, m.DoneAt, m.NextAttemptAt = fromMicros(created), fromMicros(done), fromMicros(nextTry)
	return m, nil
}

// AddMessage implements storage.Storage. The store assigns the ID, in
// increasing order; m.ID is ignored.
func (s *Store) AddMessage(ctx context.Context, m storage.Message) error {
	_, err := execRows(ctx, s.q(), "add message",
		`INSERT INTO messages (pool_id, username, destination, kind, code, created_at,
			done_at, attempts, next_attempt_at, last_error, custom_subject, custom_body)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
		m.PoolID, m.Username, m.Destination, m.Kind, m.Code, micros(m.CreatedAt),
		micros(m.DoneAt), m.Attempts, micros(m.NextAttemptAt), m.LastError, nullText(m.Subject), nullText(m.Body))
	return err
}

// ListMessages implements storage.Storage: newest (highest ID) first; a
// limit of zero or less means no limit.
func (s *Store) ListMessages(ctx context.Context, limit int) ([]storage.Message, error) {
	return getAll(ctx, s.q(), "list messages", scanMessage,
		`SELECT `+messageColumns+` FROM messages ORDER BY id DESC LIMIT $1`, sqlLimit(limit))
}

// claimed is a message ClaimMessages leased, with when it was due.
type claimed struct {
	m   storage.Message
	due int64
}

// ClaimMessages implements storage.Storage in one statement. Its rows are
// locked as they are picked, and rows another claimer holds are skipped
// rather than waited for; a row another claimer leased after this one
// started reading is checked again once locked, and left out.
func (s *Store) ClaimMessages(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]storage.Message, error) {
	until := now.Add(lease)
	rows, err := getAll(ctx, s.q(), "claim messages", func(r pgx.Row) (claimed, error) {
		var (
			c                      claimed
			created, done, nextTry int64
		)
		m := &c.m
		if err := r.Scan(&m.ID, &m.PoolID, &m.Username, &m.Destination, &m.Kind, &m.Code, &created,
			&done, &m.Attempts, &nextTry, &m.LastError, &c.due); err != nil {
			return claimed{}, err
		}
		m.CreatedAt, m.DoneAt, m.NextAttemptAt = fromMicros(created), fromMicros(done), fromMicros(nextTry)
		return c, nil
	}, `WITH due AS (
			SELECT id, next_attempt_at FROM messages
			WHERE done_at = 0 AND next_attempt_at <= $1
			ORDER BY next_attempt_at, id
			LIMIT $2
			FOR UPDATE SKIP LOCKED
		)
		UPDATE messages m SET next_attempt_at = $3 FROM due WHERE m.id = due.id
		RETURNING m.id, m.pool_id, m.username, m.destination, m.kind, m.code, m.created_at,
			m.done_at, m.attempts, m.next_attempt_at, m.last_error, due.next_attempt_at`,
		micros(now), sqlLimit(limit), micros(until))
	if err != nil {
		return nil, err
	}
	// RETURNING follows no order: put back the oldest-first one.
	slices.SortFunc(rows, func(a, b claimed) int {
		return cmp.Or(cmp.Compare(a.due, b.due), cmp.Compare(a.m.ID, b.m.ID))
	})
	var out []storage.Message
	for _, c := range rows {
		out = append(out, c.m)
	}
	return out, nil
}

// UpdateMessage implements storage.Storage. Only the delivery fields
// (Code, DoneAt, Attempts, NextAttemptAt, LastError) can change.
func (s *Store) UpdateMessage(ctx context.Context, id int64, fn func(storage.Message) (storage.Message, error)) error {
	return s.inTx(ctx, func(tx *Store) error {
		old, err := getOne(ctx, tx.tx, "update message", scanMessage,
			`SELECT `+messageColumns+` FROM messages WHERE id = $1 FOR UPDATE`, id)
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
		return execOne(ctx, tx.tx, "update message",
			`UPDATE messages SET code = $2, done_at = $3, attempts = $4, next_attempt_at = $5, last_error = $6
			WHERE id = $1`,
			id, m.Code, micros(m.DoneAt), m.Attempts, micros(m.NextAttemptAt), m.LastError)
	})
}

// nullText stores an empty custom text as NULL.
func nullText(s string) any {
	if s == "" {
		return nil
	}
	return s
}
