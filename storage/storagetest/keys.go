package storagetest

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cognate-auth/cognate/storage"
)

var keyTests = []test{
	{"SigningKey/List", testListSigningKeys},
	{"SigningKey/AddMissing", testAddMissingSigningKeys},
	{"Secret/GetOrCreate", testGetOrCreateSecret},
	{"Secret/GenError", testSecretGenError},
	{"Secret/Concurrent", testSecretConcurrent},
	{"GarbageCollect", testGarbageCollect},
}

func testListSigningKeys(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	f := seed(t, s) // key-1, created at base
	got, err := s.ListSigningKeys(ctx, "pool-2")
	must(t, err)
	check(t, "ListSigningKeys of a pool without keys", got, nil)

	newer := keyRecord("key-0", "pool-1", base.Add(time.Hour))
	newer.Use = "id"
	newest := keyRecord("key-2", "pool-1", base.Add(2*time.Hour).In(elsewhere))
	oldest := keyRecord("key-3", "pool-1", base.Add(-time.Hour))
	for _, k := range []storage.SigningKey{newer, keyRecord("key-9", "pool-2", base.Add(5*time.Hour)), oldest, newest} {
		must(t, s.CreateSigningKey(ctx, k))
	}
	got, err = s.ListSigningKeys(ctx, "pool-1")
	must(t, err)
	check(t, "ListSigningKeys", got, []storage.SigningKey{newest, newer, f.key, oldest})
}

func testGetOrCreateSecret(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	value := []byte("first \x00\xff value")
	got, err := s.GetOrCreateSecret(ctx, "cookie", func() ([]byte, error) { return value, nil })
	must(t, err)
	if !bytes.Equal(got, value) {
		t.Errorf("first GetOrCreateSecret = %q, want gen's %q", got, value)
	}
	for range 2 {
		got, err = s.GetOrCreateSecret(ctx, "cookie", func() ([]byte, error) {
			t.Error("gen called for a stored secret")
			return []byte("second value"), nil
		})
		must(t, err)
		if !bytes.Equal(got, value) {
			t.Errorf("later GetOrCreateSecret = %q, want the stored %q", got, value)
		}
	}
	got, err = s.GetOrCreateSecret(ctx, "other", func() ([]byte, error) { return []byte("other value"), nil })
	must(t, err)
	if string(got) != "other value" {
		t.Errorf("GetOrCreateSecret of another name = %q, want its own value", got)
	}
}

func testSecretGenError(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	errGen := errors.New("storagetest: no entropy")
	_, err := s.GetOrCreateSecret(ctx, "cookie", func() ([]byte, error) { return nil, errGen })
	wantErr(t, "GetOrCreateSecret with a failing gen", err, errGen)
	// Nothing was stored: the next call generates.
	got, err := s.GetOrCreateSecret(ctx, "cookie", func() ([]byte, error) { return []byte("value"), nil })
	must(t, err)
	if string(got) != "value" {
		t.Errorf("GetOrCreateSecret after a failed gen = %q, want %q", got, "value")
	}
}

func testSecretConcurrent(t *testing.T, s storage.Storage) {
	const n = 16
	var (
		calls atomic.Int64
		wg    sync.WaitGroup
		start = make(chan struct{})
		got   [n][]byte
		errs  [n]error
	)
	for i := range n {
		wg.Go(func() {
			<-start
			got[i], errs[i] = s.GetOrCreateSecret(t.Context(), "cookie", func() ([]byte, error) {
				calls.Add(1)
				return fmt.Appendf(nil, "value from caller %d", i), nil
			})
		})
	}
	close(start)
	wg.Wait()
	for i := range n {
		must(t, errs[i])
		if !bytes.Equal(got[i], got[0]) {
			t.Errorf("caller %d got %q, caller 0 got %q", i, got[i], got[0])
		}
	}
	if calls.Load() == 0 {
		t.Error("gen never called")
	}
	stored, err := s.GetOrCreateSecret(t.Context(), "cookie", func() ([]byte, error) {
		return nil, errors.New("gen called for a stored secret")
	})
	must(t, err)
	if !bytes.Equal(stored, got[0]) {
		t.Errorf("stored secret %q differs from what callers got, %q", stored, got[0])
	}
}

