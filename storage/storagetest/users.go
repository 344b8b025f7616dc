package storagetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/cognate-auth/cognate/storage"
)

var userTests = []test{
	{"User/RoundTrip", testUserRoundTrip},
	{"User/EmailAlias", testUserEmailAlias},
	{"User/UniquePerPool", testUserUniquePerPool},
	{"User/List", testListUsers},
	{"User/Update", testUpdateUser},
	{"User/UpdateConflicts", testUpdateUserConflicts},
	{"User/Delete", testDeleteUser},
	{"User/MFAStepOnce", testUserMFAStepOnce},
}

func testUserRoundTrip(t *testing.T, s storage.Storage) {
	must(t, s.CreatePool(t.Context(), poolRecord("pool-1")))
	zoned := userRecord("pool-1", "zoned")
	zoned.PasswordExpiresAt = zoned.PasswordExpiresAt.In(elsewhere)
	zoned.CreatedAt, zoned.UpdatedAt = zoned.CreatedAt.In(elsewhere), zoned.UpdatedAt.In(elsewhere)
	empty := userRecord("pool-1", "empty")
	empty.Attributes, empty.PendingAttributes = map[string]string{}, map[string]string{}
	empty.SRPSalt, empty.SRPVerifier = []byte{}, []byte{}
	for _, u := range []storage.User{
		userRecord("pool-1", "full"),
		// Nil maps and slices, zero times, no email alias.
		{PoolID: "pool-1", Username: "minimal", Sub: "sub-minimal", Status: storage.StatusUnconfirmed},
		empty,
		zoned,
	} {
		t.Run(u.Username, func(t *testing.T) {
			ctx := t.Context()
			must(t, s.CreateUser(ctx, u))
			got, err := s.GetUser(ctx, u.PoolID, u.Username)
			must(t, err)
			check(t, "GetUser", got, u)
			got, err = s.GetUserBySub(ctx, u.PoolID, u.Sub)
			must(t, err)
			check(t, "GetUserBySub", got, u)
			if u.Email == "" {
				_, err := s.GetUserByEmail(ctx, u.PoolID, "")
				wantErr(t, "GetUserByEmail with no alias", err, storage.ErrNotFound)
				return
			}
			got, err = s.GetUserByEmail(ctx, u.PoolID, u.Email)
			must(t, err)
			check(t, "GetUserByEmail", got, u)
		})
	}
}

func testUserEmailAlias(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	must(t, s.CreatePool(ctx, poolRecord("pool-1")))
	u := userRecord("pool-1", "carol")
	u.Email = "Carol.Smith@Example.COM"
	must(t, s.CreateUser(ctx, u))
	u.Email = "carol.smith@example.com"
	for _, email := range []string{"carol.smith@example.com", "CAROL.SMITH@EXAMPLE.COM", "Carol.Smith@Example.COM"} {
		got, err := s.GetUserByEmail(ctx, "pool-1", email)
		must(t, err)
		check(t, "GetUserByEmail("+email+")", got, u)
	}
}

func testUserUniquePerPool(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	must(t, s.CreatePool(ctx, poolRecord("pool-1")))
	must(t, s.CreatePool(ctx, poolRecord("pool-2")))
	// The same username, email alias and sub in two pools.
	one := userRecord("pool-1", "dave")
	two := one
	two.PoolID = "pool-2"
	must(t, s.CreateUser(ctx, one))
	must(t, s.CreateUser(ctx, two))
	// Users without an email alias do not collide on it.
	for _, name := range []string{"erin", "frank"} {
		u := userRecord("pool-1", name)
		u.Email = ""
		must(t, s.CreateUser(ctx, u))
	}
	for _, want := range []storage.User{one, two} {
		got, err := s.GetUserByEmail(ctx, want.PoolID, want.Email)
		must(t, err)
		check(t, "GetUserByEmail", got, want)
		got, err = s.GetUserBySub(ctx, want.PoolID, want.Sub)
		must(t, err)
		check(t, "GetUserBySub", got, want)
	}
}

func testListUsers(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	must(t, s.CreatePool(ctx, poolRecord("pool-1")))
	must(t, s.CreatePool(ctx, poolRecord("pool-2")))
	users := map[string]storage.User{}
	for _, name := range []string{"erin", "bob", "dave", "alice", "carol"} {
		users[name] = userRecord("pool-1", name)
		must(t, s.CreateUser(ctx, users[name]))
	}
	must(t, s.CreateUser(ctx, userRecord("pool-2", "bert")))
	pick := func(names ...string) []storage.User {
		var out []storage.User
		for _, n := range names {
			out = append(out, users[n])
		}
		return out
	}
	for _, tc := range []struct {
		after string
		limit int
		want  []storage.User
	}{
		{"", 2, pick("alice", "bob")},
		{"bob", 2, pick("carol", "dave")},
		{"dave", 2, pick("erin")},
		{"erin", 2, nil},
		{"", 10, pick("alice", "bob", "carol", "dave", "erin")},
		{"b", 1, pick("bob")}, // after need not be a username
	} {
		t.Run(fmt.Sprintf("after=%q,limit=%d", tc.after, tc.limit), func(t *testing.T) {
			got, err := s.ListUsers(t.Context(), "pool-1", tc.after, tc.limit)
			must(t, err)
			check(t, "ListUsers", got, tc.want)
		})
	}
}

