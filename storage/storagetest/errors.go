package storagetest

import (
	"context"
	"testing"
	"time"

	"github.com/cognate-auth/cognate/storage"
)

var errorTests = []test{
	{"Errors/AlreadyExists", testAlreadyExists},
	{"Errors/NotFound", testNotFound},
	{"Errors/MissingParent", testMissingParent},
	{"Errors/UpdaterError", testUpdaterError},
	{"Errors/UpdateMissing", testUpdateMissing},
}

// call is one storage call made against a seeded store.
type call struct {
	name string
	do   func(ctx context.Context, s storage.Storage, f fixture) error
}

func testAlreadyExists(t *testing.T, s storage.Storage) {
	f := seed(t, s)
	for _, c := range []call{
		{"CreatePool", func(ctx context.Context, s storage.Storage, f fixture) error {
			return s.CreatePool(ctx, storage.Pool{ID: f.pool.ID, Name: "again"})
		}},
		{"CreateClient", func(ctx context.Context, s storage.Storage, f fixture) error {
			return s.CreateClient(ctx, clientRecord(f.otherPool.ID, f.client.ClientID))
		}},
		{"CreateUser/username", func(ctx context.Context, s storage.Storage, f fixture) error {
			u := userRecord(f.pool.ID, f.user.Username)
			u.Sub, u.Email = "another-sub", "another@example.com"
			return s.CreateUser(ctx, u)
		}},
		{"CreateUser/email", func(ctx context.Context, s storage.Storage, f fixture) error {
			u := userRecord(f.pool.ID, "mallory")
			u.Email = "ALICE@Example.com" // alice's alias in another case
			return s.CreateUser(ctx, u)
		}},
		{"CreateUser/sub", func(ctx context.Context, s storage.Storage, f fixture) error {
			u := userRecord(f.pool.ID, "mallory")
			u.Sub = f.user.Sub
			return s.CreateUser(ctx, u)
		}},
		{"CreateGroup", func(ctx context.Context, s storage.Storage, f fixture) error {
			return s.CreateGroup(ctx, groupRecord(f.pool.ID, f.group.Name, nil))
		}},
		{"CreateRefreshFamily", func(ctx context.Context, s storage.Storage, f fixture) error {
			return s.CreateRefreshFamily(ctx, f.family)
		}},
		{"CreateRefreshToken", func(ctx context.Context, s storage.Storage, f fixture) error {
			return s.CreateRefreshToken(ctx, f.token)
		}},
		{"CreateSigningKey", func(ctx context.Context, s storage.Storage, f fixture) error {
			return s.CreateSigningKey(ctx, f.key)
		}},
		{"CreateAuthCode", func(ctx context.Context, s storage.Storage, f fixture) error {
			// Only the hash is the same.
			c := authCodeRecord(string(f.authCode.Hash), f.otherPool.ID, "bob")
			c.ClientID = "client-2"
			return s.CreateAuthCode(ctx, c)
		}},
		{"CreateLoginSession", func(ctx context.Context, s storage.Storage, f fixture) error {
			return s.CreateLoginSession(ctx, loginSessionRecord(string(f.session.Hash), f.otherPool.ID, "bob"))
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			wantErr(t, c.name, c.do(t.Context(), s, f), storage.ErrAlreadyExists)
		})
	}
	// The failed creations left the originals alone.
	got, err := s.GetUser(t.Context(), f.pool.ID, f.user.Username)
	must(t, err)
	check(t, "GetUser", got, f.user)
	code, err := s.GetAuthCode(t.Context(), f.authCode.Hash)
	must(t, err)
	check(t, "GetAuthCode", code, f.authCode)
	session, err := s.GetLoginSession(t.Context(), f.session.Hash)
	must(t, err)
	check(t, "GetLoginSession", session, f.session)
}

