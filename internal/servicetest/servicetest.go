// Package servicetest gives tests the machine's real services —
// PostgreSQL, Redis and NATS on 127.0.0.1 — each run isolated from every
// other (its own database, key prefix or subject prefix), so that
// parallel tests and concurrent runs never collide.
//
// A test that needs a service that is not running is skipped with a
// message saying how to start it, unless COGNATE_REQUIRE_SERVICES=1 (set
// by .ci/run), which makes it fail instead.
package servicetest

import (
	"context"
	"crypto/rand"
	"net"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Addresses of the machine's services.
const (
	PostgresAddr = "127.0.0.1:5432"
	RedisAddr    = "127.0.0.1:6379"
	NATSAddr     = "127.0.0.1:4222"
)

// Need skips t (or fails it under COGNATE_REQUIRE_SERVICES=1) unless
// something listens on addr.
func Need(t testing.TB, service, addr string) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err == nil {
		c.Close()
		return
	}
	if os.Getenv("COGNATE_REQUIRE_SERVICES") == "1" {
		t.Fatalf("%s is required (COGNATE_REQUIRE_SERVICES=1) but %s is not reachable: %v", service, addr, err)
	}
	t.Skipf("no %s at %s (%v); start one to run this test (.ci/run shows how)", service, addr, err)
}

// Unique returns a short name no other test or run uses: lower-case
// letters and digits, starting with a letter.
func Unique() string {
	return "t" + strings.ToLower(rand.Text()[:16])
}

// PostgresAdminURL is the database tests connect to in order to create
// their own; COGNATE_TEST_POSTGRES_URL overrides it.
func PostgresAdminURL() string {
	if u := os.Getenv("COGNATE_TEST_POSTGRES_URL"); u != "" {
		return u
	}
	return "postgres://postgres@" + PostgresAddr + "/postgres?sslmode=disable"
}

// Postgres creates a fresh, empty database for t and returns its URL; the
// database is dropped when t ends.
func Postgres(t testing.TB) string {
	t.Helper()
	Need(t, "PostgreSQL", PostgresAddr)
	admin := PostgresAdminURL()
	name := "cognate_" + Unique()
	if err := pgExec(admin, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("servicetest: create database: %v", err)
	}
	t.Cleanup(func() {
		if err := pgExec(admin, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Logf("servicetest: drop database %s: %v", name, err)
		}
	})
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatalf("servicetest: %v", err)
	}
	u.Path = "/" + name
	return u.String()
}

func pgExec(dsn, sql string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer c.Close(context.Background())
	_, err = c.Exec(ctx, sql)
	return err
}

// Redis returns the URL of the machine's Redis and a key prefix of t's
// own ("<unique>:"); callers keep every key they write under it.
func Redis(t testing.TB) (redisURL, prefix string) {
	t.Helper()
	Need(t, "Redis", RedisAddr)
	return "redis://" + RedisAddr + "/0", Unique() + ":"
}

// NATS returns the URL of the machine's NATS server and a subject prefix
// of t's own ("<unique>."); callers keep every subject under it.
func NATS(t testing.TB) (natsURL, prefix string) {
	t.Helper()
	Need(t, "NATS", NATSAddr)
	return "nats://" + NATSAddr, Unique() + "."
}