func testUpdateUser(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	must(t, s.CreatePool(ctx, poolRecord("pool-1")))
	old := userRecord("pool-1", "alice")
	must(t, s.CreateUser(ctx, old))
	want := old
	want.Email = "alice@new.example.com"
	want.Attributes = map[string]string{"email": "alice@new.example.com", "given_name": "Alice"}
	want.PendingAttributes = nil
	want.Status = storage.StatusResetRequired
	want.Enabled = false
	want.SRPSalt, want.SRPVerifier = []byte("salt2"), []byte("verifier2")
	want.PasswordExpiresAt = time.Time{}
	want.UpdatedAt = base.Add(time.Hour)
	want.MFA = storage.UserMFA{SMSEnabled: true, Preferred: "SMS_MFA", TOTPPending: "cGVuZGluZw=="}
	must(t, s.UpdateUser(ctx, "pool-1", "alice", func(got storage.User) (storage.User, error) {
		check(t, "updater argument", got, old)
		return want, nil
	}))
	got, err := s.GetUser(ctx, "pool-1", "alice")
	must(t, err)
	check(t, "GetUser after UpdateUser", got, want)
	got, err = s.GetUserByEmail(ctx, "pool-1", want.Email)
	must(t, err)
	check(t, "GetUserByEmail with the new alias", got, want)
	_, err = s.GetUserByEmail(ctx, "pool-1", old.Email)
	wantErr(t, "GetUserByEmail with the old alias", err, storage.ErrNotFound)

	// The old alias is free for someone else.
	bob := userRecord("pool-1", "bob")
	bob.Email = old.Email
	must(t, s.CreateUser(ctx, bob))
}

func testUpdateUserConflicts(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	must(t, s.CreatePool(ctx, poolRecord("pool-1")))
	alice, bob := userRecord("pool-1", "alice"), userRecord("pool-1", "bob")
	must(t, s.CreateUser(ctx, alice))
	must(t, s.CreateUser(ctx, bob))
	for _, tc := range []struct {
		name   string
		change func(*storage.User)
		want   error
	}{
		{"email taken", func(u *storage.User) { u.Email = "BOB@example.com" }, storage.ErrAlreadyExists},
		{"sub taken", func(u *storage.User) { u.Sub = bob.Sub }, storage.ErrAlreadyExists},
		// Keeping one's own alias and sub is no conflict.
		{"own email and sub", func(u *storage.User) { u.Attributes["given_name"] = "Al" }, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var want storage.User
			err := s.UpdateUser(ctx, "pool-1", "alice", func(u storage.User) (storage.User, error) {
				tc.change(&u)
				want = u
				return u, nil
			})
			if tc.want == nil {
				must(t, err)
			} else {
				wantErr(t, "UpdateUser", err, tc.want)
				want = alice
			}
			got, err := s.GetUser(ctx, "pool-1", "alice")
			must(t, err)
			check(t, "GetUser", got, want)
			alice = got
		})
	}
}