func testNotFound(t *testing.T, s storage.Storage) {
	f := seed(t, s)
	get := func(_ any, err error) error { return err }
	for _, c := range []call{
		{"GetPool", func(ctx context.Context, s storage.Storage, f fixture) error {
			return get(s.GetPool(ctx, "no-such-pool"))
		}},
		{"GetClient", func(ctx context.Context, s storage.Storage, f fixture) error {
			return get(s.GetClient(ctx, "no-such-client"))
		}},
		{"GetUser", func(ctx context.Context, s storage.Storage, f fixture) error {
			return get(s.GetUser(ctx, f.pool.ID, "nobody"))
		}},
		{"GetUser/other pool", func(ctx context.Context, s storage.Storage, f fixture) error {
			return get(s.GetUser(ctx, f.otherPool.ID, f.user.Username))
		}},
		{"GetUserByEmail", func(ctx context.Context, s storage.Storage, f fixture) error {
			return get(s.GetUserByEmail(ctx, f.pool.ID, "nobody@example.com"))
		}},
		{"GetUserByEmail/other pool", func(ctx context.Context, s storage.Storage, f fixture) error {
			return get(s.GetUserByEmail(ctx, f.otherPool.ID, f.user.Email))
		}},
		{"GetUserBySub", func(ctx context.Context, s storage.Storage, f fixture) error {
			return get(s.GetUserBySub(ctx, f.pool.ID, "no-such-sub"))
		}},
		{"GetGroup", func(ctx context.Context, s storage.Storage, f fixture) error {
			return get(s.GetGroup(ctx, f.pool.ID, "no-such-group"))
		}},
		{"GetCode", func(ctx context.Context, s storage.Storage, f fixture) error {
			return get(s.GetCode(ctx, f.pool.ID, f.user.Username, "forgot_password"))
		}},
		{"GetRefreshFamily", func(ctx context.Context, s storage.Storage, f fixture) error {
			return get(s.GetRefreshFamily(ctx, "no-such-family"))
		}},
		{"GetRefreshToken", func(ctx context.Context, s storage.Storage, f fixture) error {
			return get(s.GetRefreshToken(ctx, []byte("no-such-token")))
		}},
		{"DeleteUser", func(ctx context.Context, s storage.Storage, f fixture) error {
			return s.DeleteUser(ctx, f.pool.ID, "nobody")
		}},
		{"DeleteCode", func(ctx context.Context, s storage.Storage, f fixture) error {
			return s.DeleteCode(ctx, f.pool.ID, f.user.Username, "forgot_password")
		}},
		{"GetAuthCode", func(ctx context.Context, s storage.Storage, f fixture) error {
			return get(s.GetAuthCode(ctx, []byte("no-such-auth-code")))
		}},
		{"GetAuthCode/login session hash", func(ctx context.Context, s storage.Storage, f fixture) error {
			return get(s.GetAuthCode(ctx, f.session.Hash))
		}},
		{"GetLoginSession", func(ctx context.Context, s storage.Storage, f fixture) error {
			return get(s.GetLoginSession(ctx, []byte("no-such-session")))
		}},
		{"GetLoginSession/auth code hash", func(ctx context.Context, s storage.Storage, f fixture) error {
			return get(s.GetLoginSession(ctx, f.authCode.Hash))
		}},
		{"DeleteLoginSession", func(ctx context.Context, s storage.Storage, f fixture) error {
			return s.DeleteLoginSession(ctx, []byte("no-such-session"))
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			wantErr(t, c.name, c.do(t.Context(), s, f), storage.ErrNotFound)
		})
	}
}

