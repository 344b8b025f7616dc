// Package storetest is the conformance suite every bffstore.Store runs:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) storetest.Open {
//			path := filepath.Join(t.TempDir(), "s.db")
//			return func(t *testing.T) bffstore.Store { return mustOpen(t, path) }
//		})
//	}
//
// Each subtest gets a fresh backing (a new file, a new key prefix); each
// call of the Open it returns is another gateway node on that backing,
// which is how the suite races nodes for a lock.
package storetest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cognate-auth/cognate/gateway/bffstore"
)

// Open opens one node on a backing; the backend closes it at the test's
// end (t.Cleanup).
type Open func(t *testing.T) bffstore.Store

// Run runs the suite; newBacking returns the Open of a fresh backing per
// subtest.
func Run(t *testing.T, newBacking func(t *testing.T) Open) {
	tests := []struct {
		name string
		fn   func(t *testing.T, open Open)
	}{
		{"Missing", testMissing},
		{"PutGetOverwrite", testPutGet},
		{"Delete", testDelete},
		{"Expiry", testExpiry},
		{"Touch", testTouch},
		{"Oversized", testOversized},
		{"SharedAcrossNodes", testShared},
		{"LockExcludes", testLockExcludes},
		{"LockRaceAcrossNodes", testLockRace},
		{"LockExpires", testLockExpires},
		{"StaleUnlock", testStaleUnlock},
		{"LockWaitCancelled", testLockCancelled},
		{"LocksAndValuesApart", testNamespaces},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newBacking(t)) })
	}
}

func key(s string) bffstore.Key { return sha256.Sum256([]byte(s)) }

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	t.Cleanup(cancel)
	return c
}

func later() time.Time { return time.Now().Add(time.Hour) }

func mustGet(t *testing.T, s bffstore.Store, k bffstore.Key, want []byte) {
	t.Helper()
	got, _, err := s.Get(ctx(t), k)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("Get = %.40q, want %.40q", got, want)
	}
}

func mustMiss(t *testing.T, s bffstore.Store, k bffstore.Key) {
	t.Helper()
	if got, _, err := s.Get(ctx(t), k); !errors.Is(err, bffstore.ErrNotFound) {
		t.Fatalf("Get = %.40q, %v; want ErrNotFound", got, err)
	}
}

func testMissing(t *testing.T, open Open) {
	s := open(t)
	mustMiss(t, s, key("nobody"))
	if err := s.Delete(ctx(t), key("nobody")); err != nil {
		t.Fatalf("Delete of a missing key: %v", err)
	}
}

func testPutGet(t *testing.T, open Open) {
	s := open(t)
	k := key("a")
	v := []byte{0, 1, 2, 0xff, 'x'} // binary-safe
	if err := s.Put(ctx(t), k, v, later()); err != nil {
		t.Fatal(err)
	}
	mustGet(t, s, k, v)
	exp := time.Now().Add(90 * time.Minute)
	if err := s.Put(ctx(t), k, []byte("second"), exp); err != nil {
		t.Fatal(err)
	}
	mustGet(t, s, k, []byte("second"))
	mustMiss(t, s, key("b"))
	if _, got, _ := s.Get(ctx(t), k); got.Sub(exp).Abs() > time.Second {
		t.Fatalf("Get's expiry %v, Put's %v", got, exp)
	}
}

