// Package postgres implements storage.Storage on PostgreSQL, through a
// pgx connection pool, so that several Cognate nodes can share one user
// pool database.
//
// # Connecting
//
// Open takes a postgres:// or postgresql:// URL (or a key=value
// connection string) as pgx parses it: host, user, password, database,
// sslmode and the like, and pgx's pool parameters (pool_max_conns,
// pool_min_conns, pool_max_conn_lifetime, pool_max_conn_idle_time,
// connect_timeout). Settings combine in this order, each overriding the
// ones before it: pgx's defaults, then this package's defaults (a 5 s
// connect timeout and a 10 s statement timeout, used only where the URL
// names none), then the URL, then every non-zero field of Options. A
// statement_timeout in the URL (as a parameter of its own or inside
// options=-c…) is honoured the same way.
//
// # Schema
//
// Open applies the embedded migrations (migrations/NNNN_*.sql, numbered
// like SQLite's) in one transaction under a PostgreSQL advisory lock, so
// nodes starting at once against a fresh database migrate it once, and
// records them in schema_migrations. A database migrated by a newer
// binary is refused with ErrSchemaTooNew.
//
// # Concurrency
//
// Every method runs in one statement or one transaction, at READ
// COMMITTED. Update* methods lock the row they read (SELECT … FOR
// UPDATE), so that updaters on other connections, or other nodes, wait
// and then see what the first one wrote. Transactions the server aborts
// to resolve a deadlock or a serialization failure are run again a few
// times after a short jittered pause: updaters, and Atomic's callback,
// may therefore run more than once.
//
// Inside Atomic, as in any PostgreSQL transaction, a statement that fails
// (a taken name, a missing parent) ends the transaction: every later call
// on the transaction's Storage fails, so fn should return the first error
// it gets, as Cognate's callers do. A nested Atomic runs under a
// savepoint, and its failure leaves the enclosing transaction usable.
//
// # Errors
//
// Unique violations are storage.ErrAlreadyExists; a missing parent (a
// foreign key violation) or a missing row is storage.ErrNotFound. A
// database that cannot be reached, a connection lost mid-call, a server
// shutting down, not yet accepting connections or refusing more, and a
// statement that ran past the statement timeout are
// storage.ErrUnavailable: nothing was committed and the call may be
// retried. (A connection lost while its COMMIT was on the way is the
// exception no client can rule out: the transaction may have committed,
// and only reading back tells.) The pgx error stays in the chain under
// each of them. A context the caller cancelled gives its own error
// (context.Canceled, context.DeadlineExceeded), not ErrUnavailable.
//
// # Encoding
//
// Times are BIGINT unix microseconds read back in UTC, the zero
// time.Time stored as 0, as in storage/sqlite. Settings and attribute
// maps are JSONB; attribute maps always read back non-nil. Identifier
// columns use the "C" collation, so listings order bytewise.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cognate-auth/cognate/storage"
)

var _ storage.Storage = (*Store)(nil)

// Defaults used where neither Options nor the URL say otherwise.
const (
	DefaultStatementTimeout = 10 * time.Second
	DefaultConnectTimeout   = 5 * time.Second
)

// Options configures Open. The zero value is usable: every zero field
// keeps what the URL says, or else the default its comment names.
type Options struct {
	// Logger receives migration and error-path messages. Nil discards
	// them.
	Logger *slog.Logger
	// MaxConns and MinConns bound the connection pool; 0 keeps the URL's
	// pool_max_conns and pool_min_conns, or pgx's defaults (the greater
	// of 4 and the number of CPUs; none kept open).
	MaxConns int32
	MinConns int32
	// StatementTimeout is the server-side limit on one statement, set on
	// every connection; 0 keeps the URL's statement_timeout, or else
	// DefaultStatementTimeout. A statement cut short by it is
	// storage.ErrUnavailable.
	StatementTimeout time.Duration
	// ConnectTimeout bounds opening one connection; 0 keeps the URL's
	// connect_timeout, or else DefaultConnectTimeout.
	ConnectTimeout time.Duration
	// MaxConnLifetime and MaxConnIdleTime recycle connections; 0 keeps the
	// URL's pool_max_conn_lifetime and pool_max_conn_idle_time, or pgx's
	// defaults (an hour; half an hour).
	MaxConnLifetime time.Duration
	MaxConnIdleTime time.Duration
}

// Store is the PostgreSQL storage.Storage. Create it with Open; it is
// safe for concurrent use.
type Store struct {
	pool *pgxpool.Pool
	log  *slog.Logger
	// tx is set on the Store that Atomic hands to its callback: every
	// query, reads included, then goes through it. Nested Atomic calls
	// bind a savepoint of it.
	tx pgx.Tx
}

