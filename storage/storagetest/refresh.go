package storagetest

import (
	"testing"
	"time"

	"github.com/cognate-auth/cognate/storage"
)

var refreshTests = []test{
	{"RefreshFamily/RoundTrip", testFamilyRoundTrip},
	{"RefreshFamily/Update", testUpdateFamily},
	{"RefreshFamily/RevokeUser", testRevokeUserFamilies},
	{"RefreshToken/RoundTrip", testTokenRoundTrip},
	{"RefreshToken/Update", testUpdateToken},
}

func testFamilyRoundTrip(t *testing.T, s storage.Storage) {
	seed(t, s)
	revoked := familyRecord("revoked", "pool-1", "alice")
	revoked.RevokedAt = base.Add(time.Hour)
	zoned := familyRecord("zoned", "pool-1", "alice")
	zoned.AuthTime, zoned.CreatedAt = zoned.AuthTime.In(elsewhere), zoned.CreatedAt.In(elsewhere)
	zoned.ExpiresAt, zoned.RevokedAt = zoned.ExpiresAt.In(elsewhere), base.In(elsewhere)
	for _, f := range []storage.RefreshFamily{
		familyRecord("live", "pool-1", "alice"),
		revoked,
		{ID: "minimal", PoolID: "pool-1", Username: "alice"},
		zoned,
	} {
		t.Run(f.ID, func(t *testing.T) {
			must(t, s.CreateRefreshFamily(t.Context(), f))
			got, err := s.GetRefreshFamily(t.Context(), f.ID)
			must(t, err)
			check(t, "GetRefreshFamily", got, f)
		})
	}
}

func testUpdateFamily(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	f := seed(t, s)
	want := f.family
	want.RevokedAt = base.Add(time.Hour)
	want.Scope = "openid"
	want.EventID = "event-2"
	must(t, s.UpdateRefreshFamily(ctx, f.family.ID, func(got storage.RefreshFamily) (storage.RefreshFamily, error) {
		check(t, "updater argument", got, f.family)
		return want, nil
	}))
	got, err := s.GetRefreshFamily(ctx, f.family.ID)
	must(t, err)
	check(t, "GetRefreshFamily after UpdateRefreshFamily", got, want)
}

func testRevokeUserFamilies(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	seed(t, s) // alice has family-1, live
	for _, u := range []storage.User{userRecord("pool-1", "bob"), userRecord("pool-2", "alice")} {
		must(t, s.CreateUser(ctx, u))
	}
	earlier := base.Add(-time.Hour)
	families := map[string]storage.RefreshFamily{
		"family-1":    familyRecord("family-1", "pool-1", "alice"),
		"alice-2":     familyRecord("alice-2", "pool-1", "alice"),
		"alice-old":   familyRecord("alice-old", "pool-1", "alice"),
		"bob":         familyRecord("bob", "pool-1", "bob"),
		"other-alice": familyRecord("other-alice", "pool-2", "alice"),
	}
	old := families["alice-old"]
	old.RevokedAt = earlier
	families["alice-old"] = old
	for id, f := range families {
		if id != "family-1" {
			must(t, s.CreateRefreshFamily(ctx, f))
		}
	}

	at := base.Add(time.Minute)
	n, err := s.RevokeUserRefreshFamilies(ctx, "pool-1", "alice", at)
	must(t, err)
	if n != 2 {
		t.Errorf("RevokeUserRefreshFamilies = %d, want 2 (the live ones)", n)
	}
	for _, id := range []string{"family-1", "alice-2"} {
		f := families[id]
		f.RevokedAt = at
		families[id] = f
	}
	for id, want := range families {
		got, err := s.GetRefreshFamily(ctx, id)
		must(t, err)
		check(t, "family "+id, got, want)
	}

	n, err = s.RevokeUserRefreshFamilies(ctx, "pool-1", "alice", at.Add(time.Minute))
	must(t, err)
	if n != 0 {
		t.Errorf("second RevokeUserRefreshFamilies = %d, want 0", n)
	}
}

func testTokenRoundTrip(t *testing.T, s storage.Storage) {
	f := seed(t, s)
	rotated := tokenRecord("rotated", f.family)
	rotated.RotatedAt = base.Add(time.Minute)
	zoned := tokenRecord("zoned", f.family)
	zoned.CreatedAt, zoned.ExpiresAt = zoned.CreatedAt.In(elsewhere), zoned.ExpiresAt.In(elsewhere)
	// Hashes are binary: bytes that are not valid UTF-8, and a zero byte.
	binary := tokenRecord("\x00\xff\xfe binary", f.family)
	for _, tok := range []storage.RefreshToken{
		tokenRecord("current", f.family),
		rotated,
		zoned,
		binary,
		{Hash: []byte("minimal"), FamilyID: f.family.ID},
	} {
		t.Run(string(tok.Hash), func(t *testing.T) {
			must(t, s.CreateRefreshToken(t.Context(), tok))
			got, err := s.GetRefreshToken(t.Context(), tok.Hash)
			must(t, err)
			check(t, "GetRefreshToken", got, tok)
		})
	}
	// A prefix of a hash is another hash.
	_, err := s.GetRefreshToken(t.Context(), []byte("curr"))
	wantErr(t, "GetRefreshToken by prefix", err, storage.ErrNotFound)
}

func testUpdateToken(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	f := seed(t, s)
	want := f.token
	want.RotatedAt = base.Add(time.Minute)
	want.ExpiresAt = base.Add(time.Hour)
	must(t, s.UpdateRefreshToken(ctx, f.token.Hash, func(got storage.RefreshToken) (storage.RefreshToken, error) {
		check(t, "updater argument", got, f.token)
		return want, nil
	}))
	got, err := s.GetRefreshToken(ctx, f.token.Hash)
	must(t, err)
	check(t, "GetRefreshToken after UpdateRefreshToken", got, want)
}
