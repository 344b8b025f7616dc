package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/cognate-auth/cognate/server"
)

// TestAPIKeyTasks creates, lists and deletes an events API key with the
// CLI while a server runs on the same data directory; the server accepts
// the new key at once (deletions reach it through its 5-second lookup
// cache, tested in package apikeys).
func TestAPIKeyTasks(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	var out, errb bytes.Buffer
	if err := run(ctx, []string{"admin", "--data", dir, "list-api-keys"}, &out, &errb); err == nil {
		t.Fatal("list-api-keys without a database succeeded")
	}
	srv, err := server.New(ctx, server.Config{DataDir: dir, Out: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()

	admin := func(args ...string) string {
		t.Helper()
		var out, errb bytes.Buffer
		if err := run(ctx, append([]string{"admin", "--data", dir}, args...), &out, &errb); err != nil {
			t.Fatalf("cognate admin %s: %v\n%s", strings.Join(args, " "), err, errb.String())
		}
		return out.String()
	}
	created := admin("create-api-key", "--description", "ci runner", "--expires", "2h")
	key, rest, _ := strings.Cut(created, "\n")
	if !strings.HasPrefix(key, "da2-") {
		t.Fatalf("create-api-key printed %q", created)
	}
	id := strings.Fields(strings.TrimPrefix(rest, "id "))[0]
	id = strings.TrimSuffix(id, ",")
	list := admin("list-api-keys")
	if !strings.Contains(list, id) || !strings.Contains(list, "ci runner") || strings.Contains(list, key) {
		t.Fatalf("list-api-keys:\n%s", list)
	}
	publish := func(key string) int {
		req, _ := http.NewRequest(http.MethodPost, ts.URL+"/event", strings.NewReader(`{"channel":"/default/a","events":["1"]}`))
		req.Header.Set("x-api-key", key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := publish(key); code != http.StatusOK {
		t.Fatalf("publish with the new key = %d", code)
	}
	admin("delete-api-key", "--id", id)
	if strings.Contains(admin("list-api-keys"), id) {
		t.Fatal("deleted key still listed")
	}
	if err := run(ctx, []string{"admin", "--data", dir, "delete-api-key", "--id", id}, io.Discard, io.Discard); err == nil {
		t.Fatal("deleting an unknown key succeeded")
	}
}