// testTouch: Touch moves an existing value's expiry and nothing else.
func testTouch(t *testing.T, open Open) {
	s := open(t)
	k := key("touched")
	if err := s.Put(ctx(t), k, []byte("v"), time.Now().Add(300*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	exp := time.Now().Add(time.Hour)
	if err := s.Touch(ctx(t), k, exp); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	mustGet(t, s, k, []byte("v"))
	if _, got, _ := s.Get(ctx(t), k); got.Sub(exp).Abs() > time.Second {
		t.Fatalf("expiry %v after Touch to %v", got, exp)
	}
	// A deleted value is not brought back.
	if err := s.Delete(ctx(t), k); err != nil {
		t.Fatal(err)
	}
	if err := s.Touch(ctx(t), k, exp); !errors.Is(err, bffstore.ErrNotFound) {
		t.Fatalf("Touch of a deleted key: %v, want ErrNotFound", err)
	}
	mustMiss(t, s, k)
	// Nor an expired one.
	gone := key("expired")
	if err := s.Put(ctx(t), gone, []byte("v"), time.Now().Add(100*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(250 * time.Millisecond)
	if err := s.Touch(ctx(t), gone, exp); !errors.Is(err, bffstore.ErrNotFound) {
		t.Fatalf("Touch of an expired key: %v, want ErrNotFound", err)
	}
	mustMiss(t, s, gone)
	// A time already past removes the value.
	if err := s.Put(ctx(t), k, []byte("v"), exp); err != nil {
		t.Fatal(err)
	}
	if err := s.Touch(ctx(t), k, time.Now().Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	mustMiss(t, s, k)
}

func testDelete(t *testing.T, open Open) {
	s := open(t)
	a, b := key("a"), key("b")
	for _, k := range []bffstore.Key{a, b} {
		if err := s.Put(ctx(t), k, []byte("v"), later()); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Delete(ctx(t), a); err != nil {
		t.Fatal(err)
	}
	mustMiss(t, s, a)
	mustGet(t, s, b, []byte("v"))
}

func testExpiry(t *testing.T, open Open) {
	s := open(t)
	soon, past, long := key("soon"), key("past"), key("long")
	if err := s.Put(ctx(t), soon, []byte("v"), time.Now().Add(300*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx(t), long, []byte("v"), later()); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx(t), past, []byte("v"), later()); err != nil {
		t.Fatal(err)
	}
	// A Put with an expiry already past removes the value.
	if err := s.Put(ctx(t), past, []byte("w"), time.Now().Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	mustMiss(t, s, past)
	mustGet(t, s, soon, []byte("v"))
	time.Sleep(500 * time.Millisecond)
	mustMiss(t, s, soon)
	mustGet(t, s, long, []byte("v"))
	// An expired key can be written again.
	if err := s.Put(ctx(t), soon, []byte("again"), later()); err != nil {
		t.Fatal(err)
	}
	mustGet(t, s, soon, []byte("again"))
}

func testOversized(t *testing.T, open Open) {
	s := open(t)
	k := key("big")
	full := bytes.Repeat([]byte{'x'}, bffstore.MaxValueBytes)
	if err := s.Put(ctx(t), k, full, later()); err != nil {
		t.Fatalf("a value of MaxValueBytes: %v", err)
	}
	mustGet(t, s, k, full)
	err := s.Put(ctx(t), k, append(full, 'y'), later())
	if !errors.Is(err, bffstore.ErrTooLarge) {
		t.Fatalf("a value over MaxValueBytes: %v, want ErrTooLarge", err)
	}
	mustGet(t, s, k, full) // the old value stands
}

func testShared(t *testing.T, open Open) {
	n1, n2 := open(t), open(t)
	k := key("shared")
	if err := n1.Put(ctx(t), k, []byte("from 1"), later()); err != nil {
		t.Fatal(err)
	}
	mustGet(t, n2, k, []byte("from 1"))
	if err := n2.Delete(ctx(t), k); err != nil {
		t.Fatal(err)
	}
	mustMiss(t, n1, k)
}

func testLockExcludes(t *testing.T, open Open) {
	s := open(t)
	k := key("lock")
	unlock, err := s.Lock(ctx(t), k, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx(t), 150*time.Millisecond)
	defer cancel()
	if _, err := s.Lock(short, k, 10*time.Second); err == nil {
		t.Fatal("a held lock was taken again")
	}
	// Other keys are independent.
	other, err := s.Lock(ctx(t), key("other"), 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if err := other(ctx(t)); err != nil {
		t.Fatal(err)
	}
	if err := unlock(ctx(t)); err != nil {
		t.Fatal(err)
	}
	again, err := s.Lock(ctx(t), k, 10*time.Second)
	if err != nil {
		t.Fatalf("relock after unlock: %v", err)
	}
	again(ctx(t))
}

// testLockRace: goroutines on two nodes race for one lock; at most one
// holds it at a time, and every one gets it.
func testLockRace(t *testing.T, open Open) {
	nodes := []bffstore.Store{open(t), open(t)}
	k := key("race")
	const perNode = 8
	var holders, maxHolders, done atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	for _, s := range nodes {
		for range perNode {
			wg.Go(func() {
				<-start
				unlock, err := s.Lock(ctx(t), k, 10*time.Second)
				if err != nil {
					t.Error(err)
					return
				}
				n := holders.Add(1)
				for {
					m := maxHolders.Load()
					if n <= m || maxHolders.CompareAndSwap(m, n) {
						break
					}
				}
				time.Sleep(5 * time.Millisecond)
				holders.Add(-1)
				if err := unlock(context.Background()); err != nil {
					t.Error(err)
				}
				done.Add(1)
			})
		}
	}
	close(start)
	wg.Wait()
	if maxHolders.Load() != 1 || done.Load() != 2*perNode {
		t.Fatalf("%d holders at once (want 1), %d of %d got the lock", maxHolders.Load(), done.Load(), 2*perNode)
	}
}

// testLockExpires: a holder that never unlocks (a crashed node) holds
// the lock for ttl only.
func testLockExpires(t *testing.T, open Open) {
	n1, n2 := open(t), open(t)
	k := key("crashed")
	if _, err := n1.Lock(ctx(t), k, 300*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	unlock, err := n2.Lock(ctx(t), k, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock(ctx(t))
	if d := time.Since(start); d < 150*time.Millisecond || d > 5*time.Second {
		t.Fatalf("the lock of a crashed holder was taken after %v (ttl 300ms)", d)
	}
}

// testStaleUnlock: unlocking after the ttl releases nothing another
// holder has taken since.
func testStaleUnlock(t *testing.T, open Open) {
	n1, n2 := open(t), open(t)
	k := key("stale")
	stale, err := n1.Lock(ctx(t), k, 200*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	current, err := n2.Lock(ctx(t), k, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if err := stale(ctx(t)); err != nil {
		t.Fatalf("stale unlock: %v", err)
	}
	short, cancel := context.WithTimeout(ctx(t), 150*time.Millisecond)
	defer cancel()
	if _, err := n1.Lock(short, k, 10*time.Second); err == nil {
		t.Fatal("a stale unlock released the current holder's lock")
	}
	if err := current(ctx(t)); err != nil {
		t.Fatal(err)
	}
}

func testLockCancelled(t *testing.T, open Open) {
	s := open(t)
	k := key("held")
	unlock, err := s.Lock(ctx(t), k, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock(ctx(t))
	c, cancel := context.WithCancel(ctx(t))
	errc := make(chan error, 1)
	go func() {
		_, err := s.Lock(c, k, 10*time.Second)
		errc <- err
	}()
	time.Sleep(50 * time.Millisecond)
	cancel()
	select {
	case err := <-errc:
		if err == nil {
			t.Fatal("Lock returned the held lock")
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Lock kept waiting after its context was cancelled")
	}
}

// testNamespaces: a lock and a value under one key do not touch.
func testNamespaces(t *testing.T, open Open) {
	s := open(t)
	k := key("both")
	unlock, err := s.Lock(ctx(t), k, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	mustMiss(t, s, k)
	if err := s.Put(ctx(t), k, []byte("v"), later()); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx(t), k); err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx(t), 100*time.Millisecond)
	defer cancel()
	if _, err := s.Lock(short, k, time.Second); err == nil {
		t.Fatal("deleting the value released the lock")
	}
	if err := unlock(ctx(t)); err != nil {
		t.Fatalf("unlock: %v", err)
	}
}
