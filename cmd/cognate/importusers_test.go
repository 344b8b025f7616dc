package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/cognate-auth/cognate/server"
)

// TestImportUsers runs `cognate admin import-users` on a server's data
// directory: valid lines import, bad ones are reported with their line
// number and a precise reason, and a second run skips what the first
// imported.
func TestImportUsers(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	srv, err := server.New(ctx, server.Config{DataDir: dir, Out: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	bc, err := bcrypt.GenerateFromPassword([]byte("pw"), 4)
	if err != nil {
		t.Fatal(err)
	}
	lines := []string{
		`{"username":"a","attributes":{"email":"a@example.com","email_verified":"true"},"password_hash":"` + string(bc) + `"}`,
		``,
		`{"username":"b","attributes":{"email":"b@example.com"},"password_hash":"$sha1$abc"}`,
		`{"username":"c","attributes":{"email":"c@example.com"},"password_hash":"` + string(bc) + `","extra":1}`,
		`not json`,
		`{"username":"d","attributes":{"email":"d@example.com"}}`,
		`{"username":"e","attributes":{"email":"e@example.com","shoe":"9"},"password_hash":"` + string(bc) + `"}`,
		`{"username":"f","attributes":{"email":"f@example.com"},"password_hash":"$pbkdf2-sha256$i=0$c2FsdHNhbHQ$AAAAAAAAAAAAAAAAAAAAAA"}`,
	}
	file := filepath.Join(dir, "users.jsonl")
	if err := os.WriteFile(file, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	admin := func(args ...string) (string, string, error) {
		var out, errb bytes.Buffer
		err := run(ctx, append([]string{"admin", "--data", dir}, args...), &out, &errb)
		return out.String(), errb.String(), err
	}
	out, errs, err := admin("import-users", "--file", file)
	if err == nil || !strings.Contains(err.Error(), "6 lines failed") {
		t.Fatalf("import-users: %v\n%s%s", err, out, errs)
	}
	if out != "imported 1, skipped 0 (existed already), failed 6\n" {
		t.Errorf("summary %q", out)
	}
	for _, want := range []string{
		"line 3 (b): passhash: unknown hash format: algorithm \"sha1\"",
		`line 4: not a JSON object of username, attributes and password_hash: json: unknown field "extra"`,
		"line 5: not a JSON object",
		"line 6: password_hash is required",
		"line 7 (e): Attributes did not conform to the schema",
		"line 8 (f): passhash: malformed hash: pbkdf2-sha256: i=\"0\"",
	} {
		if !strings.Contains(errs, want) {
			t.Errorf("errors lack %q:\n%s", want, errs)
		}
	}
	out, errs, _ = admin("import-users", "--file", file)
	if out != "imported 0, skipped 1 (existed already), failed 6\n" || !strings.Contains(errs, "line 1 (a): skipped") {
		t.Errorf("second run: %q\n%s", out, errs)
	}
	if _, _, err := admin("import-users"); err == nil {
		t.Error("import-users without --file succeeded")
	}
	if _, _, err := admin("import-errors", "--job", "import-none"); err == nil {
		t.Error("import-errors of a missing job succeeded")
	}
}
