package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cognate-auth/cognate/internal/servicetest"
)

// withPassword puts password into a postgres:// URL's user info.
func withPassword(raw, password string) string {
	return strings.Replace(raw, "postgres://postgres@", "postgres://postgres:"+password+"@", 1)
}

// TestServeSharedStorageNeedsAdminCredentials: `cognate serve --storage
// postgres://…` without admin credentials refuses to start, saying how
// to give them and never showing the URL's password.
func TestServeSharedStorageNeedsAdminCredentials(t *testing.T) {
	url := withPassword("postgres://postgres@127.0.0.1:1/cognate", "pw-not-to-show")
	err := serve(context.Background(), []string{"--data", t.TempDir(), "--storage", url}, io.Discard, io.Discard)
	if err == nil {
		t.Fatal("serve started without admin credentials")
	}
	for _, want := range []string{"--admin-access-key-id", "COGNATE_ADMIN_SECRET_ACCESS_KEY"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
	if strings.Contains(err.Error(), "pw-not-to-show") {
		t.Fatalf("error shows the password: %v", err)
	}
}

// TestServeBadStorageAndBroker: a --storage or --broker (flag or
// environment) the node cannot use is a clear error without the password.
func TestServeBadStorageAndBroker(t *testing.T) {
	t.Setenv("COGNATE_ADMIN_ACCESS_KEY_ID", "AKIASTORAGESTORAGE12")
	t.Setenv("COGNATE_ADMIN_SECRET_ACCESS_KEY", "storage-secret-access-key-0123")
	for _, tc := range []struct {
		name, env, value, want string
	}{
		{"storage scheme", "COGNATE_STORAGE", "mongodb://admin:pw-not-to-show@db/x", "--storage"},
		{"broker scheme", "COGNATE_BROKER", "kafka://admin:pw-not-to-show@mq:9092", "--broker"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(tc.env, tc.value)
			err := serve(context.Background(), []string{"--data", t.TempDir(), "--demo-addr", "off"}, io.Discard, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "pw-not-to-show") {
				t.Fatalf("serve: %v; want an error naming %s without the password", err, tc.want)
			}
		})
	}
}

var metricsLine = regexp.MustCompile(`msg=listening addr=(\S+) scheme="http \(metrics\)"`)

// TestServeOnPostgres runs `cognate serve` on PostgreSQL (from
// COGNATE_STORAGE) and NATS, with the admin credentials from the
// environment: the banner names both, /readyz answers 200, and `cognate
// admin --storage` reaches the same database.
func TestServeOnPostgres(t *testing.T) {
	url := servicetest.Postgres(t)
	natsURL, _ := servicetest.NATS(t)
	t.Setenv("COGNATE_ADMIN_ACCESS_KEY_ID", "AKIASTORAGESTORAGE12")
	t.Setenv("COGNATE_ADMIN_SECRET_ACCESS_KEY", "storage-secret-access-key-0123")
	t.Setenv("COGNATE_STORAGE", url)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stdout, stderr := &lockedBuffer{}, &lockedBuffer{}
	done := make(chan error, 1)
	args := []string{"--addr", "127.0.0.1:0", "--tls-addr", "off", "--demo-addr", "off", "--metrics-addr", "127.0.0.1:0",
		"--data", t.TempDir(), "--broker", natsURL, "--storage-max-conns", "4", "--storage-statement-timeout", "5s"}
	go func() { done <- serve(ctx, args, stdout, stderr) }()
	var metrics string
	for deadline := time.Now().Add(30 * time.Second); metrics == ""; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no metrics listener:\n%s", stderr.String())
		}
		select {
		case err := <-done:
			t.Fatalf("serve returned %v:\n%s", err, stderr.String())
		default:
		}
		if m := metricsLine.FindStringSubmatch(stderr.String()); m != nil {
			metrics = m[1]
		}
	}
	resp, err := http.Get("http://" + metrics + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/readyz: %d", resp.StatusCode)
	}
	banner := stdout.String()
	if !strings.Contains(banner, "Storage:        postgres://postgres@") || !strings.Contains(banner, "Broker:         "+natsURL) {
		t.Fatalf("banner does not name the storage and broker:\n%s", banner)
	}

	var out, errb bytes.Buffer
	if err := run(ctx, []string{"admin", "--data", t.TempDir(), "--storage", url, "create-api-key", "--description", "pg"}, &out, &errb); err != nil {
		t.Fatalf("cognate admin --storage create-api-key: %v\n%s", err, errb.String())
	}
	out.Reset()
	if err := run(ctx, []string{"admin", "--data", t.TempDir(), "--storage", url, "list-api-keys"}, &out, &errb); err != nil {
		t.Fatalf("cognate admin --storage list-api-keys: %v\n%s", err, errb.String())
	}
	if !regexp.MustCompile(`(?m) pg$`).MatchString(out.String()) {
		t.Fatalf("list-api-keys:\n%s", out.String())
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not return after cancel")
	}
}
