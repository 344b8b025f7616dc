package sqlite

import (
	"database/sql"
	"path/filepath"
	"runtime"
	"testing"
)

// pragmaInt reads an integer pragma on db.
func pragmaInt(t *testing.T, db *sql.DB, name string) int {
	t.Helper()
	var v int
	if err := db.QueryRowContext(t.Context(), "PRAGMA "+name).Scan(&v); err != nil {
		t.Fatalf("PRAGMA %s: %v", name, err)
	}
	return v
}

// TestWriterSyncPragmas: the writer's DSN on each platform yields
// synchronous=FULL everywhere and, on darwin only, fullfsync and
// checkpoint_fullfsync (SQLite keeps both flags on every platform; only
// macOS acts on them).
func TestWriterSyncPragmas(t *testing.T) {
	for _, tt := range []struct {
		goos string
		full int
	}{
		{"darwin", 1},
		{"linux", 0},
		{"windows", 0},
		{"freebsd", 0},
	} {
		t.Run(tt.goos, func(t *testing.T) {
			db, err := sql.Open("sqlite", dsn(filepath.Join(t.TempDir(), "cognate.db"), writerParams(tt.goos)...))
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			db.SetMaxOpenConns(1)
			if got := pragmaInt(t, db, "synchronous"); got != 2 {
				t.Errorf("synchronous = %d, want 2 (FULL)", got)
			}
			for _, name := range []string{"fullfsync", "checkpoint_fullfsync"} {
				if got := pragmaInt(t, db, name); got != tt.full {
					t.Errorf("%s = %d, want %d", name, got, tt.full)
				}
			}
		})
	}
}

// TestOpenSyncsForThisPlatform: the writer Open gives this process has
// fullfsync on exactly when it runs on macOS.
func TestOpenSyncsForThisPlatform(t *testing.T) {
	s := openStore(t, filepath.Join(t.TempDir(), "cognate.db"))
	want := 0
	if runtime.GOOS == "darwin" {
		want = 1
	}
	for _, name := range []string{"fullfsync", "checkpoint_fullfsync"} {
		if got := pragmaInt(t, s.writer, name); got != want {
			t.Errorf("%s on %s = %d, want %d", name, runtime.GOOS, got, want)
		}
	}
	if got := pragmaInt(t, s.writer, "synchronous"); got != 2 {
		t.Errorf("synchronous = %d, want 2 (FULL)", got)
	}
}
