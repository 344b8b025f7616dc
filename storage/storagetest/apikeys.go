package storagetest

import (
	"testing"
	"time"

	"github.com/cognate-auth/cognate/storage"
)

var apiKeyTests = []test{
	{"APIKey/Lifecycle", testAPIKeyLifecycle},
	{"APIKey/Errors", testAPIKeyErrors},
}

func apiKey(id string, created time.Time) storage.APIKey {
	return storage.APIKey{
		ID: id, Hash: []byte("hash of " + id + " \x00\xff"), Description: "key " + id + " ✓",
		CreatedAt: created, ExpiresAt: created.Add(7 * 24 * time.Hour),
	}
}

func testAPIKeyLifecycle(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	got, err := s.ListAPIKeys(ctx)
	must(t, err)
	check(t, "ListAPIKeys of an empty store", got, nil)

	a, b := apiKey("a", base.Add(time.Hour).In(elsewhere)), apiKey("b", base)
	b.Description = ""
	for _, k := range []storage.APIKey{a, b} {
		must(t, s.CreateAPIKey(ctx, k))
	}
	k, err := s.GetAPIKey(ctx, a.Hash)
	must(t, err)
	check(t, "GetAPIKey", k, a)
	got, err = s.ListAPIKeys(ctx)
	must(t, err)
	check(t, "ListAPIKeys", got, []storage.APIKey{b, a})

	must(t, s.DeleteAPIKey(ctx, "b"))
	_, err = s.GetAPIKey(ctx, b.Hash)
	wantErr(t, "GetAPIKey after delete", err, storage.ErrNotFound)
	got, err = s.ListAPIKeys(ctx)
	must(t, err)
	check(t, "ListAPIKeys after delete", got, []storage.APIKey{a})
}

func testAPIKeyErrors(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	a := apiKey("a", base)
	must(t, s.CreateAPIKey(ctx, a))
	sameID := apiKey("a", base)
	sameID.Hash = []byte("another hash")
	wantErr(t, "CreateAPIKey with a taken id", s.CreateAPIKey(ctx, sameID), storage.ErrAlreadyExists)
	sameHash := apiKey("z", base)
	sameHash.Hash = a.Hash
	wantErr(t, "CreateAPIKey with a taken hash", s.CreateAPIKey(ctx, sameHash), storage.ErrAlreadyExists)
	_, err := s.GetAPIKey(ctx, []byte("unknown"))
	wantErr(t, "GetAPIKey of an unknown hash", err, storage.ErrNotFound)
	wantErr(t, "DeleteAPIKey of an unknown id", s.DeleteAPIKey(ctx, "unknown"), storage.ErrNotFound)
	got, err := s.ListAPIKeys(ctx)
	must(t, err)
	check(t, "ListAPIKeys after failed writes", got, []storage.APIKey{a})
}
