package storagetest

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/cognate-auth/cognate/storage"
)

var txTests = []test{
	{"Atomic/Commits", testAtomicCommits},
	{"Atomic/RollsBack", testAtomicRollsBack},
	{"Atomic/Nested", testAtomicNested},
	{"Atomic/NestedError", testAtomicNestedError},
	{"Concurrent/UpdateUser", testConcurrentUpdateUser},
	{"Context/Cancelled", testCancelledContext},
}

var errAbort = errors.New("storagetest: abort transaction")

// createUserAndGroup is an Atomic body with writes of two kinds that also
// reads its own writes.
func createUserAndGroup(t *testing.T, u storage.User, g storage.Group, result error) func(context.Context, storage.Storage) error {
	return func(ctx context.Context, tx storage.Storage) error {
		if err := tx.CreateUser(ctx, u); err != nil {
			return err
		}
		if err := tx.CreateGroup(ctx, g); err != nil {
			return err
		}
		if err := tx.AddUserToGroup(ctx, u.PoolID, u.Username, g.Name); err != nil {
			return err
		}
		got, err := tx.ListGroupsForUser(ctx, u.PoolID, u.Username)
		if err != nil {
			return err
		}
		check(t, "ListGroupsForUser inside Atomic", got, []storage.Group{g})
		return result
	}
}

type userAndGroup struct {
	user  storage.User
	group storage.Group
}

// exists reports which of the user and the group are stored.
func exists(t *testing.T, s storage.Storage, u storage.User, g storage.Group) (user, group bool) {
	t.Helper()
	_, err := s.GetUser(t.Context(), u.PoolID, u.Username)
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		t.Fatal(err)
	}
	user = err == nil
	_, err = s.GetGroup(t.Context(), g.PoolID, g.Name)
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		t.Fatal(err)
	}
	return user, err == nil
}

func testAtomicCommits(t *testing.T, s storage.Storage) {
	must(t, s.CreatePool(t.Context(), poolRecord("pool-1")))
	u, g := userRecord("pool-1", "alice"), groupRecord("pool-1", "admins", nil)
	must(t, s.Atomic(t.Context(), createUserAndGroup(t, u, g, nil)))
	if user, group := exists(t, s, u, g); !user || !group {
		t.Errorf("after a committed Atomic: user stored %v, group stored %v; want both", user, group)
	}
	groups, err := s.ListGroupsForUser(t.Context(), "pool-1", "alice")
	must(t, err)
	check(t, "ListGroupsForUser", groups, []storage.Group{g})
}

func testAtomicRollsBack(t *testing.T, s storage.Storage) {
	must(t, s.CreatePool(t.Context(), poolRecord("pool-1")))
	u, g := userRecord("pool-1", "alice"), groupRecord("pool-1", "admins", nil)
	err := s.Atomic(t.Context(), createUserAndGroup(t, u, g, errAbort))
	wantErr(t, "Atomic", err, errAbort)
	if user, group := exists(t, s, u, g); user || group {
		t.Errorf("after a failed Atomic: user stored %v, group stored %v; want neither", user, group)
	}
	// The store is usable afterwards, and the names are free.
	must(t, s.Atomic(t.Context(), createUserAndGroup(t, u, g, nil)))
}

func testAtomicNested(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	must(t, s.CreatePool(ctx, poolRecord("pool-1")))
	u, g := userRecord("pool-1", "alice"), groupRecord("pool-1", "admins", nil)
	u2, g2 := userRecord("pool-1", "bob"), groupRecord("pool-1", "readers", nil)
	must(t, s.Atomic(ctx, func(ctx context.Context, tx storage.Storage) error {
		if err := tx.Atomic(ctx, createUserAndGroup(t, u, g, nil)); err != nil {
			return err
		}
		// The outer transaction sees what the inner one wrote.
		if _, err := tx.GetUser(ctx, u.PoolID, u.Username); err != nil {
			return err
		}
		return createUserAndGroup(t, u2, g2, nil)(ctx, tx)
	}))
	for _, p := range []userAndGroup{{u, g}, {u2, g2}} {
		user, group := exists(t, s, p.user, p.group)
		if !user || !group {
			t.Errorf("after nested Atomics: user stored %v, group stored %v; want both", user, group)
		}
	}
}

