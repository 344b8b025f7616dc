// Package backends opens the storage backend a deployment uses. It is
// the one place that knows where the embedded database lives in a data
// directory, so the server, the admin commands and the benchmark tools
// all open the same one the same way.
package backends

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/cognate-auth/cognate/storage"
	"github.com/cognate-auth/cognate/storage/sqlite"
)

// sqliteFile is the embedded database's name in a data directory.
const sqliteFile = "cognate.db"

// Options says which storage to open. The zero value is not usable:
// DataDir is required.
type Options struct {
	// DataDir holds the embedded SQLite database.
	DataDir string
	// MustExist refuses to create a database: for tools that work on one
	// a server made.
	MustExist bool
	// Logger receives the backend's messages (migrations); nil discards
	// them.
	Logger *slog.Logger
}

// Open opens (creating and migrating it unless MustExist) the storage of
// opts.
func Open(ctx context.Context, opts Options) (storage.Storage, error) {
	if opts.DataDir == "" {
		return nil, fmt.Errorf("storage: no data directory")
	}
	path := filepath.Join(opts.DataDir, sqliteFile)
	if opts.MustExist {
		if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("storage: %w (run `cognate serve --data %s` once first, or pass --data)", err, opts.DataDir)
		}
	}
	return sqlite.Open(ctx, path, sqlite.Options{Logger: opts.Logger})
}