func testMissingParent(t *testing.T, s storage.Storage) {
	f := seed(t, s)
	for _, c := range []call{
		{"CreateClient/pool", func(ctx context.Context, s storage.Storage, f fixture) error {
			return s.CreateClient(ctx, clientRecord("no-such-pool", "client-9"))
		}},
		{"CreateUser/pool", func(ctx context.Context, s storage.Storage, f fixture) error {
			return s.CreateUser(ctx, userRecord("no-such-pool", "bob"))
		}},
		{"CreateGroup/pool", func(ctx context.Context, s storage.Storage, f fixture) error {
			return s.CreateGroup(ctx, groupRecord("no-such-pool", "admins", nil))
		}},
		{"CreateSigningKey/pool", func(ctx context.Context, s storage.Storage, f fixture) error {
			return s.CreateSigningKey(ctx, keyRecord("key-9", "no-such-pool", base))
		}},
		{"AddUserToGroup/user", func(ctx context.Context, s storage.Storage, f fixture) error {
			return s.AddUserToGroup(ctx, f.pool.ID, "nobody", f.group.Name)
		}},
		{"AddUserToGroup/group", func(ctx context.Context, s storage.Storage, f fixture) error {
			return s.AddUserToGroup(ctx, f.pool.ID, f.user.Username, "no-such-group")
		}},
		{"PutCode/user", func(ctx context.Context, s storage.Storage, f fixture) error {
			return s.PutCode(ctx, codeRecord(f.pool.ID, "nobody", "signup"))
		}},
		{"CreateRefreshFamily/user", func(ctx context.Context, s storage.Storage, f fixture) error {
			return s.CreateRefreshFamily(ctx, familyRecord("family-9", f.pool.ID, "nobody"))
		}},
		{"CreateRefreshToken/family", func(ctx context.Context, s storage.Storage, f fixture) error {
			return s.CreateRefreshToken(ctx, tokenRecord("token-9", familyRecord("no-such-family", f.pool.ID, "alice")))
		}},
		{"CreateAuthCode/pool", func(ctx context.Context, s storage.Storage, f fixture) error {
			return s.CreateAuthCode(ctx, authCodeRecord("auth-code-9", "no-such-pool", "alice"))
		}},
		{"CreateLoginSession/pool", func(ctx context.Context, s storage.Storage, f fixture) error {
			return s.CreateLoginSession(ctx, loginSessionRecord("session-9", "no-such-pool", "alice"))
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			wantErr(t, c.name, c.do(t.Context(), s, f), storage.ErrNotFound)
		})
	}
}

// updateCase drives one Update method of a seeded store: update calls it
// with fn on the fixture's record, reread fetches that record again.
type updateCase struct {
	name   string
	update func(ctx context.Context, s storage.Storage, f fixture, fn func(any) error) error
	reread func(ctx context.Context, s storage.Storage, f fixture) (any, error)
	stored func(f fixture) any
}