// querier is what both *pgxpool.Pool and pgx.Tx offer.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// Open connects to the database at url, applies any pending migrations
// and returns the Store. A database that cannot be reached is
// storage.ErrUnavailable; one migrated by a newer binary is
// ErrSchemaTooNew.
func Open(ctx context.Context, url string, opts Options) (*Store, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cfg, err := poolConfig(url, opts)
	if err != nil {
		return nil, err
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, wrap("open", err)
	}
	if err := migrate(ctx, pool, log); err != nil {
		pool.Close()
		return nil, err
	}
	return &Store{pool: pool, log: log}, nil
}

// poolConfig parses url and lays opts and the package defaults over it,
// in the precedence the package doc gives.
func poolConfig(url string, opts Options) (*pgxpool.Config, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// The message can quote the URL, password included; pgx redacts
		// it in its own error.
		return nil, fmt.Errorf("postgres: parse url: %w", err)
	}
	cc := cfg.ConnConfig
	switch {
	case opts.ConnectTimeout > 0:
		cc.ConnectTimeout = opts.ConnectTimeout
	case cc.ConnectTimeout == 0:
		cc.ConnectTimeout = DefaultConnectTimeout
	}
	// A server that vanishes without closing its connections (a network
	// partition, a host that lost power) leaves a call waiting for an
	// answer that never comes, and the statement timeout, enforced by the
	// server, cannot end it. Keepalive probes notice the silence within
	// about 20 s and fail the call, as storage.ErrUnavailable, where the
	// operating system's defaults would take hours.
	cc.DialFunc = (&net.Dialer{KeepAliveConfig: net.KeepAliveConfig{
		Enable: true, Idle: 5 * time.Second, Interval: 5 * time.Second, Count: 3,
	}}).DialContext
	if cc.RuntimeParams == nil {
		cc.RuntimeParams = map[string]string{}
	}
	// The timeout goes in the startup packet, costing no round trip. One
	// set through options=-c… is the server's to apply and is left alone.
	_, inURL := cc.RuntimeParams["statement_timeout"]
	switch {
	case opts.StatementTimeout > 0:
		cc.RuntimeParams["statement_timeout"] = strconv.FormatInt(max(1, opts.StatementTimeout.Milliseconds()), 10)
	case !inURL && !hasOptionsTimeout(cc.RuntimeParams["options"]):
		cc.RuntimeParams["statement_timeout"] = strconv.FormatInt(DefaultStatementTimeout.Milliseconds(), 10)
	}
	if opts.MaxConns > 0 {
		cfg.MaxConns = opts.MaxConns
	}
	if opts.MinConns > 0 {
		cfg.MinConns = opts.MinConns
	}
	if cfg.MinConns > cfg.MaxConns {
		return nil, fmt.Errorf("postgres: MinConns %d is above MaxConns %d", cfg.MinConns, cfg.MaxConns)
	}
	if opts.MaxConnLifetime > 0 {
		cfg.MaxConnLifetime = opts.MaxConnLifetime
	}
	if opts.MaxConnIdleTime > 0 {
		cfg.MaxConnIdleTime = opts.MaxConnIdleTime
	}
	return cfg, nil
}

// hasOptionsTimeout reports whether a libpq options string (the
// options=-c name=value URL parameter) sets statement_timeout.
func hasOptionsTimeout(options string) bool {
	return strings.Contains(options, "statement_timeout")
}

// Close closes the connection pool, waiting for connections in use to be
// returned. On the Storage given to an Atomic callback it is an error:
// the transaction belongs to Atomic.
func (s *Store) Close() error {
	if s.tx != nil {
		return errors.New("postgres: Close called inside Atomic")
	}
	s.pool.Close()
	return nil
}

// Ping checks that the database answers, within ctx, on a connection of
// the pool. Readiness checks use it, through an optional interface of
// their own.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return wrap("ping", err)
	}
	return nil
}

// Atomic runs fn in one transaction. On the Store given to fn, Atomic
// runs under a savepoint of the same transaction, so a failing nested
// call undoes its own writes even if the outer fn carries on. fn's error
// is returned unchanged. When the server aborts the transaction to break
// a deadlock, fn runs again (a few times at most), so what it captures
// must be set afresh on every run.
func (s *Store) Atomic(ctx context.Context, fn func(ctx context.Context, tx storage.Storage) error) error {
	if s.tx != nil {
		return s.savepoint(ctx, func(tx *Store) error { return fn(ctx, tx) })
	}
	return s.inTx(ctx, func(tx *Store) error { return fn(ctx, tx) })
}

// Retries of transactions the server aborted to resolve a conflict.
const (
	maxConflictRetries = 4
	conflictBackoff    = 5 * time.Millisecond
)

