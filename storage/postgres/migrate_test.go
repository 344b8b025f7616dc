package postgres

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cognate-auth/cognate/internal/servicetest"
)

// countingHandler counts the log records whose message is msg.
type countingHandler struct {
	msg string
	n   *atomic.Int64
}

func (h countingHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h countingHandler) Handle(_ context.Context, r slog.Record) error {
	if r.Message == h.msg {
		h.n.Add(1)
	}
	return nil
}
func (h countingHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h countingHandler) WithGroup(string) slog.Handler      { return h }

// TestConcurrentOpensMigrateOnce starts several nodes at once against a
// fresh database: every Open succeeds, and each migration runs once.
func TestConcurrentOpensMigrateOnce(t *testing.T) {
	const nodes = 8
	url := servicetest.Postgres(t)
	ms, err := loadMigrations()
	mustDo(t, err)
	var applied atomic.Int64
	log := slog.New(countingHandler{msg: "postgres: applied migration", n: &applied})
	stores := make([]*Store, nodes)
	var wg sync.WaitGroup
	for i := range stores {
		wg.Go(func() {
			s, err := Open(t.Context(), url, Options{Logger: log})
			if err != nil {
				t.Errorf("node %d: %v", i, err)
				return
			}
			stores[i] = s
		})
	}
	wg.Wait()
	for _, s := range stores {
		if s != nil {
			t.Cleanup(func() { s.Close() })
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	if got := applied.Load(); got != int64(len(ms)) {
		t.Errorf("%d migrations applied across %d nodes, want %d", got, nodes, len(ms))
	}
	var rows, newest int64
	mustDo(t, stores[0].pool.QueryRow(t.Context(), "SELECT COUNT(*), MAX(version) FROM schema_migrations").Scan(&rows, &newest))
	if rows != int64(len(ms)) || newest != ms[len(ms)-1].Version {
		t.Errorf("schema_migrations has %d rows up to version %d, want %d up to %d", rows, newest, len(ms), ms[len(ms)-1].Version)
	}
	// A later start finds nothing to do.
	openStore(t, url, Options{Logger: log})
	if got := applied.Load(); got != int64(len(ms)) {
		t.Errorf("reopening applied %d more migrations", got-int64(len(ms)))
	}
}

func TestRefusesNewerSchema(t *testing.T) {
	url := servicetest.Postgres(t)
	s, err := Open(t.Context(), url, Options{})
	mustDo(t, err)
	_, err = s.pool.Exec(t.Context(), "INSERT INTO schema_migrations (version, name) VALUES (999999, '999999_future.sql')")
	mustDo(t, err)
	mustDo(t, s.Close())
	s, err = Open(t.Context(), url, Options{})
	if err == nil {
		s.Close()
		t.Fatal("Open succeeded on a database migrated by a newer binary")
	}
	if !errors.Is(err, ErrSchemaTooNew) || !strings.Contains(err.Error(), "upgrade") || !strings.Contains(err.Error(), "999999") {
		t.Errorf("err = %v, want ErrSchemaTooNew naming the version and telling to upgrade", err)
	}
}

func TestPoolConfigPrecedence(t *testing.T) {
	const base = "postgres://u@127.0.0.1:5432/db?sslmode=disable"
	for _, tc := range []struct {
		name                  string
		url                   string
		opts                  Options
		maxConns              int32
		connectTimeout        time.Duration
		statementTimeout      string
		statementTimeoutIsSet bool
	}{
		{"defaults", base, Options{}, 0, DefaultConnectTimeout, "10000", true},
		{"url", base + "&pool_max_conns=7&connect_timeout=3&statement_timeout=1234", Options{},
			7, 3 * time.Second, "1234", true},
		{"options win", base + "&pool_max_conns=7&connect_timeout=3&statement_timeout=1234",
			Options{MaxConns: 9, ConnectTimeout: time.Second, StatementTimeout: 2 * time.Second}, 9, time.Second, "2000", true},
		{"libpq options", base + "&options=-c%20statement_timeout%3D5s", Options{}, 0, DefaultConnectTimeout, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := poolConfig(tc.url, tc.opts)
			mustDo(t, err)
			if tc.maxConns != 0 && cfg.MaxConns != tc.maxConns {
				t.Errorf("MaxConns = %d, want %d", cfg.MaxConns, tc.maxConns)
			}
			if cfg.ConnConfig.ConnectTimeout != tc.connectTimeout {
				t.Errorf("ConnectTimeout = %v, want %v", cfg.ConnConfig.ConnectTimeout, tc.connectTimeout)
			}
			got, set := cfg.ConnConfig.RuntimeParams["statement_timeout"]
			if set != tc.statementTimeoutIsSet || got != tc.statementTimeout {
				t.Errorf("statement_timeout = %q (set %v), want %q (set %v)", got, set, tc.statementTimeout, tc.statementTimeoutIsSet)
			}
		})
	}
	if _, err := poolConfig(base, Options{MinConns: 5, MaxConns: 2}); err == nil {
		t.Error("MinConns above MaxConns accepted")
	}
}
