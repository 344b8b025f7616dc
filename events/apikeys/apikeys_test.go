package apikeys_test

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cognate-auth/cognate/events/apikeys"
	"github.com/cognate-auth/cognate/storage/sqlite"
)

func newManager(t *testing.T, now *time.Time, ttl time.Duration) *apikeys.Manager {
	t.Helper()
	store, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	return apikeys.New(store, apikeys.Options{Now: func() time.Time { return *now }, CacheTTL: ttl})
}

func TestLifecycle(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	m := newManager(t, &now, -1)
	key, rec, err := m.Create(ctx, "ci", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(key, apikeys.Prefix) || len(key) != len(apikeys.Prefix)+26 {
		t.Fatalf("key %q is not da2- and 26 characters", key)
	}
	list, err := m.List(ctx)
	if err != nil || len(list) != 1 || list[0].ID != rec.ID || list[0].Description != "ci" {
		t.Fatalf("List = %+v, %v", list, err)
	}
	if bytes.Contains(list[0].Hash, []byte(key)) || list[0].ID == key {
		t.Fatal("the stored record holds the key itself")
	}
	if got, err := m.Lookup(ctx, key); err != nil || got.ID != rec.ID {
		t.Fatalf("Lookup(valid) = %+v, %v", got, err)
	}
	for _, bad := range []string{"", "da2-", key[:len(key)-1], key + "a", strings.ToUpper(key), "da2-" + strings.Repeat("!", 26), apikeys.Prefix + strings.Repeat("a", 26)} {
		if _, err := m.Lookup(ctx, bad); !errors.Is(err, apikeys.ErrUnknown) {
			t.Errorf("Lookup(%q) = %v, want ErrUnknown", bad, err)
		}
	}
	now = now.Add(time.Hour)
	if _, err := m.Lookup(ctx, key); !errors.Is(err, apikeys.ErrExpired) {
		t.Errorf("Lookup at expiry = %v, want ErrExpired", err)
	}
	if err := m.Delete(ctx, rec.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Lookup(ctx, key); !errors.Is(err, apikeys.ErrUnknown) {
		t.Errorf("Lookup after delete = %v, want ErrUnknown", err)
	}
	if err := m.Delete(ctx, rec.ID); !errors.Is(err, apikeys.ErrUnknown) {
		t.Errorf("second Delete = %v, want ErrUnknown", err)
	}
	if _, _, err := m.Create(ctx, "", 0); err == nil {
		t.Error("Create with no expiry succeeded")
	}
}

// A key created by another process (the admin CLI) is found once the
// cached "unknown" answer ages out.
func TestCacheAgesOut(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	clock := func() time.Time { return now }
	server := apikeys.New(store, apikeys.Options{Now: clock, CacheTTL: 5 * time.Second})
	cli := apikeys.New(store, apikeys.Options{Now: clock})
	key, rec, err := cli.Create(ctx, "", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := server.Lookup(ctx, key); err != nil {
		t.Fatalf("Lookup = %v", err)
	}
	if err := cli.Delete(ctx, rec.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := server.Lookup(ctx, key); err != nil {
		t.Fatalf("Lookup within the cache TTL = %v, want the cached answer", err)
	}
	now = now.Add(5 * time.Second)
	if _, err := server.Lookup(ctx, key); !errors.Is(err, apikeys.ErrUnknown) {
		t.Fatalf("Lookup after the cache TTL = %v, want ErrUnknown", err)
	}
}
