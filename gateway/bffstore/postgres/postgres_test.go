package postgres

import (
	"context"
	"crypto/rand"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/cognate-auth/cognate/gateway/bffstore"
	"github.com/cognate-auth/cognate/gateway/bffstore/storetest"
)

// testURL is the PostgreSQL the tests use; COGNATE_TEST_POSTGRES_URL
// overrides it.
func testURL() string {
	if u := os.Getenv("COGNATE_TEST_POSTGRES_URL"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
}

// needPostgres skips without a PostgreSQL at 127.0.0.1:5432, or fails
// when COGNATE_REQUIRE_SERVICES=1.
func needPostgres(t *testing.T) {
	t.Helper()
	c, err := net.DialTimeout("tcp", "127.0.0.1:5432", time.Second)
	if err == nil {
		c.Close()
		return
	}
	if os.Getenv("COGNATE_REQUIRE_SERVICES") == "1" {
		t.Fatalf("PostgreSQL is required (COGNATE_REQUIRE_SERVICES=1) but 127.0.0.1:5432 is not reachable: %v", err)
	}
	t.Skipf("no PostgreSQL at 127.0.0.1:5432 (%v); start one to run these tests", err)
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
