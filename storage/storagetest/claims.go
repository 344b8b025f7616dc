package storagetest

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cognate-auth/cognate/storage"
)

var claimTests = []test{
	{"Claims/Once", testClaimsOnce},
	{"Claims/Concurrent", testClaimsConcurrent},
	{"Claims/RolledBack", testClaimsRolledBack},
	{"Claims/GC", testClaimsGC},
}

// claim fails t unless ClaimOnce of key reports want.
func claim(t *testing.T, s storage.Storage, key string, expiresAt time.Time, want bool) {
	t.Helper()
	got, err := s.ClaimOnce(t.Context(), []byte(key), expiresAt)
	must(t, err)
	if got != want {
		t.Errorf("ClaimOnce(%q) = %v, want %v", key, got, want)
	}
}

// testClaimsOnce claims keys: the first claim of each wins, the next ones
// lose, whatever expiry they name.
func testClaimsOnce(t *testing.T, s storage.Storage) {
	exp := base.Add(time.Hour)
	claim(t, s, "srp/a", exp, true)
	claim(t, s, "srp/a", exp, false)
	claim(t, s, "srp/a", exp.Add(time.Hour), false)
	// Keys are bytes compared exactly.
	claim(t, s, "srp/A", exp, true)
	claim(t, s, "srp/a\x00", exp.In(elsewhere), true)
	claim(t, s, "srp/a", base.Add(-time.Hour), false)
}

// testClaimsConcurrent races 50 claimers of one key: exactly one wins.
func testClaimsConcurrent(t *testing.T, s storage.Storage) {
	const n = 50
	var (
		wg   sync.WaitGroup
		won  atomic.Int32
		errs = make(chan error, n)
	)
	start := make(chan struct{})
	for range n {
		wg.Go(func() {
			<-start
			ok, err := s.ClaimOnce(t.Context(), []byte("srp/raced"), base.Add(time.Hour))
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
	if got := won.Load(); got != 1 {
		t.Errorf("%d of %d concurrent claimers won, want exactly 1", got, n)
	}
}

// testClaimsRolledBack checks that a claim made in a transaction that
// fails is undone, and that a claim sees the transaction's own claims.
func testClaimsRolledBack(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	err := s.Atomic(ctx, func(ctx context.Context, tx storage.Storage) error {
		for i, want := range []bool{true, false} {
			ok, err := tx.ClaimOnce(ctx, []byte("srp/tx"), base.Add(time.Hour))
			if err != nil {
				return err
			}
			if ok != want {
				return fmt.Errorf("claim %d in the transaction = %v, want %v", i, ok, want)
			}
		}
		return errUpdater
	})
	wantErr(t, "Atomic", err, errUpdater)
	claim(t, s, "srp/tx", base.Add(time.Hour), true)
}

// testClaimsGC checks that GarbageCollect removes the claims that expired
// before now (and only them), after which their keys can be claimed
// again.
func testClaimsGC(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	claim(t, s, "old", base, true)
	claim(t, s, "now", base.Add(time.Second), true)
	claim(t, s, "new", base.Add(time.Hour), true)
	claim(t, s, "forever", time.Time{}, true)
	res, err := s.GarbageCollect(ctx, base.Add(time.Second))
	must(t, err)
	check(t, "GarbageCollect", res, storage.GCResult{Claims: 1})
	claim(t, s, "old", base.Add(time.Hour), true)
	claim(t, s, "now", base.Add(time.Hour), false)
	claim(t, s, "new", base.Add(time.Hour), false)
	claim(t, s, "forever", base.Add(time.Hour), false)
}