// inTx runs fn with a Store bound to a transaction. Inside Atomic it
// joins the enclosing transaction: the methods that use inTx write
// nothing before their last chance to fail with an error of their own,
// and a statement that fails aborts the whole transaction, so no
// savepoint is needed to keep half a change from committing. fn's error
// is returned unchanged, unless the server kept aborting the transaction
// for conflicts, which is storage.ErrUnavailable.
func (s *Store) inTx(ctx context.Context, fn func(tx *Store) error) error {
	if s.tx != nil {
		return fn(s)
	}
	for attempt := 0; ; attempt++ {
		err := s.runTx(ctx, fn)
		if err == nil || !isConflict(err) {
			return err
		}
		if attempt == maxConflictRetries {
			return fmt.Errorf("postgres: gave up after %d conflicting attempts: %w: %w", attempt+1, storage.ErrUnavailable, err)
		}
		// Full jitter keeps the transactions that collided from
		// colliding again in step.
		pause := time.Duration(rand.Int64N(int64(conflictBackoff) << attempt))
		select {
		case <-ctx.Done():
			return fmt.Errorf("postgres: %w", ctx.Err())
		case <-time.After(pause):
		}
	}
}

// runTx runs fn in one new transaction.
func (s *Store) runTx(ctx context.Context, fn func(tx *Store) error) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return wrap("begin", err)
	}
	committing := false
	defer func() {
		// Also reached when fn panics, so the connection goes back to the
		// pool clean.
		if !committing {
			s.logRollback("rollback", tx.Rollback(context.WithoutCancel(ctx)))
		}
	}()
	if err := fn(&Store{pool: s.pool, log: s.log, tx: tx}); err != nil {
		return err
	}
	committing = true
	if err := tx.Commit(ctx); err != nil {
		return wrap("commit", err)
	}
	return nil
}

// savepoint runs fn under a savepoint of s's transaction.
func (s *Store) savepoint(ctx context.Context, fn func(tx *Store) error) error {
	sp, err := s.tx.Begin(ctx)
	if err != nil {
		return wrap("savepoint", err)
	}
	if err := fn(&Store{pool: s.pool, log: s.log, tx: sp}); err != nil {
		// Undo even when ctx is what failed fn.
		s.logRollback("rollback to savepoint", sp.Rollback(context.WithoutCancel(ctx)))
		return err
	}
	if err := sp.Commit(ctx); err != nil {
		return wrap("release savepoint", err)
	}
	return nil
}

// logRollback logs a failure to undo writes, the caller already having an
// error to return. ErrTxClosed means pgx ended the transaction already;
// a lost connection takes the transaction with it.
func (s *Store) logRollback(what string, err error) {
	if err != nil && !errors.Is(err, pgx.ErrTxClosed) && !unavailable(err) {
		s.log.Error("postgres: "+what+" failed", "err", err)
	}
}

// q returns where queries go: the transaction if any, else the pool.
func (s *Store) q() querier {
	if s.tx != nil {
		return s.tx
	}
	return s.pool
}

// getOne runs a single-row query and scans it; no row is ErrNotFound.
func getOne[T any](ctx context.Context, q querier, op string, scan func(pgx.Row) (T, error), query string, args ...any) (T, error) {
	v, err := scan(q.QueryRow(ctx, query, args...))
	if err != nil {
		var zero T
		return zero, wrap(op, err)
	}
	return v, nil
}

// getAll runs a query and scans every row.
func getAll[T any](ctx context.Context, q querier, op string, scan func(pgx.Row) (T, error), query string, args ...any) ([]T, error) {
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return nil, wrap(op, err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, wrap(op, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap(op, err)
	}
	return out, nil
}

// execRows runs a write statement and returns how many rows it changed.
func execRows(ctx context.Context, q querier, op, query string, args ...any) (int64, error) {
	tag, err := q.Exec(ctx, query, args...)
	if err != nil {
		return 0, wrap(op, err)
	}
	return tag.RowsAffected(), nil
}

// execOne runs a write statement that must hit exactly one row: none is
// ErrNotFound.
func execOne(ctx context.Context, q querier, op, query string, args ...any) error {
	n, err := execRows(ctx, q, op, query, args...)
	if err != nil {
		return err
	}
	if n == 0 {
		return wrap(op, pgx.ErrNoRows)
	}
	return nil
}

// errKeyChanged reports an updater that returned a record with a
// different identity; Update* methods cannot move records.
func errKeyChanged(op, from, to string) error {
	return fmt.Errorf("postgres: %s: updater changed the key from %q to %q", op, from, to)
}

// micros encodes t as unix microseconds, the zero time as 0.
func micros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

// fromMicros decodes what micros encodes, in UTC.
func fromMicros(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMicro(v).UTC()
}

// sqlLimit turns a caller's limit into a LIMIT argument: NULL, meaning
// none, for zero or less.
func sqlLimit(limit int) any {
	if limit <= 0 {
		return nil
	}
	return int64(limit)
}
