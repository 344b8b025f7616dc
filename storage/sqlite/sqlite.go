// Package sqlite implements storage.Storage on an SQLite file, using the
// pure-Go modernc.org/sqlite driver.
//
// # Connections
//
// The database runs in WAL mode. All writes go through a single connection
// (its own *sql.DB limited to one open connection) whose transactions begin
// IMMEDIATE, so a read-modify-write takes the write lock up front instead
// of failing with SQLITE_BUSY when it upgrades. Reads outside a transaction
// go through a separate pool of query_only connections; under WAL they read
// the last committed state and never wait for the writer.
//
// # Durability
//
// synchronous=FULL makes SQLite fsync the WAL on every commit: once a write
// has returned, it survives kill -9 and, on storage that honours fsync,
// power loss. The price is one fsync per write transaction, which bounds
// write throughput (next to nothing on tmpfs or a battery-backed cache, a
// fraction of a millisecond to several milliseconds on ordinary disks);
// reads pay nothing. On macOS, where fsync stops at the drive's volatile
// cache, fullfsync and checkpoint_fullfsync make those syncs F_FULLFSYNC.
//
// # Statements
//
// Open prepares the statements of the hot paths (point lookups and the
// writes of sign-in, refresh and sign-up) once, on the writer and, for
// reads, on the read pool; transactions reuse the writer's. Other queries
// run from their SQL text.
//
// # Encoding
//
// Times are stored as INTEGER unix microseconds and read back in UTC, with
// the zero time.Time stored as 0 (so the instant 1970-01-01T00:00:00Z
// itself reads back as the zero time). Settings structs and attribute maps
// are JSON text; attribute maps always read back non-nil.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"runtime"
	"strings"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/cognate-auth/cognate/storage"
)

var _ storage.Storage = (*Store)(nil)

// busyTimeoutMillis bounds how long a connection waits for a lock held by
// another process (within this process, writes queue on the single writer
// connection instead).
const busyTimeoutMillis = 10000

// Options configures Open.
type Options struct {
	// Logger receives migration and error-path messages. Nil discards them.
	Logger *slog.Logger
}

// Store is the SQLite storage.Storage. Create it with Open; it is safe for
// concurrent use.
type Store struct {
	writer *sql.DB
	reader *sql.DB
	log    *slog.Logger
	// st holds the prepared statements of the hot paths, shared by the
	// Stores that Atomic makes.
	st *stmts

	// tx is set on the Store that Atomic hands to its callback: every
	// query, reads included, then goes through it.
	tx *sql.Tx
	// depth counts the savepoints enclosing this Store within tx.
	depth int
}

// querier is what both *sql.DB and *sql.Tx offer.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Open opens (creating it if needed) the database file at path and applies
// any pending migrations. path must name a file: an in-memory database
// would be a different database on every connection.
func Open(ctx context.Context, path string, opts Options) (*Store, error) {
	if path == "" || path == ":memory:" || strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("sqlite: open %q: need a plain file path", path)
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	writer, err := openWriter(ctx, path)
	if err != nil {
		return nil, err
	}
	if err := migrate(ctx, writer, log); err != nil {
		writer.Close()
		return nil, err
	}
	reader, err := openReader(ctx, path)
	if err != nil {
		writer.Close()
		return nil, err
	}
	st, err := prepareStmts(ctx, writer, reader)
	if err != nil {
		reader.Close()
		writer.Close()
		return nil, err
	}
	return &Store{writer: writer, reader: reader, log: log, st: st}, nil
}

// openWriter opens the single write connection. Pragmas go in the DSN so
// that they are set on every connection the pool (re)opens.
func openWriter(ctx context.Context, path string) (*sql.DB, error) {
	db, err := sql.Open("sqlite", dsn(path, writerParams(runtime.GOOS)...))
	if err != nil {
		return nil, fmt.Errorf("sqlite: open writer: %w", err)
	}
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	// SQLite silently keeps the old journal mode where WAL is unsupported
	// (some network file systems); the read pool would then block on
	// writes, so refuse to run.
	var mode string
	if err := firstConnect(ctx, db, &mode); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite: open writer: %w", err)
	}
	if !strings.EqualFold(mode, "wal") {
		db.Close()
		return nil, fmt.Errorf("sqlite: open writer: journal mode is %q, want wal", mode)
	}
	return db, nil
}

// firstConnect opens the writer's connection, whose DSN turns a fresh
// file to WAL, and reads the journal mode into mode. Switching the
// journal mode needs an exclusive lock for which SQLite answers
// SQLITE_BUSY without waiting out busy_timeout, so processes opening one
// fresh file at once would fail: each tries again for up to
// busyTimeoutMillis.
func firstConnect(ctx context.Context, db *sql.DB, mode *string) error {
	deadline := time.Now().Add(busyTimeoutMillis * time.Millisecond)
	for {
		err := db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(mode)
		var se *sqlite.Error
		if err == nil || !errors.As(err, &se) || se.Code()&0xff != sqlite3.SQLITE_BUSY || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(10+rand.IntN(40)) * time.Millisecond):
		}
	}
}

