package storagetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/cognate-auth/cognate/storage"
)

var oauthTests = []test{
	{"AuthCode/RoundTrip", testAuthCodeRoundTrip},
	{"AuthCode/Update", testUpdateAuthCode},
	{"AuthCode/KeyImmutable", testAuthCodeKeyImmutable},
	{"AuthCode/ConcurrentRedeem", testConcurrentRedeemAuthCode},
	{"LoginSession/RoundTrip", testLoginSessionRoundTrip},
	{"LoginSession/Delete", testDeleteLoginSession},
}

func testAuthCodeRoundTrip(t *testing.T, s storage.Storage) {
	f := seed(t, s)
	must(t, s.CreateUser(t.Context(), userRecord("pool-2", "alice")))
	got, err := s.GetAuthCode(t.Context(), f.authCode.Hash)
	must(t, err)
	check(t, "GetAuthCode of the seeded code", got, f.authCode)

	redeemed := authCodeRecord("redeemed", "pool-1", "alice")
	redeemed.RedeemedAt, redeemed.FamilyID = base.Add(time.Minute), f.family.ID
	noPKCE := authCodeRecord("no-pkce", "pool-1", "alice")
	noPKCE.CodeChallenge, noPKCE.Nonce = "", ""
	zoned := authCodeRecord("zoned", "pool-1", "alice")
	zoned.AuthTime, zoned.CreatedAt = zoned.AuthTime.In(elsewhere), zoned.CreatedAt.In(elsewhere)
	zoned.ExpiresAt, zoned.RedeemedAt = zoned.ExpiresAt.In(elsewhere), base.In(elsewhere)
	// Hashes are binary: bytes that are not valid UTF-8, and a zero byte.
	// The text fields stay text, which PostgreSQL keeps only as valid
	// UTF-8 without zero bytes.
	binary := authCodeRecord("\x00\xff\xfe binary", "pool-1", "alice")
	binary.RedirectURI, binary.Nonce = "https://app.example.com/cb?from=binary", "nonce-binary"
	other := authCodeRecord("other-pool", "pool-2", "alice")
	for _, c := range []storage.AuthCode{
		authCodeRecord("fresh", "pool-1", "alice"),
		redeemed,
		noPKCE,
		zoned,
		binary,
		other,
		// Zero times, empty strings.
		{Hash: []byte("minimal"), PoolID: "pool-1", Username: "alice"},
	} {
		t.Run(string(c.Hash), func(t *testing.T) {
			must(t, s.CreateAuthCode(t.Context(), c))
			got, err := s.GetAuthCode(t.Context(), c.Hash)
			must(t, err)
			check(t, "GetAuthCode", got, c)
		})
	}
	// A prefix of a hash is another hash.
	_, err = s.GetAuthCode(t.Context(), []byte("fre"))
	wantErr(t, "GetAuthCode by prefix", err, storage.ErrNotFound)
}

func testUpdateAuthCode(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	f := seed(t, s)
	other := authCodeRecord("other", "pool-1", "alice")
	must(t, s.CreateAuthCode(ctx, other))

	// Every field but the key changes.
	want := f.authCode
	want.ClientID = "client-2"
	want.RedirectURI = "https://other.example.com/cb"
	want.Scope = "openid"
	want.Nonce = "nonce-2"
	want.CodeChallenge = ""
	want.AuthTime = base.Add(-time.Hour)
	want.CreatedAt = base.Add(time.Second)
	want.ExpiresAt = time.Time{}
	want.RedeemedAt = base.Add(time.Minute).In(elsewhere)
	want.FamilyID = f.family.ID
	must(t, s.UpdateAuthCode(ctx, f.authCode.Hash, func(got storage.AuthCode) (storage.AuthCode, error) {
		check(t, "updater argument", got, f.authCode)
		return want, nil
	}))
	got, err := s.GetAuthCode(ctx, f.authCode.Hash)
	must(t, err)
	check(t, "GetAuthCode after UpdateAuthCode", got, want)
	got, err = s.GetAuthCode(ctx, other.Hash)
	must(t, err)
	check(t, "another auth code", got, other)

	// And back: zero times and empty strings are written too.
	back := f.authCode
	back.CodeChallenge, back.AuthTime = "", time.Time{}
	must(t, s.UpdateAuthCode(ctx, f.authCode.Hash, func(got storage.AuthCode) (storage.AuthCode, error) {
		check(t, "second updater argument", got, want)
		return back, nil
	}))
	got, err = s.GetAuthCode(ctx, f.authCode.Hash)
	must(t, err)
	check(t, "GetAuthCode after the second UpdateAuthCode", got, back)
}

func testAuthCodeKeyImmutable(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	f := seed(t, s)
	must(t, s.CreateUser(ctx, userRecord("pool-1", "bob")))
	must(t, s.CreateUser(ctx, userRecord("pool-2", "alice")))
	for _, tc := range []struct {
		name   string
		change func(*storage.AuthCode)
	}{
		{"Hash", func(c *storage.AuthCode) { c.Hash = []byte("moved") }},
		{"Hash/prefix", func(c *storage.AuthCode) { c.Hash = c.Hash[:len(c.Hash)-1] }},
		{"PoolID", func(c *storage.AuthCode) { c.PoolID = "pool-2" }},
		{"Username", func(c *storage.AuthCode) { c.Username = "bob" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var moved []byte
			err := s.UpdateAuthCode(ctx, f.authCode.Hash, func(c storage.AuthCode) (storage.AuthCode, error) {
				c.RedeemedAt = base // so that a store that wrote anyway shows
				tc.change(&c)
				moved = c.Hash
				return c, nil
			})
			if err == nil {
				t.Errorf("UpdateAuthCode changing %s succeeded, want an error", tc.name)
			}
			got, err := s.GetAuthCode(ctx, f.authCode.Hash)
			must(t, err)
			check(t, "auth code after the refused update", got, f.authCode)
			if string(moved) != string(f.authCode.Hash) {
				_, err := s.GetAuthCode(ctx, moved)
				wantErr(t, "GetAuthCode of the new hash", err, storage.ErrNotFound)
			}
		})
	}
}

