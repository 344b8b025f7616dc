package postgres

import (
	"context"
	"log/slog"
	"testing"

	"github.com/cognate-auth/cognate/internal/servicetest"
	"github.com/cognate-auth/cognate/storage"
	"github.com/cognate-auth/cognate/storage/storagetest"
)

func TestConformance(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storage.Storage {
		return openStore(t, servicetest.Postgres(t), Options{})
	})
}

// openStore opens the store at url, closed when tb ends.
func openStore(tb testing.TB, url string, opts Options) *Store {
	tb.Helper()
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(tb.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	s, err := Open(context.Background(), url, opts)
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

func mustDo(tb testing.TB, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatal(err)
	}
}
