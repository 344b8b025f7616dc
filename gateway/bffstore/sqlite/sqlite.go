// Package sqlite is the bffstore.Store on an SQLite file (pure-Go
// modernc.org/sqlite): the BFF gateway's default, with nothing to run.
// Gateway processes on one host may share the file (WAL mode; SQLite's
// file locks order their writes); nodes on several hosts need the redis
// backend, since SQLite's locking is not safe over network file systems.
//
// Expiry is checked on read against this host's clock; expired rows are
// swept at most once a minute, on write.
package sqlite

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	_ "modernc.org/sqlite" // the "sqlite" database/sql driver

	"github.com/cognate-auth/cognate/gateway/bffstore"
)

var _ bffstore.Store = (*Store)(nil)

// sweepEvery spaces the deletes of expired rows.
const sweepEvery = time.Minute

const schema = `
CREATE TABLE IF NOT EXISTS bff_sessions (
	key     BLOB PRIMARY KEY,
	value   BLOB NOT NULL,
	expires INTEGER NOT NULL -- unix ms
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS bff_sessions_expires ON bff_sessions (expires);
CREATE TABLE IF NOT EXISTS bff_locks (
	key     BLOB PRIMARY KEY,
	token   TEXT NOT NULL,
	expires INTEGER NOT NULL -- unix ms
) WITHOUT ROWID;
`

// Store is an open session file. It is safe for concurrent use.
type Store struct {
	db *sql.DB

	mu        sync.Mutex
	lastSweep time.Time
}

// Open opens (creating it if needed) the session file at path.
func Open(ctx context.Context, path string) (*Store, error) {
	if path == "" || path == ":memory:" || strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("bffstore/sqlite: open %q: need a plain file path", path)
	}
	// busy_timeout: writers of other processes (other gateway nodes on
	// this host) are waited for. synchronous=NORMAL: in WAL mode a commit
	// survives a crash of the process; an OS crash may lose the last
	// refreshes, which signs those users out and nothing worse.
	db, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)")
	if err != nil {
		return nil, fmt.Errorf("bffstore/sqlite: open: %w", err)
	}
	db.SetMaxOpenConns(4)
	if _, err := db.ExecContext(ctx, schema); err != nil {
		db.Close()
		return nil, fmt.Errorf("bffstore/sqlite: schema: %w", err)
	}
	return &Store{db: db}, nil
}

// Close closes the file.
func (s *Store) Close() error { return s.db.Close() }

func ms(t time.Time) int64 { return t.UnixMilli() }

// Get returns the value under key and its expiry, or
// bffstore.ErrNotFound.
func (s *Store) Get(ctx context.Context, key bffstore.Key) ([]byte, time.Time, error) {
	var v []byte
	var exp int64
	err := s.db.QueryRowContext(ctx, `SELECT value, expires FROM bff_sessions WHERE key = ? AND expires > ?`, key[:], ms(time.Now())).Scan(&v, &exp)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, time.Time{}, bffstore.ErrNotFound
	case err != nil:
		return nil, time.Time{}, fmt.Errorf("bffstore/sqlite: get: %w", err)
	}
	return v, time.UnixMilli(exp), nil
}

// Touch moves the expiry of an unexpired value.
func (s *Store) Touch(ctx context.Context, key bffstore.Key, expires time.Time) error {
	now := time.Now()
	if !expires.After(now) {
		return s.Delete(ctx, key)
	}
	res, err := s.db.ExecContext(ctx, `UPDATE bff_sessions SET expires = ? WHERE key = ? AND expires > ?`, ms(expires), key[:], ms(now))
	if err != nil {
		return fmt.Errorf("bffstore/sqlite: touch: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return bffstore.ErrNotFound
	}
	return nil
}

// Put stores value under key until expires.
func (s *Store) Put(ctx context.Context, key bffstore.Key, value []byte, expires time.Time) error {
	if err := bffstore.CheckSize(value); err != nil {
		return err
	}
	now := time.Now()
	if !expires.After(now) {
		return s.Delete(ctx, key)
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO bff_sessions (key, value, expires) VALUES (?, ?, ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires = excluded.expires`, key[:], value, ms(expires))
	if err != nil {
		return fmt.Errorf("bffstore/sqlite: put: %w", err)
	}
	s.sweep(ctx, now)
	return nil
}

// sweep deletes expired rows, at most once per sweepEvery; a failure
// waits for the next turn.
func (s *Store) sweep(ctx context.Context, now time.Time) {
	s.mu.Lock()
	due := now.Sub(s.lastSweep) >= sweepEvery
	if due {
		s.lastSweep = now
	}
	s.mu.Unlock()
	if due {
		_, _ = s.db.ExecContext(ctx, `DELETE FROM bff_sessions WHERE expires <= ?`, ms(now))
		_, _ = s.db.ExecContext(ctx, `DELETE FROM bff_locks WHERE expires <= ?`, ms(now))
	}
}

// Delete removes key's value.
func (s *Store) Delete(ctx context.Context, key bffstore.Key) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM bff_sessions WHERE key = ?`, key[:]); err != nil {
		return fmt.Errorf("bffstore/sqlite: delete: %w", err)
	}
	return nil
}

// Lock takes the lock named key: a row that an insert creates, or takes
// over once its holder's ttl has passed; the random token makes unlock
// delete only its own row.
func (s *Store) Lock(ctx context.Context, key bffstore.Key, ttl time.Duration) (func(context.Context) error, error) {
	token := rand.Text()
	err := bffstore.Poll(ctx, func(ctx context.Context) (bool, error) {
		now := time.Now()
		res, err := s.db.ExecContext(ctx, `INSERT INTO bff_locks (key, token, expires) VALUES (?, ?, ?)
			ON CONFLICT (key) DO UPDATE SET token = excluded.token, expires = excluded.expires
			WHERE bff_locks.expires <= ?`, key[:], token, ms(now.Add(ttl)), ms(now))
		if err != nil {
			return false, err
		}
		n, err := res.RowsAffected()
		return n == 1, err
	})
	if err != nil {
		return nil, fmt.Errorf("bffstore/sqlite: lock: %w", err)
	}
	return func(ctx context.Context) error {
		if _, err := s.db.ExecContext(ctx, `DELETE FROM bff_locks WHERE key = ? AND token = ?`, key[:], token); err != nil {
			return fmt.Errorf("bffstore/sqlite: unlock: %w", err)
		}
		return nil
	}, nil
}
