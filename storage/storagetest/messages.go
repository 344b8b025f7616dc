package storagetest

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/cognate-auth/cognate/storage"
)

var messageTests = []test{
	{"Message/List", testListMessages},
	{"Message/ClaimAndSend", testClaimMessages},
	{"Message/ClaimIsExclusive", testClaimExclusive},
	{"Message/GC", testMessageGC},
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
		if i == 2 {
			m.Subject, m.Body = "Welcome, {username}", "Your code is {####} — ünïcode\nsecond line"
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

// queue adds n unsent messages, due at base, and returns them as stored
// (with their IDs), oldest first.
func queue(t *testing.T, s storage.Storage, n int) []storage.Message {
	t.Helper()
	ctx := t.Context()
	for i := range n {
		must(t, s.AddMessage(ctx, storage.Message{
			PoolID: "pool-1", Username: fmt.Sprintf("user-%d", i), Destination: fmt.Sprintf("user-%d@example.com", i),
			Kind: "sign_up", Code: fmt.Sprintf("%06d", i), CreatedAt: base, NextAttemptAt: base,
		}))
	}
	all, err := s.ListMessages(ctx, 0)
	must(t, err)
	slices.Reverse(all)
	return all
}

// testClaimMessages walks a message through the queue: claimed once,
// invisible during its lease, claimable again after it, and never again
// once sent.
func testClaimMessages(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	ms := queue(t, s, 3)
	must(t, s.AddMessage(ctx, storage.Message{PoolID: "pool-1", Username: "sent", Destination: "x@example.com",
		Kind: "sign_up", CreatedAt: base, DoneAt: base}))
	must(t, s.AddMessage(ctx, storage.Message{PoolID: "pool-1", Username: "later", Destination: "y@example.com",
		Kind: "sign_up", CreatedAt: base, NextAttemptAt: base.Add(time.Hour)}))

	const lease = time.Minute
	got, err := s.ClaimMessages(ctx, base, lease, 2)
	must(t, err)
	if ids := messageIDs(got); !slices.Equal(ids, messageIDs(ms[:2])) {
		t.Fatalf("first claim got IDs %v, want the two oldest %v", ids, messageIDs(ms[:2]))
	}
	for _, m := range got {
		if !m.NextAttemptAt.Equal(base.Add(lease).Truncate(Precision)) || m.Code == "" {
			t.Errorf("claimed message %d: NextAttemptAt %v, code %q; want %v and the code", m.ID, m.NextAttemptAt, m.Code, base.Add(lease))
		}
	}
	got, err = s.ClaimMessages(ctx, base.Add(time.Second), lease, 10)
	must(t, err)
	if ids := messageIDs(got); !slices.Equal(ids, messageIDs(ms[2:])) {
		t.Fatalf("claim during the lease got IDs %v, want only the unleased %v", ids, messageIDs(ms[2:]))
	}

	// The first is sent; the lease of the second runs out.
	must(t, s.UpdateMessage(ctx, ms[0].ID, func(m storage.Message) (storage.Message, error) {
		m.DoneAt, m.Code, m.Attempts = base.Add(time.Second), "", m.Attempts+1
		return m, nil
	}))
	got, err = s.ClaimMessages(ctx, base.Add(lease), lease, 10)
	must(t, err)
	if ids := messageIDs(got); !slices.Equal(ids, []int64{ms[1].ID}) {
		t.Fatalf("claim after the lease got IDs %v, want only %d (the sent one never again)", ids, ms[1].ID)
	}
	all, err := s.ListMessages(ctx, 0)
	must(t, err)
	for _, m := range all {
		if m.ID == ms[0].ID && (m.Code != "" || !m.DoneAt.Equal(base.Add(time.Second).Truncate(Precision)) || m.Attempts != 1) {
			t.Errorf("sent message reads back as %+v", m)
		}
	}
	wantErr(t, "UpdateMessage of a missing ID", s.UpdateMessage(ctx, 1<<40, func(m storage.Message) (storage.Message, error) {
		return m, nil
	}), storage.ErrNotFound)
}

// testClaimExclusive races claimers: every message is claimed exactly
// once.
func testClaimExclusive(t *testing.T, s storage.Storage) {
	const n, claimers = 40, 8
	ms := queue(t, s, n)
	var (
		mu   sync.Mutex
		seen = map[int64]int{}
		wg   sync.WaitGroup
	)
	for range claimers {
		wg.Go(func() {
			for {
				got, err := s.ClaimMessages(t.Context(), base, time.Hour, 3)
				if err != nil {
					t.Error(err)
					return
				}
				if len(got) == 0 {
					return
				}
				mu.Lock()
				for _, m := range got {
					seen[m.ID]++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	for _, m := range ms {
		if seen[m.ID] != 1 {
			t.Errorf("message %d claimed %d times, want once", m.ID, seen[m.ID])
		}
	}
}

// testMessageGC checks that sent messages go after MessageRetention and
// unsent ones stay.
func testMessageGC(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	ms := queue(t, s, 2)
	must(t, s.UpdateMessage(ctx, ms[0].ID, func(m storage.Message) (storage.Message, error) {
		m.DoneAt = base
		return m, nil
	}))
	res, err := s.GarbageCollect(ctx, base.Add(storage.MessageRetention-time.Second))
	must(t, err)
	if res.Messages != 0 {
		t.Errorf("GC before the retention ended removed %d messages", res.Messages)
	}
	res, err = s.GarbageCollect(ctx, base.Add(storage.MessageRetention+time.Second))
	must(t, err)
	all, err := s.ListMessages(ctx, 0)
	must(t, err)
	if res.Messages != 1 || len(all) != 1 || all[0].ID != ms[1].ID {
		t.Errorf("GC after the retention removed %d, left %v; want the sent one gone, the unsent %d kept", res.Messages, messageIDs(all), ms[1].ID)
	}
}
