package storagetest

import (
	"testing"
	"time"

	"github.com/cognate-auth/cognate/storage"
)

var codeTests = []test{
	{"Code/RoundTrip", testCodeRoundTrip},
	{"Code/PutReplaces", testPutCodeReplaces},
	{"Code/Update", testUpdateCode},
	{"Code/Delete", testDeleteCode},
}

func testCodeRoundTrip(t *testing.T, s storage.Storage) {
	seed(t, s)
	zoned := codeRecord("pool-1", "alice", "verify:email")
	zoned.CreatedAt, zoned.ExpiresAt = zoned.CreatedAt.In(elsewhere), zoned.ExpiresAt.In(elsewhere)
	for _, c := range []storage.Code{
		codeRecord("pool-1", "alice", "forgot_password"),
		{PoolID: "pool-1", Username: "alice", Purpose: "minimal", Hash: []byte{0}},
		zoned,
	} {
		t.Run(c.Purpose, func(t *testing.T) {
			must(t, s.PutCode(t.Context(), c))
			got, err := s.GetCode(t.Context(), c.PoolID, c.Username, c.Purpose)
			must(t, err)
			check(t, "GetCode", got, c)
		})
	}
}

func testPutCodeReplaces(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	f := seed(t, s) // alice has a signup code
	other := codeRecord("pool-1", "alice", "forgot_password")
	must(t, s.PutCode(ctx, other))
	next := f.code
	next.Hash, next.Value = []byte("new hash"), "new value"
	next.CreatedAt, next.ExpiresAt = base.Add(time.Hour), base.Add(2*time.Hour)
	must(t, s.PutCode(ctx, next))

	got, err := s.GetCode(ctx, "pool-1", "alice", "signup")
	must(t, err)
	check(t, "GetCode after the second PutCode", got, next)
	got, err = s.GetCode(ctx, "pool-1", "alice", "forgot_password")
	must(t, err)
	check(t, "code of another purpose", got, other)
}

func testUpdateCode(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	f := seed(t, s)
	want := f.code
	want.UsedAt = base.Add(time.Minute)
	want.Value = "changed"
	want.ExpiresAt = time.Time{}
	must(t, s.UpdateCode(ctx, "pool-1", "alice", "signup", func(got storage.Code) (storage.Code, error) {
		check(t, "updater argument", got, f.code)
		return want, nil
	}))
	got, err := s.GetCode(ctx, "pool-1", "alice", "signup")
	must(t, err)
	check(t, "GetCode after UpdateCode", got, want)
}

func testDeleteCode(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	f := seed(t, s)
	other := codeRecord("pool-1", "alice", "forgot_password")
	must(t, s.PutCode(ctx, other))
	must(t, s.DeleteCode(ctx, "pool-1", "alice", "signup"))
	_, err := s.GetCode(ctx, "pool-1", "alice", "signup")
	wantErr(t, "GetCode after DeleteCode", err, storage.ErrNotFound)
	got, err := s.GetCode(ctx, "pool-1", "alice", "forgot_password")
	must(t, err)
	check(t, "code of another purpose", got, other)
	// A new code may follow.
	must(t, s.PutCode(ctx, f.code))
}