var errAlreadyRedeemed = errors.New("storagetest: auth code already redeemed")

// testConcurrentRedeemAuthCode checks that UpdateAuthCode is a
// compare-and-swap: of concurrent redemptions of a code, exactly one sees
// it unredeemed. Several codes are raced at once so that a lost update
// shows reliably.
func testConcurrentRedeemAuthCode(t *testing.T, s storage.Storage) {
	const (
		codes   = 8
		callers = 16
	)
	ctx := t.Context()
	seed(t, s)
	var stored [codes]storage.AuthCode
	for c := range codes {
		stored[c] = authCodeRecord(fmt.Sprintf("raced-%d", c), "pool-1", "alice")
		must(t, s.CreateAuthCode(ctx, stored[c]))
	}
	var (
		wg    sync.WaitGroup
		start = make(chan struct{})
		errs  [codes][callers]error
	)
	for c := range codes {
		for i := range callers {
			wg.Go(func() {
				<-start
				errs[c][i] = s.UpdateAuthCode(ctx, stored[c].Hash, func(a storage.AuthCode) (storage.AuthCode, error) {
					if !a.RedeemedAt.IsZero() {
						return a, errAlreadyRedeemed
					}
					a.RedeemedAt = base.Add(time.Duration(i+1) * time.Second)
					a.FamilyID = fmt.Sprintf("family-of-%d", i)
					return a, nil
				})
			})
		}
	}
	close(start)
	wg.Wait()
	for c := range codes {
		winner := -1
		for i, err := range errs[c] {
			switch {
			case err == nil && winner >= 0:
				t.Errorf("code %d: redemptions %d and %d both succeeded", c, winner, i)
			case err == nil:
				winner = i
			case !errors.Is(err, errAlreadyRedeemed):
				t.Errorf("code %d: redemption %d: err = %v, want nil or the updater's error", c, i, err)
			}
		}
		if winner < 0 {
			t.Errorf("code %d: no redemption succeeded", c)
			continue
		}
		want := stored[c]
		want.RedeemedAt = base.Add(time.Duration(winner+1) * time.Second)
		want.FamilyID = fmt.Sprintf("family-of-%d", winner)
		got, err := s.GetAuthCode(ctx, want.Hash)
		must(t, err)
		check(t, fmt.Sprintf("code %d after the redemptions", c), got, want)
	}
}

func testLoginSessionRoundTrip(t *testing.T, s storage.Storage) {
	f := seed(t, s)
	got, err := s.GetLoginSession(t.Context(), f.session.Hash)
	must(t, err)
	check(t, "GetLoginSession of the seeded session", got, f.session)

	zoned := loginSessionRecord("zoned", "pool-1", "alice")
	zoned.AuthTime, zoned.CreatedAt = zoned.AuthTime.In(elsewhere), zoned.CreatedAt.In(elsewhere)
	zoned.ExpiresAt = zoned.ExpiresAt.In(elsewhere)
	for _, ls := range []storage.LoginSession{
		loginSessionRecord("full", "pool-1", "alice"),
		zoned,
		loginSessionRecord("\x00\xff\xfe binary", "pool-1", "alice"),
		// Zero times.
		{Hash: []byte("minimal"), PoolID: "pool-1", Username: "alice"},
	} {
		t.Run(string(ls.Hash), func(t *testing.T) {
			must(t, s.CreateLoginSession(t.Context(), ls))
			got, err := s.GetLoginSession(t.Context(), ls.Hash)
			must(t, err)
			check(t, "GetLoginSession", got, ls)
		})
	}
	// A prefix of a hash is another hash.
	_, err = s.GetLoginSession(t.Context(), []byte("ful"))
	wantErr(t, "GetLoginSession by prefix", err, storage.ErrNotFound)
}

func testDeleteLoginSession(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	f := seed(t, s)
	other := loginSessionRecord("other", "pool-1", "alice")
	must(t, s.CreateLoginSession(ctx, other))
	must(t, s.DeleteLoginSession(ctx, f.session.Hash))
	_, err := s.GetLoginSession(ctx, f.session.Hash)
	wantErr(t, "GetLoginSession after DeleteLoginSession", err, storage.ErrNotFound)
	got, err := s.GetLoginSession(ctx, other.Hash)
	must(t, err)
	check(t, "another login session", got, other)
	wantErr(t, "DeleteLoginSession again", s.DeleteLoginSession(ctx, f.session.Hash), storage.ErrNotFound)
	// The hash may be used again.
	must(t, s.CreateLoginSession(ctx, f.session))
	got, err = s.GetLoginSession(ctx, f.session.Hash)
	must(t, err)
	check(t, "recreated login session", got, f.session)
}
