package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"strings"
	"testing"

	"github.com/cognate-auth/cognate/server"
)

// TestAdminCLIAgainstRunningServer drives the admin tasks over real HTTP
// with the AWS SDK signing, as a user at a terminal would.
func TestAdminCLIAgainstRunningServer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String()
	dir := t.TempDir()
	srv, err := server.New(context.Background(), server.Config{DataDir: dir, PublicURL: url, Out: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go srv.Serve(ctx, ln, nil)

	admin := func(args ...string) string {
		t.Helper()
		var out, errb bytes.Buffer
		full := append([]string{"admin", "--endpoint", url, "--data", dir}, args...)
		if err := run(ctx, full, &out, &errb); err != nil {
			t.Fatalf("cognate %s: %v\n%s", strings.Join(args, " "), err, errb.String())
		}
		return out.String()
	}
	admin("create-user", "--email", "ops@example.com", "--password", "Sup3r-secret!", "--name", "Ops")
	admin("add-to-group", "--user", "ops@example.com", "--group", "admin", "--create")
	admin("set-password", "--user", "ops@example.com", "--password", "An0ther-secret!")
	list := admin("list-users", "--filter", `email = "ops@example.com"`)
	if !strings.Contains(list, "ops@example.com") || !strings.Contains(list, "CONFIRMED") {
		t.Fatalf("list-users:\n%s", list)
	}

	var errb bytes.Buffer
	err = run(ctx, []string{"admin", "--endpoint", url, "--data", dir, "--secret-access-key", "wrong-secret-wrong-secret", "--access-key-id", srv.Admin.AccessKeyID, "list-users"}, io.Discard, &errb)
	if err == nil || !strings.Contains(err.Error(), "InvalidSignatureException") {
		t.Fatalf("wrong secret: %v", err)
	}
}
