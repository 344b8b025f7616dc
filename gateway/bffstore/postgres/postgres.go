// Package postgres is the bffstore.Store on PostgreSQL (pgx), for
// gateway nodes that share sessions and would rather keep them in the
// database they already run than in Redis. Values are rows of one table,
// locks rows of another whose expiry the database's clock sets, taken
// over by an upsert once they expire.
package postgres

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"regexp"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cognate-auth/cognate/gateway/bffstore"
)

var _ bffstore.Store = (*Store)(nil)

// DefaultTable names the sessions' table (the locks' is <table>_locks).
const DefaultTable = "cognate_gateway_sessions"

// sweepEvery spaces the deletes of expired rows.
const sweepEvery = time.Minute

// Options configures Open.
type Options struct {
	// Table names the sessions' table; "" means DefaultTable.
	Table string
}

var tableName = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,40}$`)

// Store is a connection pool. It is safe for concurrent use.
type Store struct {
	pool                              *pgxpool.Pool
	get, put, touch, del, sweep, lock string
	unlock                            string

	mu        sync.Mutex
	lastSweep time.Time
}

// Open connects to url (postgres://user:password@host:port/db?…) and
// creates the tables if needed.
func Open(ctx context.Context, url string, opts Options) (*Store, error) {
	if opts.Table == "" {
		opts.Table = DefaultTable
	}
	if !tableName.MatchString(opts.Table) {
		return nil, fmt.Errorf("bffstore/postgres: table name %q: want lower-case letters, digits and '_'", opts.Table)
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("bffstore/postgres: %w", err)
	}
	// A request waits for the store: a dead one must fail it quickly.
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = 2 * time.Second
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("bffstore/postgres: %w", err)
	}
	t, l := opts.Table, opts.Table+"_locks"
	schema := `CREATE TABLE IF NOT EXISTS ` + t + ` (key bytea PRIMARY KEY, value bytea NOT NULL, expires timestamptz NOT NULL);
CREATE INDEX IF NOT EXISTS ` + t + `_expires ON ` + t + ` (expires);
CREATE TABLE IF NOT EXISTS ` + l + ` (key bytea PRIMARY KEY, token text NOT NULL, expires timestamptz NOT NULL)`
	if _, err := pool.Exec(ctx, schema); err != nil {
		pool.Close()
		return nil, fmt.Errorf("bffstore/postgres: schema: %w", err)
	}
	return &Store{
		pool:  pool,
		get:   `SELECT value, expires FROM ` + t + ` WHERE key = $1 AND expires > clock_timestamp()`,
		touch: `UPDATE ` + t + ` SET expires = $2 WHERE key = $1 AND expires > clock_timestamp()`,
		put: `INSERT INTO ` + t + ` (key, value, expires) VALUES ($1, $2, $3)
			ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires = excluded.expires`,
		del:   `DELETE FROM ` + t + ` WHERE key = $1`,
		sweep: `DELETE FROM ` + t + ` WHERE expires <= clock_timestamp(); DELETE FROM ` + l + ` WHERE expires <= clock_timestamp()`,
		lock: `INSERT INTO ` + l + ` (key, token, expires) VALUES ($1, $2, clock_timestamp() + $3 * interval '1 millisecond')
			ON CONFLICT (key) DO UPDATE SET token = excluded.token, expires = excluded.expires
			WHERE ` + l + `.expires <= clock_timestamp()`,
		unlock: `DELETE FROM ` + l + ` WHERE key = $1 AND token = $2`,
	}, nil
}

// Close closes the pool.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// Get returns the value under key and its expiry, or
// bffstore.ErrNotFound.
func (s *Store) Get(ctx context.Context, key bffstore.Key) ([]byte, time.Time, error) {
	var v []byte
	var exp time.Time
	err := s.pool.QueryRow(ctx, s.get, key[:]).Scan(&v, &exp)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil, time.Time{}, bffstore.ErrNotFound
	case err != nil:
		return nil, time.Time{}, fmt.Errorf("bffstore/postgres: get: %w", err)
	}
	return v, exp, nil
}

// Touch moves the expiry of an unexpired value.
func (s *Store) Touch(ctx context.Context, key bffstore.Key, expires time.Time) error {
	if !expires.After(time.Now()) {
		return s.Delete(ctx, key)
	}
	tag, err := s.pool.Exec(ctx, s.touch, key[:], expires)
	if err != nil {
		return fmt.Errorf("bffstore/postgres: touch: %w", err)
	}
	if tag.RowsAffected() == 0 {
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
	if _, err := s.pool.Exec(ctx, s.put, key[:], value, expires); err != nil {
		return fmt.Errorf("bffstore/postgres: put: %w", err)
	}
	s.mu.Lock()
	due := now.Sub(s.lastSweep) >= sweepEvery
	if due {
		s.lastSweep = now
	}
	s.mu.Unlock()
	if due {
		// A failed sweep waits for the next turn.
		_, _ = s.pool.Exec(ctx, s.sweep)
	}
	return nil
}

// Delete removes key's value.
func (s *Store) Delete(ctx context.Context, key bffstore.Key) error {
	if _, err := s.pool.Exec(ctx, s.del, key[:]); err != nil {
		return fmt.Errorf("bffstore/postgres: delete: %w", err)
	}
	return nil
}

// Lock takes the lock named key.
func (s *Store) Lock(ctx context.Context, key bffstore.Key, ttl time.Duration) (func(context.Context) error, error) {
	token := rand.Text()
	err := bffstore.Poll(ctx, func(ctx context.Context) (bool, error) {
		tag, err := s.pool.Exec(ctx, s.lock, key[:], token, ttl.Milliseconds())
		return err == nil && tag.RowsAffected() == 1, err
	})
	if err != nil {
		return nil, fmt.Errorf("bffstore/postgres: lock: %w", err)
	}
	return func(ctx context.Context) error {
		if _, err := s.pool.Exec(ctx, s.unlock, key[:], token); err != nil {
			return fmt.Errorf("bffstore/postgres: unlock: %w", err)
		}
		return nil
	}, nil
}
