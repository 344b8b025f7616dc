package postgres

import (
	"context"
	"crypto/rand"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/cognate-auth/cognate/gateway/bffstore"
	"github.com/cognate-auth/cognate/gateway/bffstore/storetest"
	"github.com/cognate-auth/cognate/internal/servicetest"
)

// testURL is the PostgreSQL the tests use (each test its own tables).
func testURL() string { return servicetest.PostgresAdminURL() }

// needPostgres skips without a PostgreSQL, or fails under
// COGNATE_REQUIRE_SERVICES=1.
func needPostgres(t *testing.T) {
	t.Helper()
	servicetest.Need(t, "PostgreSQL", servicetest.PostgresAddr)
}

func TestConformance(t *testing.T) {
	needPostgres(t)
	storetest.Run(t, func(t *testing.T) storetest.Open {
		// A fresh table per subtest is a fresh backing.
		table := "bff_test_" + strings.ToLower(rand.Text())
		t.Cleanup(func() {
			s, err := Open(context.Background(), testURL(), Options{Table: table})
			if err == nil {
				s.pool.Exec(context.Background(), "DROP TABLE "+table+"; DROP TABLE "+table+"_locks")
				s.Close()
			}
		})
		return func(t *testing.T) bffstore.Store {
			s, err := Open(context.Background(), testURL(), Options{Table: table})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		}
	})
}

func TestOpenFailsFast(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := ln.Addr().String()
	ln.Close()
	start := time.Now()
	if _, err := Open(context.Background(), "postgres://x@"+dead+"/x", Options{}); err == nil {
		t.Fatal("Open of a dead database succeeded")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("failing took %v", d)
	}
	for _, table := range []string{"Robert'); DROP TABLE x;--", "UPPER", strings.Repeat("a", 50)} {
		if _, err := Open(context.Background(), testURL(), Options{Table: table}); err == nil {
			t.Errorf("table %q accepted", table)
		}
	}
}