// writerParams are the writer's DSN parameters on goos. macOS's fsync
// leaves a write in the drive's cache, where power loss takes it:
// acknowledged writes need F_FULLFSYNC there.
func writerParams(goos string) []string {
	p := []string{
		fmt.Sprintf("_pragma=busy_timeout(%d)", busyTimeoutMillis),
		"_pragma=foreign_keys(1)",
		"_pragma=journal_mode(WAL)",
		"_pragma=synchronous(FULL)",
		"_txlock=immediate",
	}
	if goos == "darwin" {
		p = append(p, "_pragma=fullfsync(1)", "_pragma=checkpoint_fullfsync(1)")
	}
	return p
}

// openReader opens the read pool.
func openReader(ctx context.Context, path string) (*sql.DB, error) {
	db, err := sql.Open("sqlite", dsn(path,
		fmt.Sprintf("_pragma=busy_timeout(%d)", busyTimeoutMillis),
		"_pragma=query_only(1)",
	))
	if err != nil {
		return nil, fmt.Errorf("sqlite: open reader: %w", err)
	}
	// WAL readers run in parallel; allow one per CPU, and a few more for
	// those waiting on I/O.
	n := max(4, runtime.GOMAXPROCS(0))
	db.SetMaxOpenConns(n)
	db.SetMaxIdleConns(n)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite: open reader: %w", err)
	}
	return db, nil
}

func dsn(path string, params ...string) string {
	return path + "?" + strings.Join(params, "&")
}

// Close closes the prepared statements and both connection pools. On the
// Storage given to an Atomic callback it is an error: the transaction
// belongs to Atomic.
func (s *Store) Close() error {
	if s.tx != nil {
		return errors.New("sqlite: Close called inside Atomic")
	}
	return errors.Join(s.st.close(), s.reader.Close(), s.writer.Close())
}

// Atomic runs fn in one write transaction. On the Store given to fn,
// Atomic runs under a savepoint of the same transaction, so a failing
// nested call undoes its own writes even if the outer fn carries on. fn's
// error is returned unchanged.
//
// The transaction holds the only write connection: a write through the
// outer Store from inside fn waits for fn to end, that is until ctx is
// done.
func (s *Store) Atomic(ctx context.Context, fn func(ctx context.Context, tx storage.Storage) error) error {
	return s.inTx(ctx, func(tx *Store) error { return fn(ctx, tx) })
}

// inTx runs fn with a Store bound to a write transaction: a new one, or a
// savepoint when s is already bound. fn's error is returned unchanged.
func (s *Store) inTx(ctx context.Context, fn func(tx *Store) error) error {
	if s.tx != nil {
		return s.savepoint(ctx, fn)
	}
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: begin: %w", err)
	}
	committing := false
	defer func() {
		// Also reached when fn panics, so the connection is not left
		// holding the write lock.
		if !committing {
			s.logRollback("rollback", tx.Rollback())
		}
	}()
	if err := fn(&Store{writer: s.writer, reader: s.reader, log: s.log, st: s.st, tx: tx}); err != nil {
		return err
	}
	committing = true
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: commit: %w", err)
	}
	return nil
}

// savepoint runs fn under a savepoint of s's transaction.
func (s *Store) savepoint(ctx context.Context, fn func(tx *Store) error) error {
	inner := *s
	inner.depth++
	name := fmt.Sprintf("atomic_%d", inner.depth)
	if _, err := s.tx.ExecContext(ctx, "SAVEPOINT "+name); err != nil {
		return fmt.Errorf("sqlite: savepoint: %w", err)
	}
	if err := fn(&inner); err != nil {
		// Undo even when ctx is what failed fn. RELEASE after ROLLBACK TO
		// pops the savepoint, leaving the transaction as it was before it.
		undo := context.WithoutCancel(ctx)
		_, rerr := s.tx.ExecContext(undo, "ROLLBACK TO SAVEPOINT "+name)
		s.logRollback("rollback to savepoint", rerr)
		_, rerr = s.tx.ExecContext(undo, "RELEASE SAVEPOINT "+name)
		s.logRollback("release savepoint", rerr)
		return err
	}
	if _, err := s.tx.ExecContext(ctx, "RELEASE SAVEPOINT "+name); err != nil {
		return fmt.Errorf("sqlite: release savepoint: %w", err)
	}
	return nil
}

