package sqlite

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/cognate-auth/cognate/storage"
	"github.com/cognate-auth/cognate/storage/storagetest"
)

func TestConformance(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storage.Storage {
		return openStore(t, filepath.Join(t.TempDir(), "cognate.db"))
	})
}

// openStore opens the store at path, closed when tb ends.
func openStore(tb testing.TB, path string) *Store {
	tb.Helper()
	s, err := Open(context.Background(), path, Options{Logger: slog.New(slog.NewTextHandler(tb.Output(), nil))})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Error(err)
		}
	})
	return s
}

func mustDo(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

var (
	testPool = storage.Pool{ID: "pool-1", Name: "Pool"}
	testUser = storage.User{
		PoolID: "pool-1", Username: "alice", Sub: "sub-alice", Email: "alice@example.com",
		Attributes: map[string]string{"email": "alice@example.com"}, Status: storage.StatusConfirmed,
		Enabled: true, CreatedAt: time.UnixMicro(1_900_000_000_000_000).UTC(),
	}
)

func TestOpenRejectsNonFiles(t *testing.T) {
	for _, path := range []string{"", ":memory:", filepath.Join(t.TempDir(), "x.db?mode=ro")} {
		if s, err := Open(t.Context(), path, Options{}); err == nil {
			s.Close()
			t.Errorf("Open(%q) succeeded, want an error", path)
		}
	}
}

func TestMigrationsIdempotent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cognate.db")
	first := openStore(t, path)
	// A second Store on the same file, while the first is open, finds
	// nothing to do.
	second := openStore(t, path)
	ms, err := loadMigrations()
	mustDo(t, err)
	var n int
	mustDo(t, second.reader.QueryRowContext(t.Context(), "SELECT COUNT(*) FROM schema_migrations").Scan(&n))
	if n != len(ms) {
		t.Errorf("schema_migrations has %d rows, want %d", n, len(ms))
	}
	mustDo(t, first.CreatePool(t.Context(), testPool))
	if _, err := second.GetPool(t.Context(), testPool.ID); err != nil {
		t.Errorf("second Store does not see the first one's pool: %v", err)
	}
}

func TestRefusesNewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cognate.db")
	s, err := Open(t.Context(), path, Options{})
	mustDo(t, err)
	_, err = s.writer.ExecContext(t.Context(), "INSERT INTO schema_migrations (version, applied_at) VALUES (999999, 0)")
	mustDo(t, err)
	mustDo(t, s.Close())
	if s, err := Open(t.Context(), path, Options{}); err == nil {
		s.Close()
		t.Fatal("Open succeeded on a database migrated by a newer binary")
	}
}

func TestReopenKeepsData(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "cognate.db")
	s, err := Open(ctx, path, Options{})
	mustDo(t, err)
	mustDo(t, s.CreatePool(ctx, testPool))
	mustDo(t, s.CreateUser(ctx, testUser))
	secret, err := s.GetOrCreateSecret(ctx, "cookie", func() ([]byte, error) { return []byte("s3cret"), nil })
	mustDo(t, err)
	mustDo(t, s.Close())

	s = openStore(t, path)
	got, err := s.GetUser(ctx, testUser.PoolID, testUser.Username)
	mustDo(t, err)
	if got.Sub != testUser.Sub || got.Email != testUser.Email || !got.CreatedAt.Equal(testUser.CreatedAt) {
		t.Errorf("after reopening, GetUser = %+v, want %+v", got, testUser)
	}
	again, err := s.GetOrCreateSecret(ctx, "cookie", func() ([]byte, error) { return nil, errors.New("gen called") })
	mustDo(t, err)
	if string(again) != string(secret) {
		t.Errorf("after reopening, secret = %q, want %q", again, secret)
	}
}

// crashDBEnv names the database TestHelperProcess writes to; set, it makes
// the test binary act as TestCrashDurability's child.
const crashDBEnv = "COGNATE_SQLITE_CRASH_DB"

