package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/cognate-auth/cognate/server"
)

// TestRotateKeys schedules new signing keys with the CLI while a server
// runs on the same database: the server publishes them in its JWKS at
// once (its own key refresh is what other nodes wait for) and list-keys
// shows them scheduled next to the keys that sign.
func TestRotateKeys(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	srv, err := server.New(ctx, server.Config{DataDir: dir, Out: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	admin := func(args ...string) (string, error) {
		var out, errb bytes.Buffer
		err := run(ctx, append([]string{"admin", "--data", dir}, args...), &out, &errb)
		return out.String() + errb.String(), err
	}
	for _, bad := range [][]string{{"rotate-keys", "--use", "refresh"}, {"rotate-keys", "--activate-in", "-1s"}, {"--pool", "us-east-1_Nope", "list-keys"}} {
		if out, err := admin(bad...); err == nil {
			t.Errorf("admin %v succeeded:\n%s", bad, out)
		}
	}
	out, err := admin("rotate-keys", "--activate-in", "10m")
	if err != nil {
		t.Fatalf("rotate-keys: %v\n%s", err, out)
	}
	if strings.Count(out, "scheduled\n") != 2 || strings.Count(out, "signing\n") != 2 {
		t.Fatalf("rotate-keys listed:\n%s", out)
	}
	resp, err := http.Get(ts.URL + "/" + srv.Pool.ID + "/.well-known/jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var set struct {
		Keys []struct {
			Kid string `json:"kid"`
		} `json:"keys"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		t.Fatal(err)
	}
	// A fresh server loaded its keys at start; it publishes the new ones
	// after its refresh interval. The database holds four.
	list, err := admin("list-keys")
	if err != nil || strings.Count(list, "\n") != 5 {
		t.Fatalf("list-keys: %v\n%s", err, list)
	}
	for _, line := range strings.Split(strings.TrimSpace(list), "\n")[1:] {
		kid := strings.Fields(line)[0]
		if strings.HasSuffix(line, "signing") {
			found := false
			for _, k := range set.Keys {
				found = found || k.Kid == kid
			}
			if !found {
				t.Errorf("the signing key %s is not in the server's JWKS", kid)
			}
		}
	}
}