func testAtomicNestedError(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	must(t, s.CreatePool(ctx, poolRecord("pool-1")))
	u, g := userRecord("pool-1", "alice"), groupRecord("pool-1", "admins", nil)
	u2, g2 := userRecord("pool-1", "bob"), groupRecord("pool-1", "readers", nil)
	err := s.Atomic(ctx, func(ctx context.Context, tx storage.Storage) error {
		if err := createUserAndGroup(t, u, g, nil)(ctx, tx); err != nil {
			return err
		}
		return tx.Atomic(ctx, createUserAndGroup(t, u2, g2, errAbort))
	})
	wantErr(t, "Atomic", err, errAbort)
	for _, p := range []userAndGroup{{u, g}, {u2, g2}} {
		user, group := exists(t, s, p.user, p.group)
		if user || group {
			t.Errorf("after a failed nested Atomic: user stored %v, group stored %v; want neither", user, group)
		}
	}
}

// testConcurrentUpdateUser checks that concurrent updaters see each
// other's writes: no increment may be lost.
func testConcurrentUpdateUser(t *testing.T, s storage.Storage) {
	const n = 16
	ctx := t.Context()
	must(t, s.CreatePool(ctx, poolRecord("pool-1")))
	u := userRecord("pool-1", "alice")
	u.Attributes["custom:n"] = "0"
	must(t, s.CreateUser(ctx, u))
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Go(func() {
			errs <- s.UpdateUser(ctx, "pool-1", "alice", func(u storage.User) (storage.User, error) {
				n, err := strconv.Atoi(u.Attributes["custom:n"])
				u.Attributes["custom:n"] = strconv.Itoa(n + 1)
				return u, err
			})
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		must(t, err)
	}
	got, err := s.GetUser(ctx, "pool-1", "alice")
	must(t, err)
	if got.Attributes["custom:n"] != strconv.Itoa(n) {
		t.Errorf("counter = %s after %d concurrent increments", got.Attributes["custom:n"], n)
	}
}

// testCancelledContext checks that calls with a cancelled context fail
// promptly instead of hanging.
func testCancelledContext(t *testing.T, s storage.Storage) {
	f := seed(t, s)
	updater := func(u storage.User) (storage.User, error) {
		t.Error("updater called with a cancelled context")
		return u, nil
	}
	for _, c := range []call{
		{"GetUser", func(ctx context.Context, s storage.Storage, f fixture) error {
			_, err := s.GetUser(ctx, f.user.PoolID, f.user.Username)
			return err
		}},
		{"ListUsers", func(ctx context.Context, s storage.Storage, f fixture) error {
			_, err := s.ListUsers(ctx, f.user.PoolID, "", 10)
			return err
		}},
		{"CreateUser", func(ctx context.Context, s storage.Storage, f fixture) error {
			return s.CreateUser(ctx, userRecord(f.pool.ID, "bob"))
		}},
		{"UpdateUser", func(ctx context.Context, s storage.Storage, f fixture) error {
			return s.UpdateUser(ctx, f.user.PoolID, f.user.Username, updater)
		}},
		{"DeleteUser", func(ctx context.Context, s storage.Storage, f fixture) error {
			return s.DeleteUser(ctx, f.user.PoolID, f.user.Username)
		}},
		{"GetOrCreateSecret", func(ctx context.Context, s storage.Storage, f fixture) error {
			_, err := s.GetOrCreateSecret(ctx, "cookie", func() ([]byte, error) { return []byte("v"), nil })
			return err
		}},
		{"GarbageCollect", func(ctx context.Context, s storage.Storage, f fixture) error {
			_, err := s.GarbageCollect(ctx, base)
			return err
		}},
		{"Atomic", func(ctx context.Context, s storage.Storage, f fixture) error {
			return s.Atomic(ctx, func(ctx context.Context, tx storage.Storage) error {
				return tx.CreateUser(ctx, userRecord(f.pool.ID, "carol"))
			})
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			cancel()
			done := make(chan error, 1)
			go func() { done <- c.do(ctx, s, f) }()
			select {
			case err := <-done:
				wantErr(t, c.name, err, context.Canceled)
			case <-time.After(10 * time.Second):
				t.Fatalf("%s with a cancelled context hangs", c.name)
			}
		})
	}
	// Nothing happened.
	got, err := s.GetUser(t.Context(), f.user.PoolID, f.user.Username)
	must(t, err)
	check(t, "GetUser", got, f.user)
	for _, name := range []string{"bob", "carol"} {
		_, err := s.GetUser(t.Context(), f.pool.ID, name)
		wantErr(t, "GetUser "+name, err, storage.ErrNotFound)
	}
}
