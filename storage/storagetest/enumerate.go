package storagetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/cognate-auth/cognate/storage"
)

// enumeratorTests check storage.Enumerator. The interface is optional: a
// backend that does not implement it skips these tests (and cannot be the
// source of `cognate migrate`), rather than failing the suite.
var enumeratorTests = []test{
	{"Enumerator/Empty", testEnumerateEmpty},
	{"Enumerator/Walk", testEnumerateWalk},
	{"Enumerator/StopsAtError", testEnumerateStops},
}

// enumerator returns s's Enumerator, skipping t when s has none.
func enumerator(t *testing.T, s storage.Storage) storage.Enumerator {
	t.Helper()
	e, ok := s.(storage.Enumerator)
	if !ok {
		t.Skipf("%T does not implement the optional storage.Enumerator", s)
	}
	return e
}

// member is a group membership as EachGroupMember reports it.
type member struct{ PoolID, Username, Group string }

// namedSecret is a secret as EachSecret reports it.
type namedSecret struct {
	Name  string
	Value []byte
}

// walked is everything an Enumerator reports, in its order.
type walked struct {
	members  []member
	families []storage.RefreshFamily
	tokens   []storage.RefreshToken
	codes    []storage.Code
	secrets  []namedSecret
}

func walkAll(ctx context.Context, t *testing.T, e storage.Enumerator) walked {
	t.Helper()
	var w walked
	must(t, e.EachGroupMember(ctx, func(poolID, username, group string) error {
		w.members = append(w.members, member{poolID, username, group})
		return nil
	}))
	must(t, e.EachRefreshFamily(ctx, func(f storage.RefreshFamily) error {
		w.families = append(w.families, f)
		return nil
	}))
	must(t, e.EachRefreshToken(ctx, func(tk storage.RefreshToken) error {
		w.tokens = append(w.tokens, tk)
		return nil
	}))
	must(t, e.EachCode(ctx, func(c storage.Code) error {
		w.codes = append(w.codes, c)
		return nil
	}))
	must(t, e.EachSecret(ctx, func(name string, value []byte) error {
		w.secrets = append(w.secrets, namedSecret{name, value})
		return nil
	}))
	return w
}

func testEnumerateEmpty(t *testing.T, s storage.Storage) {
	w := walkAll(t.Context(), t, enumerator(t, s))
	check(t, "walk of an empty store", w.members, nil)
	check(t, "walk of an empty store", w.families, nil)
	check(t, "walk of an empty store", w.tokens, nil)
	check(t, "walk of an empty store", w.codes, nil)
	check(t, "walk of an empty store", w.secrets, nil)
}

func testEnumerateWalk(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	e := enumerator(t, s)
	f := seed(t, s)

	bob := userRecord("pool-1", "bob")
	must(t, s.CreateUser(ctx, bob))
	carol := userRecord("pool-2", "carol")
	must(t, s.CreateUser(ctx, carol))
	readers := groupRecord("pool-1", "readers", nil)
	must(t, s.CreateGroup(ctx, readers))
	staff := groupRecord("pool-2", "staff", ptr[int64](3))
	must(t, s.CreateGroup(ctx, staff))
	for _, m := range []member{{"pool-2", "carol", "staff"}, {"pool-1", "bob", "readers"}, {"pool-1", "alice", "readers"}} {
		must(t, s.AddUserToGroup(ctx, m.PoolID, m.Username, m.Group))
	}

	// IDs, hashes and keys given out of order, so that the walk's order
	// is the store's.
	revoked := familyRecord("family-0", "pool-2", "carol")
	revoked.RevokedAt, revoked.OAuth = base.Add(time.Hour), false
	must(t, s.CreateRefreshFamily(ctx, revoked))
	rotated := tokenRecord("token-0", f.family)
	rotated.RotatedAt = base.Add(time.Minute)
	must(t, s.CreateRefreshToken(ctx, rotated))
	other := tokenRecord("token-2", revoked)
	must(t, s.CreateRefreshToken(ctx, other))

	used := codeRecord("pool-1", "alice", "forgot_password")
	used.UsedAt = base.Add(time.Minute)
	must(t, s.PutCode(ctx, used))
	bobs := codeRecord("pool-1", "bob", "verify:email")
	must(t, s.PutCode(ctx, bobs))

	for _, sec := range []namedSecret{{"userpool/code-hash", []byte{0, 1, 2, 0xff}}, {"oauth/csrf", []byte("csrf key")}} {
		if _, err := s.GetOrCreateSecret(ctx, sec.Name, func() ([]byte, error) { return sec.Value, nil }); err != nil {
			t.Fatal(err)
		}
	}

	w := walkAll(ctx, t, e)
	check(t, "EachGroupMember", w.members, []member{
		{"pool-1", "alice", "admins"}, {"pool-1", "alice", "readers"}, {"pool-1", "bob", "readers"}, {"pool-2", "carol", "staff"},
	})
	check(t, "EachRefreshFamily", w.families, []storage.RefreshFamily{revoked, f.family})
	check(t, "EachRefreshToken", w.tokens, []storage.RefreshToken{rotated, f.token, other})
	check(t, "EachCode", w.codes, []storage.Code{used, f.code, bobs})
	check(t, "EachSecret", w.secrets, []namedSecret{{"oauth/csrf", []byte("csrf key")}, {"userpool/code-hash", []byte{0, 1, 2, 0xff}}})
}

var errStopWalk = errors.New("storagetest: stop the walk")

func testEnumerateStops(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	e := enumerator(t, s)
	f := seed(t, s)
	must(t, s.CreateRefreshFamily(ctx, familyRecord("family-2", "pool-1", "alice")))
	must(t, s.CreateRefreshToken(ctx, tokenRecord("token-2", f.family)))
	must(t, s.PutCode(ctx, codeRecord("pool-1", "alice", "forgot_password")))
	must(t, s.AddUserToGroup(ctx, "pool-1", "alice", "admins"))
	must(t, s.CreateGroup(ctx, groupRecord("pool-1", "readers", nil)))
	must(t, s.AddUserToGroup(ctx, "pool-1", "alice", "readers"))
	for _, name := range []string{"a", "b"} {
		if _, err := s.GetOrCreateSecret(ctx, name, func() ([]byte, error) { return []byte(name), nil }); err != nil {
			t.Fatal(err)
		}
	}

	// Every walk has two records; the first call's error must end it and
	// come back unchanged.
	for name, walk := range map[string]func(stop func() error) error{
		"EachGroupMember": func(stop func() error) error {
			return e.EachGroupMember(ctx, func(string, string, string) error { return stop() })
		},
		"EachRefreshFamily": func(stop func() error) error {
			return e.EachRefreshFamily(ctx, func(storage.RefreshFamily) error { return stop() })
		},
		"EachRefreshToken": func(stop func() error) error {
			return e.EachRefreshToken(ctx, func(storage.RefreshToken) error { return stop() })
		},
		"EachCode": func(stop func() error) error {
			return e.EachCode(ctx, func(storage.Code) error { return stop() })
		},
		"EachSecret": func(stop func() error) error {
			return e.EachSecret(ctx, func(string, []byte) error { return stop() })
		},
	} {
		calls := 0
		err := walk(func() error {
			calls++
			return errStopWalk
		})
		if err != errStopWalk { //nolint:errorlint // the contract is "unchanged", not "wrapped"
			t.Errorf("%s: err = %v, want the callback's own error", name, err)
		}
		if calls != 1 {
			t.Errorf("%s: callback ran %d times after failing, want 1", name, calls)
		}
	}
}
