// Package backends opens the storage backend a deployment uses: the
// embedded SQLite database in a data directory, or a PostgreSQL database
// that several nodes share, as the --storage value says. It is the one
// place that knows where the embedded database lives in a data
// directory, so the server, the admin commands and the benchmark tools
// all open the same one the same way.
package backends

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/cognate-auth/cognate/storage"
	"github.com/cognate-auth/cognate/storage/postgres"
	"github.com/cognate-auth/cognate/storage/sqlite"
)

// sqliteFile is the embedded database's name in a data directory.
const sqliteFile = "cognate.db"

// Options says which storage to open. The zero value is not usable: the
// embedded database needs DataDir.
type Options struct {
	// URL is the --storage value: empty or "sqlite" for the embedded
	// SQLite database in DataDir; a postgres:// or postgresql:// URL for
	// that PostgreSQL database (see storage/postgres for its parameters).
	URL string
	// DataDir holds the embedded SQLite database.
	DataDir string
	// MustExist refuses to create the embedded database: for tools that
	// work on one a server made. A PostgreSQL database exists before
	// Cognate opens it; Open migrates it whatever MustExist says.
	MustExist bool
	// Logger receives the backend's messages (migrations); nil discards
	// them.
	Logger *slog.Logger
	// Postgres tunes the PostgreSQL backend (pool size, timeouts); its
	// Logger defaults to Logger.
	Postgres postgres.Options
}

// Open opens (creating and migrating it unless MustExist) the storage of
// opts.
func Open(ctx context.Context, opts Options) (storage.Storage, error) {
	switch url := strings.TrimSpace(opts.URL); {
	case url == "" || url == "sqlite":
		return openSQLite(ctx, opts)
	case hasScheme(url, "postgres") || hasScheme(url, "postgresql"):
		popts := opts.Postgres
		if popts.Logger == nil {
			popts.Logger = opts.Logger
		}
		// pgx knows the schemes in lower case only.
		scheme, rest, _ := strings.Cut(url, "://")
		s, err := postgres.Open(ctx, strings.ToLower(scheme)+"://"+rest, popts)
		if err != nil {
			return nil, err // not a typed nil in the interface
		}
		return s, nil
	default:
		// Only the scheme is quoted: the rest may hold a password.
		scheme, _, _ := strings.Cut(url, "://")
		if len(scheme) > 20 || scheme == url {
			scheme = "(none)"
		}
		return nil, fmt.Errorf("storage: unsupported --storage value (scheme %q): want empty or \"sqlite\" for the embedded database, "+
			"or a postgres:// or postgresql:// URL", scheme)
	}
}

// hasScheme reports whether url starts with scheme:// in any case.
func hasScheme(url, scheme string) bool {
	return len(url) > len(scheme)+3 && strings.EqualFold(url[:len(scheme)+3], scheme+"://")
}

// openSQLite opens the embedded database in opts.DataDir.
func openSQLite(ctx context.Context, opts Options) (storage.Storage, error) {
	if opts.DataDir == "" {
		return nil, fmt.Errorf("storage: no data directory")
	}
	path := filepath.Join(opts.DataDir, sqliteFile)
	if opts.MustExist {
		if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("storage: %w (run `cognate serve --data %s` once first, or pass --data)", err, opts.DataDir)
		}
	}
	s, err := sqlite.Open(ctx, path, sqlite.Options{Logger: opts.Logger})
	if err != nil {
		return nil, err
	}
	return s, nil
}
