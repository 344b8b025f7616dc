package storagetest

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cognate-auth/cognate/storage"
)

var rateLimitTests = []test{
	{"RateLimits/Bucket", testRateLimitsBucket},
	{"RateLimits/Concurrent", testRateLimitsConcurrent},
	{"RateLimits/RolledBack", testRateLimitsRolledBack},
	{"RateLimits/GC", testRateLimitsGC},
	{"RateLimits/Invalid", testRateLimitsInvalid},
}

// take fails t unless a take from key at now reports want and wait.
func take(t *testing.T, s storage.Storage, key string, now time.Time, rate float64, burst int, want bool, wait time.Duration) {
	t.Helper()
	ok, retry, err := s.TakeRateToken(t.Context(), key, now, rate, burst)
	must(t, err)
	if ok != want || retry != wait {
		t.Errorf("take from %q at %v = %v, retry after %v; want %v, %v", key, now.Sub(base), ok, retry, want, wait)
	}
}

// testRateLimitsBucket walks a bucket of 3 refilled at 2 a second
// through its burst, refusal, refill and full recovery; buckets are per
// key.
func testRateLimitsBucket(t *testing.T, s storage.Storage) {
	const rate, burst = 2, 3
	for range burst {
		take(t, s, "a", base, rate, burst, true, 0)
	}
	take(t, s, "a", base, rate, burst, false, 500*time.Millisecond)
	take(t, s, "a", base.Add(200*time.Millisecond), rate, burst, false, 300*time.Millisecond)
	take(t, s, "b", base, rate, burst, true, 0)
	// A refused take costs nothing: half a second refills one token.
	take(t, s, "a", base.Add(500*time.Millisecond), rate, burst, true, 0)
	take(t, s, "a", base.Add(500*time.Millisecond), rate, burst, false, 500*time.Millisecond)
	// Refill stops at burst.
	later := base.In(elsewhere).Add(time.Hour)
	for range burst {
		take(t, s, "a", later, rate, burst, true, 0)
	}
	take(t, s, "a", later, rate, burst, false, 500*time.Millisecond)
	// A clock behind the one that took last sees the bucket as that one
	// left it, and waits for it.
	take(t, s, "a", later.Add(-time.Second), rate, burst, false, 1500*time.Millisecond)
}

// testRateLimitsConcurrent races 100 takes from a bucket of 10 that
// hardly refills: exactly 10 succeed.
func testRateLimitsConcurrent(t *testing.T, s storage.Storage) {
	const n, burst = 100, 10
	var (
		wg   sync.WaitGroup
		won  atomic.Int32
		errs = make(chan error, n)
	)
	start := make(chan struct{})
	for range n {
		wg.Go(func() {
			<-start
			ok, _, err := s.TakeRateToken(t.Context(), "raced", base, 0.001, burst)
			if err != nil {
				errs <- err
				return
			}
			if ok {
				won.Add(1)
			}
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := won.Load(); got != burst {
		t.Errorf("%d of %d concurrent takes succeeded, want %d", got, n, burst)
	}
}

// testRateLimitsRolledBack checks that takes in a transaction that fails
// are undone.
func testRateLimitsRolledBack(t *testing.T, s storage.Storage) {
	err := s.Atomic(t.Context(), func(ctx context.Context, tx storage.Storage) error {
		if _, _, err := tx.TakeRateToken(ctx, "a", base, 1, 1); err != nil {
			return err
		}
		return errUpdater
	})
	wantErr(t, "Atomic", err, errUpdater)
	take(t, s, "a", base, 1, 1, true, 0)
	take(t, s, "a", base, 1, 1, false, time.Second)
}

// testRateLimitsGC checks that GarbageCollect removes a bucket once it
// is full again, and not before.
func testRateLimitsGC(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	// Two takes from a bucket of 2 refilled at 1 a second: full again 2 s
	// later.
	take(t, s, "a", base, 1, 2, true, 0)
	take(t, s, "a", base, 1, 2, true, 0)
	take(t, s, "b", base, 1, 2, true, 0)
	res, err := s.GarbageCollect(ctx, base.Add(1500*time.Millisecond))
	must(t, err)
	check(t, "GarbageCollect with a bucket still filling", res, storage.GCResult{RateLimits: 1})
	take(t, s, "a", base.Add(1500*time.Millisecond), 1, 2, true, 0)
	take(t, s, "a", base.Add(1500*time.Millisecond), 1, 2, false, 500*time.Millisecond)
	res, err = s.GarbageCollect(ctx, base.Add(time.Hour))
	must(t, err)
	check(t, "GarbageCollect", res, storage.GCResult{RateLimits: 1})
	take(t, s, "a", base.Add(time.Hour), 1, 2, true, 0)
}

// testRateLimitsInvalid checks that a rate or burst that describes no
// bucket is an error.
func testRateLimitsInvalid(t *testing.T, s storage.Storage) {
	for _, tc := range []struct {
		rate  float64
		burst int
	}{{0, 1}, {-1, 1}, {1, 0}} {
		if _, _, err := s.TakeRateToken(t.Context(), "a", base, tc.rate, tc.burst); err == nil {
			t.Errorf("TakeRateToken with rate %v and burst %d: no error", tc.rate, tc.burst)
		}
	}
}