func testGarbageCollect(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	seed(t, s) // everything in it expires after base
	now := base.Add(time.Hour + time.Minute)
	past, future := now.Add(-time.Second), now.Add(time.Hour)

	live := familyRecord("live", "pool-1", "alice")
	live.ExpiresAt = future
	revoked := live
	revoked.ID, revoked.RevokedAt = "revoked", base // revoked but not expired: kept
	expired := familyRecord("expired", "pool-1", "alice")
	expired.ExpiresAt = past
	for _, f := range []storage.RefreshFamily{live, revoked, expired} {
		must(t, s.CreateRefreshFamily(ctx, f))
	}
	liveToken, expiredToken := tokenRecord("live", live), tokenRecord("expired", live)
	expiredToken.ExpiresAt = past
	inExpiredFamily := tokenRecord("in-expired-family", expired)
	for _, tok := range []storage.RefreshToken{liveToken, expiredToken, inExpiredFamily} {
		must(t, s.CreateRefreshToken(ctx, tok))
	}
	liveCode, expiredCode := codeRecord("pool-1", "alice", "live"), codeRecord("pool-1", "alice", "expired")
	liveCode.ExpiresAt, expiredCode.ExpiresAt = future, past
	must(t, s.PutCode(ctx, liveCode))
	must(t, s.PutCode(ctx, expiredCode))
	// A redeemed code is collected like any other; a zero ExpiresAt never
	// expires.
	liveAuthCode, expiredAuthCode := authCodeRecord("live", "pool-1", "alice"), authCodeRecord("expired", "pool-1", "alice")
	liveAuthCode.ExpiresAt, expiredAuthCode.ExpiresAt = future, past
	expiredAuthCode.RedeemedAt, expiredAuthCode.FamilyID = base, live.ID
	eternalAuthCode := authCodeRecord("eternal", "pool-1", "alice")
	eternalAuthCode.ExpiresAt = time.Time{}
	for _, c := range []storage.AuthCode{liveAuthCode, expiredAuthCode, eternalAuthCode} {
		must(t, s.CreateAuthCode(ctx, c))
	}
	liveSession, expiredSession := loginSessionRecord("live", "pool-1", "alice"), loginSessionRecord("expired", "pool-1", "alice")
	liveSession.ExpiresAt, expiredSession.ExpiresAt = future, past
	// Expiring exactly now is not yet expired.
	nowSession := loginSessionRecord("now", "pool-1", "alice")
	nowSession.ExpiresAt = now.In(elsewhere)
	eternalSession := loginSessionRecord("eternal", "pool-1", "alice")
	eternalSession.ExpiresAt = time.Time{}
	for _, ls := range []storage.LoginSession{liveSession, expiredSession, nowSession, eternalSession} {
		must(t, s.CreateLoginSession(ctx, ls))
	}

	// The seeded signup code expires at base+1h, the seeded auth code at
	// base+5m and the seeded login session at base+1h, all before now.
	want := storage.GCResult{Codes: 2, AuthCodes: 2, LoginSessions: 2, RefreshTokens: 2, RefreshFamilies: 1}
	got, err := s.GarbageCollect(ctx, now)
	must(t, err)
	check(t, "GarbageCollect", got, want)

	_, err = s.GetCode(ctx, "pool-1", "alice", "expired")
	wantErr(t, "GetCode of an expired code", err, storage.ErrNotFound)
	_, err = s.GetRefreshFamily(ctx, expired.ID)
	wantErr(t, "GetRefreshFamily of an expired family", err, storage.ErrNotFound)
	for _, h := range [][]byte{expiredToken.Hash, inExpiredFamily.Hash} {
		_, err = s.GetRefreshToken(ctx, h)
		wantErr(t, "GetRefreshToken of "+string(h), err, storage.ErrNotFound)
	}
	gotCode, err := s.GetCode(ctx, "pool-1", "alice", "live")
	must(t, err)
	check(t, "live code", gotCode, liveCode)
	for _, f := range []storage.RefreshFamily{live, revoked} {
		gotFamily, err := s.GetRefreshFamily(ctx, f.ID)
		must(t, err)
		check(t, "family "+f.ID, gotFamily, f)
	}
	gotToken, err := s.GetRefreshToken(ctx, liveToken.Hash)
	must(t, err)
	check(t, "live token", gotToken, liveToken)
	for _, h := range []string{"auth-code-1", "expired"} {
		_, err = s.GetAuthCode(ctx, []byte(h))
		wantErr(t, "GetAuthCode of "+h, err, storage.ErrNotFound)
	}
	for _, c := range []storage.AuthCode{liveAuthCode, eternalAuthCode} {
		got, err := s.GetAuthCode(ctx, c.Hash)
		must(t, err)
		check(t, "auth code "+string(c.Hash), got, c)
	}
	for _, h := range []string{"session-1", "expired"} {
		_, err = s.GetLoginSession(ctx, []byte(h))
		wantErr(t, "GetLoginSession of "+h, err, storage.ErrNotFound)
	}
	for _, ls := range []storage.LoginSession{liveSession, nowSession, eternalSession} {
		got, err := s.GetLoginSession(ctx, ls.Hash)
		must(t, err)
		check(t, "login session "+string(ls.Hash), got, ls)
	}

	got, err = s.GarbageCollect(ctx, now)
	must(t, err)
	check(t, "second GarbageCollect", got, storage.GCResult{})
}

// testAddMissingSigningKeys races callers that each bring a key of every
// use for a pool without keys: exactly one key per use is stored, and a
// later call adds only the use still missing.
func testAddMissingSigningKeys(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	must(t, s.CreatePool(ctx, poolRecord("pool-1")))
	const callers = 8
	var wg sync.WaitGroup
	var added atomic.Int64
	for i := range callers {
		wg.Go(func() {
			access := keyRecord(fmt.Sprintf("access-%d", i), "pool-1", base)
			id := keyRecord(fmt.Sprintf("id-%d", i), "pool-1", base)
			id.Use = "id"
			n, err := s.AddMissingSigningKeys(ctx, []storage.SigningKey{access, id})
			if err != nil {
				t.Error(err)
			}
			added.Add(int64(n))
		})
	}
	wg.Wait()
	got, err := s.ListSigningKeys(ctx, "pool-1")
	must(t, err)
	uses := map[string]int{}
	for _, k := range got {
		uses[k.Use]++
	}
	if added.Load() != 2 || uses["access"] != 1 || uses["id"] != 1 {
		t.Fatalf("%d callers added %d keys; stored per use %v, want one each", callers, added.Load(), uses)
	}
	other := keyRecord("other-1", "pool-1", base)
	other.Use = "refresh-test"
	n, err := s.AddMissingSigningKeys(ctx, []storage.SigningKey{keyRecord("access-late", "pool-1", base), other})
	must(t, err)
	if n != 1 {
		t.Fatalf("a later call added %d keys, want only the missing use", n)
	}
	_, err = s.AddMissingSigningKeys(ctx, []storage.SigningKey{keyRecord("k", "no-such-pool", base)})
	wantErr(t, "AddMissingSigningKeys in a missing pool", err, storage.ErrNotFound)
}
