package ratelimit

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cognate-auth/cognate/storage/sqlite"
)

// nodes opens n Stores on one SQLite file: n nodes sharing a database.
func nodes(t *testing.T, n int) []Store {
	t.Helper()
	path := filepath.Join(t.TempDir(), "db")
	var out []Store
	for range n {
		s, err := sqlite.Open(t.Context(), path, sqlite.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		out = append(out, s)
	}
	return out
}

// TestSharedMatchesLimiter runs TestBurstThenRefill's steps on a Limiter
// and on a Shared: both must answer the same, waits included.
func TestSharedMatchesLimiter(t *testing.T) {
	now := time.Unix(1_900_000_000, 0)
	clock := func() time.Time { return now }
	mem := &Limiter{Rate: 2, Burst: 3, Now: clock}
	shared := &Shared{Store: nodes(t, 1)[0], Rate: 2, Burst: 3, Prefix: "guess/", Now: clock}
	steps := []struct {
		advance time.Duration
		key     string
	}{
		{0, "a"}, {0, "a"}, {0, "a"}, {0, "a"}, {0, "b"},
		{200 * time.Millisecond, "a"}, {300 * time.Millisecond, "a"}, {0, "a"},
		{time.Hour, "a"}, {0, "a"}, {0, "a"}, {0, "a"},
	}
	for i, st := range steps {
		now = now.Add(st.advance)
		mok, mwait := mem.Allow(t.Context(), st.key)
		sok, swait := shared.Allow(t.Context(), st.key)
		if mok != sok || mwait != swait {
			t.Errorf("step %d (%s): Limiter %v %v, Shared %v %v", i, st.key, mok, mwait, sok, swait)
		}
	}
}

// TestSharedAcrossNodes checks that three nodes on one database allow a
// burst of 10 between them, not 10 each, even all at once.
func TestSharedAcrossNodes(t *testing.T) {
	now := time.Unix(1_900_000_000, 0)
	var limiters []*Shared
	for _, st := range nodes(t, 3) {
		limiters = append(limiters, &Shared{Store: st, Rate: 0.01, Burst: 10, Now: func() time.Time { return now }})
	}
	var (
		wg      sync.WaitGroup
		allowed atomic.Int32
	)
	for i := range 60 {
		wg.Go(func() {
			if ok, _ := limiters[i%len(limiters)].Allow(t.Context(), "198.51.100.7"); ok {
				allowed.Add(1)
			}
		})
	}
	wg.Wait()
	if got := allowed.Load(); got != 10 {
		t.Errorf("3 nodes allowed %d of 60, want 10", got)
	}
}

type failingStore struct{}

var errDown = errors.New("database down")

func (failingStore) TakeRateToken(context.Context, string, time.Time, float64, int) (bool, time.Duration, error) {
	return false, 0, errDown
}

// TestSharedFailsOpenToFallback checks the answer while the store fails:
// Fallback's, or yes without one.
func TestSharedFailsOpenToFallback(t *testing.T) {
	now := time.Unix(0, 0)
	clock := func() time.Time { return now }
	s := &Shared{Store: failingStore{}, Rate: 1, Burst: 2, Now: clock}
	for range 5 {
		if ok, _ := s.Allow(t.Context(), "a"); !ok {
			t.Fatal("refused without a fallback while the store fails")
		}
	}
	s.Fallback = &Limiter{Rate: 1, Burst: 2, Now: clock}
	for i, want := range []bool{true, true, false} {
		if ok, _ := s.Allow(t.Context(), "a"); ok != want {
			t.Errorf("take %d with the fallback: %v, want %v", i, ok, want)
		}
	}
}

func TestSharedDisabledAndNil(t *testing.T) {
	var s *Shared
	if ok, _ := s.Allow(t.Context(), "x"); !ok {
		t.Fatal("nil Shared refused")
	}
	if ok, _ := (&Shared{Store: failingStore{}}).Allow(t.Context(), "x"); !ok {
		t.Fatal("zero-rate Shared refused")
	}
}
