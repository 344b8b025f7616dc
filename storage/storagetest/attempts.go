package storagetest

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/cognate-auth/cognate/storage"
)

var attemptsTests = []test{
	{"Attempts/RoundTrip", testAttemptsRoundTrip},
	{"Attempts/Concurrent", testAttemptsConcurrent},
	{"Attempts/UpdaterError", testAttemptsUpdaterError},
	{"Attempts/GC", testAttemptsGC},
}

func attemptsRecord(poolID, key string) storage.AttemptCount {
	return storage.AttemptCount{
		PoolID: poolID, Key: key, Failures: 3,
		LockedUntil: base.Add(time.Minute), LastFailure: base, ExpiresAt: base.Add(24 * time.Hour),
	}
}

// testAttemptsRoundTrip creates a counter through the updater, reads it
// back, and deletes it with a zero ExpiresAt.
func testAttemptsRoundTrip(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	must(t, s.CreatePool(ctx, poolRecord("pool-1")))
	_, err := s.GetAttempts(ctx, "pool-1", "password/alice")
	wantErr(t, "GetAttempts before any", err, storage.ErrNotFound)

	want := attemptsRecord("pool-1", "password/alice")
	zoned := want
	zoned.LockedUntil, zoned.LastFailure, zoned.ExpiresAt = want.LockedUntil.In(elsewhere), want.LastFailure.In(elsewhere), want.ExpiresAt.In(elsewhere)
	must(t, s.UpdateAttempts(ctx, "pool-1", "password/alice", func(a storage.AttemptCount) (storage.AttemptCount, error) {
		check(t, "updater argument for a new counter", a, storage.AttemptCount{PoolID: "pool-1", Key: "password/alice"})
		return zoned, nil
	}))
	got, err := s.GetAttempts(ctx, "pool-1", "password/alice")
	must(t, err)
	check(t, "GetAttempts", got, want)
	// Keys are exact: another key, or the same key in another pool, is
	// another counter.
	_, err = s.GetAttempts(ctx, "pool-1", "password/Alice")
	wantErr(t, "GetAttempts of another key", err, storage.ErrNotFound)

	must(t, s.UpdateAttempts(ctx, "pool-1", "password/alice", func(a storage.AttemptCount) (storage.AttemptCount, error) {
		check(t, "updater argument for a stored counter", a, want)
		return storage.AttemptCount{PoolID: a.PoolID, Key: a.Key}, nil
	}))
	_, err = s.GetAttempts(ctx, "pool-1", "password/alice")
	wantErr(t, "GetAttempts after a zero ExpiresAt", err, storage.ErrNotFound)

	err = s.UpdateAttempts(ctx, "no-such-pool", "password/alice", func(a storage.AttemptCount) (storage.AttemptCount, error) {
		return attemptsRecord(a.PoolID, a.Key), nil
	})
	wantErr(t, "UpdateAttempts in a missing pool", err, storage.ErrNotFound)
	err = s.UpdateAttempts(ctx, "pool-1", "password/alice", func(a storage.AttemptCount) (storage.AttemptCount, error) {
		return attemptsRecord(a.PoolID, "password/bob"), nil
	})
	if err == nil {
		t.Error("UpdateAttempts let the updater change the key")
	}
}

// testAttemptsConcurrent races updaters that each count one failure,
// starting from no record: none may be lost, which is what makes a
// lockout hold under parallel guesses.
func testAttemptsConcurrent(t *testing.T, s storage.Storage) {
	const n = 24
	ctx := t.Context()
	must(t, s.CreatePool(ctx, poolRecord("pool-1")))
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			err := s.UpdateAttempts(ctx, "pool-1", "password/alice", func(a storage.AttemptCount) (storage.AttemptCount, error) {
				a.Failures++
				a.ExpiresAt = base.Add(time.Hour)
				return a, nil
			})
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	got, err := s.GetAttempts(ctx, "pool-1", "password/alice")
	must(t, err)
	if got.Failures != n {
		t.Errorf("Failures = %d after %d concurrent increments", got.Failures, n)
	}
}

// testAttemptsUpdaterError checks that an updater's error is returned
// unchanged and writes nothing.
func testAttemptsUpdaterError(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	must(t, s.CreatePool(ctx, poolRecord("pool-1")))
	errStop := errors.New("stop")
	err := s.UpdateAttempts(ctx, "pool-1", "k", func(a storage.AttemptCount) (storage.AttemptCount, error) {
		return attemptsRecord(a.PoolID, a.Key), errStop
	})
	wantErr(t, "UpdateAttempts", err, errStop)
	_, err = s.GetAttempts(ctx, "pool-1", "k")
	wantErr(t, "GetAttempts after a failed updater", err, storage.ErrNotFound)
}

func testAttemptsGC(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	must(t, s.CreatePool(ctx, poolRecord("pool-1")))
	for _, key := range []string{"old", "new"} {
		must(t, s.UpdateAttempts(ctx, "pool-1", key, func(a storage.AttemptCount) (storage.AttemptCount, error) {
			a = attemptsRecord(a.PoolID, a.Key)
			if key == "new" {
				a.ExpiresAt = a.ExpiresAt.Add(time.Hour)
			}
			return a, nil
		}))
	}
	res, err := s.GarbageCollect(ctx, base.Add(24*time.Hour+time.Second))
	must(t, err)
	if res.Attempts != 1 {
		t.Errorf("GC removed %d attempt counters, want 1", res.Attempts)
	}
	_, err = s.GetAttempts(ctx, "pool-1", "old")
	wantErr(t, "GetAttempts of the expired counter", err, storage.ErrNotFound)
	_, err = s.GetAttempts(ctx, "pool-1", "new")
	must(t, err)
}