// testDeleteUser checks that nothing of a deleted user survives, even for
// a new user who takes the same username.
func testDeleteUser(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	f := seed(t, s)
	// Auth codes and login sessions of others, some sharing alice's pool
	// or username, stay.
	var keptCodes []storage.AuthCode
	var keptSessions []storage.LoginSession
	for _, u := range []storage.User{userRecord("pool-1", "bob"), userRecord("pool-2", "alice"), userRecord("pool-1", "alice2")} {
		must(t, s.CreateUser(ctx, u))
		key := u.PoolID + "/" + u.Username
		keptCodes = append(keptCodes, authCodeRecord("code of "+key, u.PoolID, u.Username))
		keptSessions = append(keptSessions, loginSessionRecord("session of "+key, u.PoolID, u.Username))
	}
	for i := range keptCodes {
		must(t, s.CreateAuthCode(ctx, keptCodes[i]))
		must(t, s.CreateLoginSession(ctx, keptSessions[i]))
	}
	redeemed := authCodeRecord("redeemed", "pool-1", "alice")
	redeemed.RedeemedAt, redeemed.FamilyID = base, f.family.ID
	must(t, s.CreateAuthCode(ctx, redeemed))
	eternal := loginSessionRecord("eternal", "pool-1", "alice")
	eternal.ExpiresAt = time.Time{}
	must(t, s.CreateLoginSession(ctx, eternal))

	must(t, s.DeleteUser(ctx, "pool-1", "alice"))

	_, err := s.GetUser(ctx, "pool-1", "alice")
	wantErr(t, "GetUser", err, storage.ErrNotFound)
	_, err = s.GetUserByEmail(ctx, "pool-1", f.user.Email)
	wantErr(t, "GetUserByEmail", err, storage.ErrNotFound)
	_, err = s.GetUserBySub(ctx, "pool-1", f.user.Sub)
	wantErr(t, "GetUserBySub", err, storage.ErrNotFound)
	_, err = s.GetCode(ctx, "pool-1", "alice", f.code.Purpose)
	wantErr(t, "GetCode", err, storage.ErrNotFound)
	checkFamilyUnusable(t, s, f.family.ID)
	if tok, err := s.GetRefreshToken(ctx, f.token.Hash); err == nil {
		checkFamilyUnusable(t, s, tok.FamilyID)
	} else {
		wantErr(t, "GetRefreshToken", err, storage.ErrNotFound)
	}
	for _, h := range [][]byte{f.authCode.Hash, redeemed.Hash} {
		_, err = s.GetAuthCode(ctx, h)
		wantErr(t, "GetAuthCode "+string(h), err, storage.ErrNotFound)
	}
	for _, h := range [][]byte{f.session.Hash, eternal.Hash} {
		_, err = s.GetLoginSession(ctx, h)
		wantErr(t, "GetLoginSession "+string(h), err, storage.ErrNotFound)
	}
	for i := range keptCodes {
		code, err := s.GetAuthCode(ctx, keptCodes[i].Hash)
		must(t, err)
		check(t, "auth code of another user", code, keptCodes[i])
		session, err := s.GetLoginSession(ctx, keptSessions[i].Hash)
		must(t, err)
		check(t, "login session of another user", session, keptSessions[i])
	}
	// The group stays; the membership goes.
	_, err = s.GetGroup(ctx, "pool-1", f.group.Name)
	must(t, err)
	wantErr(t, "DeleteUser again", s.DeleteUser(ctx, "pool-1", "alice"), storage.ErrNotFound)

	must(t, s.CreateUser(ctx, f.user))
	groups, err := s.ListGroupsForUser(ctx, "pool-1", "alice")
	must(t, err)
	check(t, "groups of the new alice", groups, nil)
	_, err = s.GetCode(ctx, "pool-1", "alice", f.code.Purpose)
	wantErr(t, "GetCode for the new alice", err, storage.ErrNotFound)
	_, err = s.GetAuthCode(ctx, f.authCode.Hash)
	wantErr(t, "GetAuthCode for the new alice", err, storage.ErrNotFound)
	_, err = s.GetLoginSession(ctx, f.session.Hash)
	wantErr(t, "GetLoginSession for the new alice", err, storage.ErrNotFound)
	n, err := s.RevokeUserRefreshFamilies(ctx, "pool-1", "alice", base)
	must(t, err)
	if n != 0 {
		t.Errorf("the new alice has %d live refresh families, want 0", n)
	}
}

// checkFamilyUnusable fails t unless the family is gone or revoked.
func checkFamilyUnusable(t *testing.T, s storage.Storage, id string) {
	t.Helper()
	fam, err := s.GetRefreshFamily(t.Context(), id)
	switch {
	case err == nil && fam.RevokedAt.IsZero():
		t.Errorf("refresh family %s of a deleted user is still live", id)
	case err != nil:
		wantErr(t, "GetRefreshFamily", err, storage.ErrNotFound)
	}
}

// testUserMFAStepOnce: of concurrent updaters that each accept a TOTP time
// step only if it is later than the last one stored (what keeps a code
// from being accepted twice, even by two nodes at once), exactly one
// wins; a user without MFA state reads back as the zero UserMFA.
func testUserMFAStepOnce(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	must(t, s.CreatePool(ctx, poolRecord("pool-1")))
	u := userRecord("pool-1", "alice")
	u.MFA = storage.UserMFA{TOTPEnabled: true, TOTPSecret: "c2VhbGVk", TOTPLastStep: 100}
	must(t, s.CreateUser(ctx, u))
	plain := userRecord("pool-1", "bob")
	plain.MFA = storage.UserMFA{}
	must(t, s.CreateUser(ctx, plain))
	got, err := s.GetUser(ctx, "pool-1", "bob")
	must(t, err)
	check(t, "user without MFA", got.MFA, storage.UserMFA{})

	errUsed := errors.New("step used")
	const n = 8
	errs := make(chan error, n)
	for range n {
		go func() {
			errs <- s.UpdateUser(ctx, "pool-1", "alice", func(u storage.User) (storage.User, error) {
				if u.MFA.TOTPLastStep >= 101 {
					return u, errUsed
				}
				u.MFA.TOTPLastStep = 101
				return u, nil
			})
		}()
	}
	won := 0
	for range n {
		switch err := <-errs; {
		case err == nil:
			won++
		case !errors.Is(err, errUsed):
			t.Fatalf("UpdateUser: %v", err)
		}
	}
	if won != 1 {
		t.Fatalf("%d updaters accepted step 101, want 1", won)
	}
	got, err = s.GetUser(ctx, "pool-1", "alice")
	must(t, err)
	if got.MFA.TOTPLastStep != 101 || got.MFA.TOTPSecret != "c2VhbGVk" {
		t.Fatalf("MFA after the race: %+v", got.MFA)
	}
}
