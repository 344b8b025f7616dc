package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/cognate-auth/cognate/internal/servicetest"
	"github.com/cognate-auth/cognate/storage"
)

var (
	testPool = storage.Pool{ID: "pool-1", Name: "Pool"}
	testUser = storage.User{
		PoolID: "pool-1", Username: "alice", Sub: "sub-alice", Email: "alice@example.com",
		Attributes: map[string]string{"n": "0"}, Status: storage.StatusConfirmed,
		Enabled: true, CreatedAt: time.UnixMicro(1_900_000_000_000_000).UTC(),
	}
)

// adminConn connects to url apart from any Store.
func adminConn(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	c, err := pgx.Connect(t.Context(), url)
	mustDo(t, err)
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

// terminateOthers ends every other session of the database, as a
// restarting server or a failover would.
func terminateOthers(t *testing.T, admin *pgx.Conn) int {
	t.Helper()
	var n int
	mustDo(t, admin.QueryRow(t.Context(), `SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE datname = current_database() AND pid <> pg_backend_pid()`).Scan(&n))
	return n
}

// increment adds one to the user's counter attribute.
func increment(ctx context.Context, s *Store) error {
	return s.UpdateUser(ctx, testUser.PoolID, testUser.Username, func(u storage.User) (storage.User, error) {
		n, err := strconv.Atoi(u.Attributes["n"])
		u.Attributes["n"] = strconv.Itoa(n + 1)
		return u, err
	})
}

// TestLostConnections kills the store's connections while it is busy:
// every call either succeeds or fails with storage.ErrUnavailable, and
// the store works again afterwards.
func TestLostConnections(t *testing.T) {
	url := servicetest.Postgres(t)
	s := openStore(t, url, Options{MaxConns: 4})
	ctx := t.Context()
	mustDo(t, s.CreatePool(ctx, testPool))
	mustDo(t, s.CreateUser(ctx, testUser))
	admin := adminConn(t, url)

	var (
		stop                  atomic.Bool
		ok, failed, committed atomic.Int64
		wg                    sync.WaitGroup
	)
	check := func(what string, err error) {
		switch {
		case err == nil:
			ok.Add(1)
		case errors.Is(err, storage.ErrUnavailable):
			failed.Add(1)
		default:
			t.Errorf("%s: %v, want nil or storage.ErrUnavailable", what, err)
		}
	}
	for range 6 {
		wg.Go(func() {
			for !stop.Load() {
				_, err := s.GetUser(ctx, testUser.PoolID, testUser.Username)
				check("GetUser", err)
				err = increment(ctx, s)
				check("UpdateUser", err)
				if err == nil {
					committed.Add(1)
				}
				err = s.Atomic(ctx, func(ctx context.Context, tx storage.Storage) error {
					_, err := tx.ListGroupsForUser(ctx, testUser.PoolID, testUser.Username)
					return err
				})
				check("Atomic", err)
			}
		})
	}
	killed := 0
	for range 5 {
		time.Sleep(100 * time.Millisecond)
		killed += terminateOthers(t, admin)
	}
	stop.Store(true)
	wg.Wait()
	t.Logf("terminated %d sessions; %d calls succeeded, %d were unavailable", killed, ok.Load(), failed.Load())
	if killed == 0 {
		t.Error("no session was terminated")
	}

	// The pool replaces the dead connections: the store works again,
	// after at most one failure per connection it held.
	var err error
	for range 5 {
		if err = increment(ctx, s); err == nil {
			committed.Add(1)
			break
		}
		check("UpdateUser after the outage", err)
	}
	if err != nil {
		t.Fatalf("store still failing after the outage: %v", err)
	}
	got, err := s.GetUser(ctx, testUser.PoolID, testUser.Username)
	mustDo(t, err)
	// Writes reported unavailable may have committed before the
	// connection went (the commit's answer was lost), so the counter may
	// be ahead of what succeeded, never behind.
	if n, _ := strconv.Atoi(got.Attributes["n"]); int64(n) < committed.Load() {
		t.Errorf("counter = %d, but %d increments reported success", n, committed.Load())
	}
}

// TestStatementTimeout holds a user's row lock from another connection
// while UpdateUser waits for it: past the statement timeout the call is
// storage.ErrUnavailable, and the record is as it was.
func TestStatementTimeout(t *testing.T) {
	url := servicetest.Postgres(t)
	s := openStore(t, url, Options{StatementTimeout: 300 * time.Millisecond})
	ctx := t.Context()
	mustDo(t, s.CreatePool(ctx, testPool))
	mustDo(t, s.CreateUser(ctx, testUser))

	admin := adminConn(t, url)
	tx, err := admin.Begin(ctx)
	mustDo(t, err)
	_, err = tx.Exec(ctx, `SELECT 1 FROM users WHERE pool_id = $1 AND username = $2 FOR UPDATE`, testUser.PoolID, testUser.Username)
	mustDo(t, err)

	start := time.Now()
	err = increment(ctx, s)
	if !errors.Is(err, storage.ErrUnavailable) {
		t.Errorf("UpdateUser behind a held lock: %v, want storage.ErrUnavailable", err)
	}
	if waited := time.Since(start); waited > 5*time.Second {
		t.Errorf("UpdateUser waited %v with a 300ms statement timeout", waited)
	}
	mustDo(t, tx.Rollback(ctx))
	got, err := s.GetUser(ctx, testUser.PoolID, testUser.Username)
	mustDo(t, err)
	if got.Attributes["n"] != "0" {
		t.Errorf("counter = %s after a timed-out update, want 0", got.Attributes["n"])
	}
	// The connection that timed out is fine for the next call.
	mustDo(t, increment(ctx, s))
}

// TestOpenUnreachable opens a port nothing listens on: Open fails at
// once, with storage.ErrUnavailable.
func TestOpenUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	mustDo(t, err)
	addr := l.Addr().String()
	mustDo(t, l.Close())
	start := time.Now()
	s, err := Open(t.Context(), "postgres://postgres@"+addr+"/cognate?sslmode=disable", Options{})
	if err == nil {
		s.Close()
		t.Fatal("Open succeeded with nothing listening")
	}
	if !errors.Is(err, storage.ErrUnavailable) {
		t.Errorf("Open: %v, want storage.ErrUnavailable", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("Open took %v to fail", took)
	}
}

// TestCancelledIsNotUnavailable: a caller that gives up gets its own
// context error, not a claim that the database is down.
func TestCancelledIsNotUnavailable(t *testing.T) {
	s := openStore(t, servicetest.Postgres(t), Options{})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := s.GetPool(ctx, "pool-1")
	if !errors.Is(err, context.Canceled) || errors.Is(err, storage.ErrUnavailable) {
		t.Errorf("GetPool with a cancelled context: %v, want context.Canceled alone", err)
	}
}

func TestUnavailableClassification(t *testing.T) {
	pgErr := func(code string) error { return &pgconn.PgError{Code: code} }
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{pgErr("57P01"), true},
		{pgErr("57P02"), true},
		{pgErr("57P03"), true},
		{pgErr("57014"), true},
		{pgErr("08006"), true},
		{pgErr("08001"), true},
		{pgErr("53300"), true},
		{pgErr("23505"), false},
		{pgErr("28P01"), false}, // a wrong password needs an operator
		{pgErr("3D000"), false}, // so does a missing database
		{pgErr("40P01"), false},
		{io.EOF, true},
		{fmt.Errorf("read: %w", io.ErrUnexpectedEOF), true},
		{&net.OpError{Op: "dial", Err: errors.New("connection refused")}, true},
		{pgconn.ErrConnClosed, true},
		{context.Canceled, false},
		{context.DeadlineExceeded, false},
		{errors.New("something else"), false},
	} {
		if got := unavailable(tc.err); got != tc.want {
			t.Errorf("unavailable(%v) = %v, want %v", tc.err, got, tc.want)
		}
		if got := errors.Is(wrap("op", tc.err), storage.ErrUnavailable); got != tc.want {
			t.Errorf("wrap(%v) is ErrUnavailable: %v, want %v", tc.err, got, tc.want)
		}
	}
	for _, code := range []string{"40001", "40P01"} {
		if !isConflict(pgErr(code)) {
			t.Errorf("isConflict(%s) = false", code)
		}
	}
}