// logRollback logs a failure to undo writes, the caller already having an
// error to return. ErrTxDone means database/sql rolled back already, as it
// does when the transaction's context ends.
func (s *Store) logRollback(what string, err error) {
	if err != nil && !errors.Is(err, sql.ErrTxDone) {
		s.log.Error("sqlite: "+what+" failed", "err", err)
	}
}

// reads returns where read queries go: the transaction if any, else the
// read pool.
func (s *Store) reads() querier {
	if s.tx != nil {
		return s.tx
	}
	return s.reader
}

// writes returns where single-statement writes go: the transaction if
// any, else the writer (in autocommit mode, which is atomic per statement).
func (s *Store) writes() querier {
	if s.tx != nil {
		return s.tx
	}
	return s.writer
}

// scanner is what *sql.Row and *sql.Rows offer.
type scanner interface {
	Scan(dest ...any) error
}

// getOne runs a single-row query and scans it; no row is ErrNotFound.
func getOne[T any](ctx context.Context, q querier, op string, scan func(scanner) (T, error), query string, args ...any) (T, error) {
	return scanOne(op, scan, q.QueryRowContext(ctx, query, args...))
}

// getOneStmt is getOne for a prepared statement.
func getOneStmt[T any](ctx context.Context, st *sql.Stmt, op string, scan func(scanner) (T, error), args ...any) (T, error) {
	return scanOne(op, scan, st.QueryRowContext(ctx, args...))
}

// scanOne scans row; no row is ErrNotFound.
func scanOne[T any](op string, scan func(scanner) (T, error), row *sql.Row) (T, error) {
	v, err := scan(row)
	if err != nil {
		var zero T
		return zero, wrap(op, err)
	}
	return v, nil
}

// getAll runs a query and scans every row.
func getAll[T any](ctx context.Context, q querier, op string, scan func(scanner) (T, error), query string, args ...any) ([]T, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	return scanAll(op, scan, rows, err)
}

// getAllStmt is getAll for a prepared statement.
func getAllStmt[T any](ctx context.Context, st *sql.Stmt, op string, scan func(scanner) (T, error), args ...any) ([]T, error) {
	rows, err := st.QueryContext(ctx, args...)
	return scanAll(op, scan, rows, err)
}

// scanAll scans every row of what a query returned.
func scanAll[T any](op string, scan func(scanner) (T, error), rows *sql.Rows, err error) ([]T, error) {
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
	res, err := q.ExecContext(ctx, query, args...)
	return rowsChanged(op, res, err)
}

// execRowsStmt is execRows for a prepared statement.
func execRowsStmt(ctx context.Context, st *sql.Stmt, op string, args ...any) (int64, error) {
	res, err := st.ExecContext(ctx, args...)
	return rowsChanged(op, res, err)
}

// rowsChanged returns how many rows the write that returned res changed.
func rowsChanged(op string, res sql.Result, err error) (int64, error) {
	if err != nil {
		return 0, wrap(op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, wrap(op, err)
	}
	return n, nil
}

// execOne runs a write statement that must hit exactly one row: none is
// ErrNotFound.
func execOne(ctx context.Context, q querier, op, query string, args ...any) error {
	n, err := execRows(ctx, q, op, query, args...)
	return oneChanged(op, n, err)
}

// execOneStmt is execOne for a prepared statement.
func execOneStmt(ctx context.Context, st *sql.Stmt, op string, args ...any) error {
	n, err := execRowsStmt(ctx, st, op, args...)
	return oneChanged(op, n, err)
}

// oneChanged checks that a write changed a row: none is ErrNotFound.
func oneChanged(op string, n int64, err error) error {
	if err != nil {
		return err
	}
	if n == 0 {
		return wrap(op, sql.ErrNoRows)
	}
	return nil
}

// wrap prefixes err with the operation and maps driver errors onto the
// storage sentinels, keeping the driver error in the chain.
func wrap(op string, err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("sqlite: %s: %w", op, storage.ErrNotFound)
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return fmt.Errorf("sqlite: %s: %w: %w", op, storage.ErrAlreadyExists, err)
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			// A record refers to a pool, user, group or family that does
			// not exist.
			return fmt.Errorf("sqlite: %s: referenced record: %w: %w", op, storage.ErrNotFound, err)
		}
	}
	return fmt.Errorf("sqlite: %s: %w", op, err)
}

// errKeyChanged reports an updater that returned a record with a
// different identity; Update* methods cannot move records.
func errKeyChanged(op, from, to string) error {
	return fmt.Errorf("sqlite: %s: updater changed the key from %q to %q", op, from, to)
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

// sqlLimit turns a caller's limit into SQLite's: zero or less means no
// limit.
func sqlLimit(limit int) int {
	if limit <= 0 {
		return -1
	}
	return limit
}
