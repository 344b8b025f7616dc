package storagetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/cognate-auth/cognate/storage"
)

var codeTests = []test{
	{"Code/RoundTrip", testCodeRoundTrip},
	{"Code/PutReplaces", testPutCodeReplaces},
	{"Code/Update", testUpdateCode},
	{"Code/Delete", testDeleteCode},
	{"Message/List", testListMessages},
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
	next.Hash, next.Value, next.Attempts = []byte("new hash"), "new value", 0
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
	want.Attempts = 3
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

func testListMessages(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	got, err := s.ListMessages(ctx, 10)
	must(t, err)
	check(t, "ListMessages on an empty store", got, nil)

	var sent []storage.Message
	for i := range 5 {
		m := storage.Message{
			PoolID:      "pool-1",
			Username:    fmt.Sprintf("user-%d", i),
			Destination: fmt.Sprintf("user-%d@example.com", i),
			Kind:        "email",
			Code:        fmt.Sprintf("%06d", i),
			// Out of order: "newest" is the last added, not the latest
			// CreatedAt.
			CreatedAt: base.Add(time.Duration(5-i) * time.Minute),
		}
		if i == 4 {
			m.CreatedAt = time.Time{}
		}
		must(t, s.AddMessage(ctx, m))
		sent = append(sent, m)
	}
	for _, tc := range []struct {
		limit int
		want  []storage.Message
	}{
		{3, []storage.Message{sent[4], sent[3], sent[2]}},
		{5, []storage.Message{sent[4], sent[3], sent[2], sent[1], sent[0]}},
		{10, []storage.Message{sent[4], sent[3], sent[2], sent[1], sent[0]}},
		{1, []storage.Message{sent[4]}},
	} {
		t.Run(fmt.Sprintf("limit=%d", tc.limit), func(t *testing.T) {
			got, err := s.ListMessages(t.Context(), tc.limit)
			must(t, err)
			ids := messageIDs(got)
			for i, id := range ids {
				if id == 0 || (i > 0 && id >= ids[i-1]) {
					t.Errorf("message IDs %d: want non-zero and decreasing", ids)
					break
				}
			}
			for i := range got {
				got[i].ID = 0 // the store's to choose
			}
			check(t, "ListMessages", got, tc.want)
		})
	}
}

func messageIDs(ms []storage.Message) []int64 {
	ids := make([]int64, len(ms))
	for i, m := range ms {
		ids[i] = m.ID
	}
	return ids
}