// updateCases covers every Update method. Each updater changes its record
// before calling fn, so a store that wrote despite an error shows.
var updateCases = []updateCase{
	{
		name: "UpdatePool",
		update: func(ctx context.Context, s storage.Storage, f fixture, fn func(any) error) error {
			return s.UpdatePool(ctx, f.pool.ID, func(p storage.Pool) (storage.Pool, error) {
				p.Name = "changed"
				return p, fn(p)
			})
		},
		reread: func(ctx context.Context, s storage.Storage, f fixture) (any, error) { return s.GetPool(ctx, f.pool.ID) },
		stored: func(f fixture) any { return f.pool },
	},
	{
		name: "UpdateClient",
		update: func(ctx context.Context, s storage.Storage, f fixture, fn func(any) error) error {
			return s.UpdateClient(ctx, f.client.ClientID, func(c storage.Client) (storage.Client, error) {
				c.Name = "changed"
				return c, fn(c)
			})
		},
		reread: func(ctx context.Context, s storage.Storage, f fixture) (any, error) {
			return s.GetClient(ctx, f.client.ClientID)
		},
		stored: func(f fixture) any { return f.client },
	},
	{
		name: "UpdateUser",
		update: func(ctx context.Context, s storage.Storage, f fixture, fn func(any) error) error {
			return s.UpdateUser(ctx, f.user.PoolID, f.user.Username, func(u storage.User) (storage.User, error) {
				u.UpdatedAt = u.UpdatedAt.Add(time.Second)
				return u, fn(u)
			})
		},
		reread: func(ctx context.Context, s storage.Storage, f fixture) (any, error) {
			return s.GetUser(ctx, f.user.PoolID, f.user.Username)
		},
		stored: func(f fixture) any { return f.user },
	},
	{
		name: "UpdateCode",
		update: func(ctx context.Context, s storage.Storage, f fixture, fn func(any) error) error {
			return s.UpdateCode(ctx, f.code.PoolID, f.code.Username, f.code.Purpose, func(c storage.Code) (storage.Code, error) {
				c.UsedAt = base
				return c, fn(c)
			})
		},
		reread: func(ctx context.Context, s storage.Storage, f fixture) (any, error) {
			return s.GetCode(ctx, f.code.PoolID, f.code.Username, f.code.Purpose)
		},
		stored: func(f fixture) any { return f.code },
	},
	{
		name: "UpdateRefreshFamily",
		update: func(ctx context.Context, s storage.Storage, f fixture, fn func(any) error) error {
			return s.UpdateRefreshFamily(ctx, f.family.ID, func(r storage.RefreshFamily) (storage.RefreshFamily, error) {
				r.RevokedAt = base
				return r, fn(r)
			})
		},
		reread: func(ctx context.Context, s storage.Storage, f fixture) (any, error) {
			return s.GetRefreshFamily(ctx, f.family.ID)
		},
		stored: func(f fixture) any { return f.family },
	},
	{
		name: "UpdateRefreshToken",
		update: func(ctx context.Context, s storage.Storage, f fixture, fn func(any) error) error {
			return s.UpdateRefreshToken(ctx, f.token.Hash, func(r storage.RefreshToken) (storage.RefreshToken, error) {
				r.RotatedAt = base
				return r, fn(r)
			})
		},
		reread: func(ctx context.Context, s storage.Storage, f fixture) (any, error) {
			return s.GetRefreshToken(ctx, f.token.Hash)
		},
		stored: func(f fixture) any { return f.token },
	},
	{
		name: "UpdateAuthCode",
		update: func(ctx context.Context, s storage.Storage, f fixture, fn func(any) error) error {
			return s.UpdateAuthCode(ctx, f.authCode.Hash, func(c storage.AuthCode) (storage.AuthCode, error) {
				c.RedeemedAt, c.FamilyID = base, "family-1"
				return c, fn(c)
			})
		},
		reread: func(ctx context.Context, s storage.Storage, f fixture) (any, error) {
			return s.GetAuthCode(ctx, f.authCode.Hash)
		},
		stored: func(f fixture) any { return f.authCode },
	},
}

func testUpdaterError(t *testing.T, s storage.Storage) {
	f := seed(t, s)
	for _, c := range updateCases {
		t.Run(c.name, func(t *testing.T) {
			ctx := t.Context()
			var arg any
			err := c.update(ctx, s, f, func(rec any) error {
				arg = rec
				return errUpdater
			})
			wantErr(t, c.name, err, errUpdater)
			if arg == nil {
				t.Fatalf("%s never called the updater", c.name)
			}
			got, err := c.reread(ctx, s, f)
			must(t, err)
			check(t, "record after the failed update", got, c.stored(f))
		})
	}
}

func testUpdateMissing(t *testing.T, s storage.Storage) {
	// Keys that miss in a seeded store, some next to records that exist,
	// so that a store matching on part of a key shows.
	var f fixture
	seeded := seed(t, s)
	f.pool.ID, f.client.ClientID = "no-such-pool", "no-such-client"
	f.user.PoolID, f.user.Username = seeded.pool.ID, "nobody"
	f.code = codeRecord(seeded.pool.ID, seeded.user.Username, "forgot_password")
	f.family.ID, f.token.Hash = "no-such-family", []byte("no-such-token")
	// The login session's hash: the same bytes in another kind of record.
	f.authCode.Hash = seeded.session.Hash
	for _, c := range updateCases {
		t.Run(c.name, func(t *testing.T) {
			err := c.update(t.Context(), s, f, func(any) error {
				t.Errorf("%s called the updater for a missing record", c.name)
				return nil
			})
			wantErr(t, c.name, err, storage.ErrNotFound)
		})
	}
}