// TestUnstorableTextIsInvalidValue: text PostgreSQL cannot hold (a NUL, or
// invalid UTF-8) is storage.ErrInvalidValue, the request's fault, whether
// it is written or looked up, and nothing is written.
func TestUnstorableTextIsInvalidValue(t *testing.T) {
	s := openStore(t, servicetest.Postgres(t), Options{})
	ctx := t.Context()
	created := time.Unix(1_700_000_000, 0).UTC()
	mustDo(t, s.CreatePool(ctx, storage.Pool{ID: "pool-1", Name: "p", CreatedAt: created, UpdatedAt: created}))
	for _, bad := range []string{"ann\x00", "ann\xff"} {
		err := s.CreateUser(ctx, storage.User{PoolID: "pool-1", Username: bad, Sub: "sub-" + bad, CreatedAt: created, UpdatedAt: created})
		if !errors.Is(err, storage.ErrInvalidValue) {
			t.Errorf("CreateUser(%q): %v, want ErrInvalidValue", bad, err)
		}
		if _, err := s.GetUser(ctx, "pool-1", bad); !errors.Is(err, storage.ErrInvalidValue) {
			t.Errorf("GetUser(%q): %v, want ErrInvalidValue", bad, err)
		}
	}
	users, err := s.ListUsers(ctx, "pool-1", "", 0)
	if err != nil || len(users) != 0 {
		t.Fatalf("ListUsers: %v %v, want none", users, err)
	}
}
