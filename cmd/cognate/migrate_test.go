package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cognate-auth/cognate/internal/servicetest"
	"github.com/cognate-auth/cognate/server"
)

// TestMigrateCommand migrates the data directory a server made into a
// fresh PostgreSQL database, twice, as a user at a terminal would.
func TestMigrateCommand(t *testing.T) {
	target := servicetest.Postgres(t)
	dir := t.TempDir()
	srv, err := server.New(context.Background(), server.Config{DataDir: dir, PublicURL: "http://127.0.0.1:1", Out: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	srv.Close()

	migrate := func(args ...string) string {
		t.Helper()
		var out, errb bytes.Buffer
		if err := run(t.Context(), append([]string{"migrate"}, args...), &out, &errb); err != nil {
			t.Fatalf("cognate migrate %s: %v\n%s%s", strings.Join(args, " "), err, out.String(), errb.String())
		}
		return out.String()
	}
	dry := migrate("--from", dir, "--to", target, "--dry-run")
	for _, want := range []string{"dry run", "to copy", "pools", "signing keys", "not copied (transient)", "not verified (dry run)"} {
		if !strings.Contains(dry, want) {
			t.Errorf("dry run output lacks %q:\n%s", want, dry)
		}
	}
	first := migrate("--from", filepath.Join(dir, "cognate.db"), "--to", target)
	if !strings.Contains(first, "verification:") || strings.Contains(first, "MISMATCH") {
		t.Fatalf("first run:\n%s", first)
	}
	second := migrate("--from", dir, "--to", target)
	if strings.Contains(second, "MISMATCH") || !strings.Contains(second, "ok:") {
		t.Fatalf("second run:\n%s", second)
	}
	// Every kind line of the second run copies nothing.
	for _, line := range strings.Split(second, "\n") {
		f := strings.Fields(line)
		if len(f) == 5 && (f[0] == "pools" || f[0] == "secrets") && f[2] != "0" {
			t.Errorf("second run copied again: %q", line)
		}
	}
	t.Logf("second run:\n%s", second)
}

func TestMigrateCommandErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no flags", nil, "--from and --to are required"},
		{"not postgres", []string{"--from", t.TempDir(), "--to", "mysql://db"}, "postgres:// URL"},
		{"missing source", []string{"--from", filepath.Join(t.TempDir(), "nothing"), "--to", "postgres://db"}, "no such file"},
		{"empty data directory", []string{"--from", t.TempDir(), "--to", "postgres://db"}, "cognate serve"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := run(t.Context(), append([]string{"migrate"}, tc.args...), io.Discard, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one containing %q", err, tc.want)
			}
		})
	}

	// An unreachable target: said so, and the password never shown.
	dir := t.TempDir()
	srv, err := server.New(context.Background(), server.Config{DataDir: dir, PublicURL: "http://127.0.0.1:1", Out: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	srv.Close()
	var out, errb bytes.Buffer
	err = run(t.Context(), []string{"migrate", "--from", dir, "--to", "postgres://cognate:hunter2@127.0.0.1:1/cognate?connect_timeout=1"}, &out, &errb)
	if err == nil || !strings.Contains(err.Error(), "unreachable") {
		t.Fatalf("err = %v, want unreachable", err)
	}
	if all := err.Error() + out.String() + errb.String(); strings.Contains(all, "hunter2") {
		t.Fatalf("the password was printed:\n%s", all)
	}
	if errors.Is(err, errNotVerified) {
		t.Fatal("an unreachable target is not a verification failure")
	}
}