// TestHelperProcess is TestCrashDurability's child: it commits a user,
// says so, and waits to be killed.
func TestHelperProcess(t *testing.T) {
	path := os.Getenv(crashDBEnv)
	if path == "" {
		t.Skip("runs only as TestCrashDurability's child")
	}
	ctx := context.Background()
	s, err := Open(ctx, path, Options{})
	mustDo(t, err)
	mustDo(t, s.CreatePool(ctx, testPool))
	mustDo(t, s.CreateUser(ctx, testUser))
	fmt.Println("committed")
	// Block until killed; the parent holds stdin open. Should the parent
	// die first, EOF ends the child too.
	io.Copy(io.Discard, os.Stdin)
	os.Exit(1)
}

// TestCrashDurability checks that a write confirmed to the caller survives
// the process being killed without any chance to clean up.
func TestCrashDurability(t *testing.T) {
	path := filepath.Join(t.TempDir(), "crash.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashDBEnv+"="+path)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	mustDo(t, err)
	defer stdin.Close()
	stdout, err := cmd.StdoutPipe()
	mustDo(t, err)
	mustDo(t, cmd.Start())

	lines := bufio.NewScanner(stdout)
	committed := false
	for !committed && lines.Scan() {
		committed = lines.Text() == "committed"
	}
	// Kill is SIGKILL on Unix: no deferred Close, no checkpoint.
	mustDo(t, cmd.Process.Kill())
	if err := cmd.Wait(); err == nil {
		t.Error("child exited cleanly, want killed")
	}
	if !committed {
		t.Fatal("child never reported its commit")
	}
	if fi, err := os.Stat(path + "-wal"); err != nil || fi.Size() == 0 {
		t.Logf("no WAL left behind (%v): the commit reached the main file", err)
	}

	s := openStore(t, path)
	got, err := s.GetUser(t.Context(), testUser.PoolID, testUser.Username)
	if err != nil {
		t.Fatalf("user committed before the crash: %v", err)
	}
	if got.Sub != testUser.Sub {
		t.Errorf("user after the crash = %+v, want %+v", got, testUser)
	}
}

// TestWriteLockAtBegin checks that transactions begin IMMEDIATE: the write
// lock is held before the first write, so a read-modify-write never has to
// upgrade its lock (and fail with SQLITE_BUSY) halfway.
func TestWriteLockAtBegin(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cognate.db")
	s := openStore(t, path)
	other, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(0)")
	mustDo(t, err)
	defer other.Close()
	err = s.Atomic(t.Context(), func(ctx context.Context, tx storage.Storage) error {
		_, err := tx.ListPools(ctx) // reads only
		if err != nil {
			return err
		}
		_, err = other.ExecContext(ctx, "BEGIN IMMEDIATE")
		return err
	})
	var se *sqlite.Error
	if !errors.As(err, &se) || se.Code()&0xff != sqlite3.SQLITE_BUSY {
		t.Errorf("BEGIN IMMEDIATE elsewhere during Atomic: err = %v, want SQLITE_BUSY", err)
	}
}

// TestReadersDoNotWaitForWriter checks that reads outside a transaction
// proceed, and see the last committed state, while a write transaction is
// open.
func TestReadersDoNotWaitForWriter(t *testing.T) {
	s := openStore(t, filepath.Join(t.TempDir(), "cognate.db"))
	mustDo(t, s.CreatePool(t.Context(), testPool))
	written, release := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- s.Atomic(t.Context(), func(ctx context.Context, tx storage.Storage) error {
			if err := tx.CreateUser(ctx, testUser); err != nil {
				return err
			}
			close(written)
			<-release
			return nil
		})
	}()
	<-written
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
	defer cancel()
	if _, err := s.GetPool(ctx, testPool.ID); err != nil {
		t.Errorf("GetPool during a write transaction: %v", err)
	}
	if _, err := s.GetUser(ctx, testUser.PoolID, testUser.Username); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("GetUser of an uncommitted user: err = %v, want ErrNotFound", err)
	}
	close(release)
	mustDo(t, <-done)
	if _, err := s.GetUser(t.Context(), testUser.PoolID, testUser.Username); err != nil {
		t.Errorf("GetUser after commit: %v", err)
	}
}

// TestReadPoolIsReadOnly checks that the read connections cannot write,
// so a write routed to them by mistake fails instead of racing the writer.
func TestReadPoolIsReadOnly(t *testing.T) {
	s := openStore(t, filepath.Join(t.TempDir(), "cognate.db"))
	if _, err := s.reader.ExecContext(t.Context(), "INSERT INTO secrets (name, value) VALUES ('x', x'00')"); err == nil {
		t.Error("write through the read pool succeeded")
	}
}

// TestNestedAtomicSavepoint checks that a failed nested Atomic undoes its
// own writes even when the outer callback carries on and commits.
func TestNestedAtomicSavepoint(t *testing.T) {
	ctx := t.Context()
	s := openStore(t, filepath.Join(t.TempDir(), "cognate.db"))
	mustDo(t, s.CreatePool(ctx, testPool))
	errInner := errors.New("inner failed")
	err := s.Atomic(ctx, func(ctx context.Context, tx storage.Storage) error {
		if err := tx.CreateGroup(ctx, storage.Group{PoolID: "pool-1", Name: "outer"}); err != nil {
			return err
		}
		err := tx.Atomic(ctx, func(ctx context.Context, tx storage.Storage) error {
			if err := tx.CreateGroup(ctx, storage.Group{PoolID: "pool-1", Name: "inner"}); err != nil {
				return err
			}
			return errInner
		})
		if !errors.Is(err, errInner) {
			return fmt.Errorf("nested Atomic: err = %v, want errInner", err)
		}
		return nil
	})
	mustDo(t, err)
	if _, err := s.GetGroup(ctx, "pool-1", "outer"); err != nil {
		t.Errorf("outer write: %v", err)
	}
	if _, err := s.GetGroup(ctx, "pool-1", "inner"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("write of the failed nested Atomic: err = %v, want ErrNotFound", err)
	}
}

// TestUpdaterCannotChangeKey checks that Update* refuses to move a record.
func TestUpdaterCannotChangeKey(t *testing.T) {
	ctx := t.Context()
	s := openStore(t, filepath.Join(t.TempDir(), "cognate.db"))
	mustDo(t, s.CreatePool(ctx, testPool))
	mustDo(t, s.CreateUser(ctx, testUser))
	err := s.UpdateUser(ctx, "pool-1", "alice", func(u storage.User) (storage.User, error) {
		u.Username = "mallory"
		return u, nil
	})
	if err == nil || errors.Is(err, storage.ErrNotFound) || errors.Is(err, storage.ErrAlreadyExists) {
		t.Errorf("UpdateUser changing the username: err = %v, want a key-change error", err)
	}
	if _, err := s.GetUser(ctx, "pool-1", "alice"); err != nil {
		t.Errorf("alice after the refused update: %v", err)
	}
}

func TestCloseInsideAtomic(t *testing.T) {
	s := openStore(t, filepath.Join(t.TempDir(), "cognate.db"))
	err := s.Atomic(t.Context(), func(ctx context.Context, tx storage.Storage) error {
		return tx.Close()
	})
	if err == nil {
		t.Error("Close on the Atomic Storage succeeded, want an error")
	}
}

// TestStmtDefs checks the prepared statements' table: every statement has
// SQL, and exactly the SELECTs are marked as reads, which Open prepares
// on the read-only pool too.
func TestStmtDefs(t *testing.T) {
	for id, def := range stmtDefs {
		if def.sql == "" {
			t.Errorf("statement %d has no SQL", id)
		}
		if isSelect := strings.HasPrefix(strings.TrimSpace(def.sql), "SELECT"); def.read != isSelect {
			t.Errorf("statement %d: read = %v for %.40q", id, def.read, def.sql)
		}
	}
}

// TestConcurrentOpensOfOneFreshFile: processes (here, Stores) opening one
// fresh file at the same moment all succeed, though switching it to WAL
// makes SQLite answer SQLITE_BUSY without waiting.
func TestConcurrentOpensOfOneFreshFile(t *testing.T) {
	for round := range 10 {
		path := filepath.Join(t.TempDir(), "cognate.db")
		var wg sync.WaitGroup
		start := make(chan struct{})
		errs := make([]error, 8)
		for i := range errs {
			wg.Go(func() {
				<-start
				s, err := Open(context.Background(), path, Options{})
				if err == nil {
					s.Close()
				}
				errs[i] = err
			})
		}
		close(start)
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("round %d, open %d: %v", round, i, err)
			}
		}
	}
}
