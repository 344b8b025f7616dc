package storagetest

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/cognate-auth/cognate/storage"
)

var webAuthnTests = []test{
	{"WebAuthn/Lifecycle", testWebAuthnLifecycle},
	{"WebAuthn/Errors", testWebAuthnErrors},
	{"WebAuthn/SignCountCAS", testWebAuthnSignCountCAS},
	{"WebAuthn/DeletedWithUser", testWebAuthnDeletedWithUser},
}

func webAuthnRecord(poolID, username string, id ...byte) storage.WebAuthnCredential {
	return storage.WebAuthnCredential{
		PoolID: poolID, ID: id, Username: username,
		PublicKey: []byte{0xa5, 0x01, 0x02, 0x00, 0xff}, SignCount: 7, RelyingPartyID: "example.com",
		FriendlyName: "Key of " + username + " ✓", Attachment: "platform", Transports: []string{"internal", "hybrid"},
		AAGUID: []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 0xff}, CreatedAt: base, LastUsedAt: base.Add(time.Minute),
	}
}

func testWebAuthnLifecycle(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	f := seed(t, s)
	must(t, s.CreateUser(ctx, userRecord("pool-1", "bob")))
	got, err := s.ListWebAuthnCredentials(ctx, "pool-1", "alice", nil, 0)
	must(t, err)
	check(t, "ListWebAuthnCredentials of a user without passkeys", got, nil)

	a, b, c := webAuthnRecord("pool-1", "alice", 0x02), webAuthnRecord("pool-1", "alice", 0x00, 0x10), webAuthnRecord("pool-1", "alice", 0x10)
	b.Attachment, b.Transports, b.AAGUID, b.LastUsedAt, b.SignCount = "", nil, nil, time.Time{}, 0
	bob := webAuthnRecord("pool-1", "bob", 0x01)
	for _, w := range []storage.WebAuthnCredential{a, b, c, bob} {
		must(t, s.CreateWebAuthnCredential(ctx, w))
	}
	w, err := s.GetWebAuthnCredential(ctx, "pool-1", a.ID)
	must(t, err)
	check(t, "GetWebAuthnCredential", w, a)
	got, err = s.ListWebAuthnCredentials(ctx, "pool-1", f.user.Username, nil, 0)
	must(t, err)
	check(t, "ListWebAuthnCredentials", got, []storage.WebAuthnCredential{b, a, c})
	got, err = s.ListWebAuthnCredentials(ctx, "pool-1", "alice", nil, 2)
	must(t, err)
	check(t, "ListWebAuthnCredentials, first page", got, []storage.WebAuthnCredential{b, a})
	got, err = s.ListWebAuthnCredentials(ctx, "pool-1", "alice", a.ID, 2)
	must(t, err)
	check(t, "ListWebAuthnCredentials, after the first page", got, []storage.WebAuthnCredential{c})

	must(t, s.UpdateWebAuthnCredential(ctx, "pool-1", a.ID, func(w storage.WebAuthnCredential) (storage.WebAuthnCredential, error) {
		w.SignCount, w.LastUsedAt = 1<<32-1, base.Add(time.Hour)
		return w, nil
	}))
	a.SignCount, a.LastUsedAt = 1<<32-1, base.Add(time.Hour)
	w, err = s.GetWebAuthnCredential(ctx, "pool-1", a.ID)
	must(t, err)
	check(t, "GetWebAuthnCredential after update", w, a)

	must(t, s.DeleteWebAuthnCredential(ctx, "pool-1", a.ID))
	_, err = s.GetWebAuthnCredential(ctx, "pool-1", a.ID)
	wantErr(t, "GetWebAuthnCredential after delete", err, storage.ErrNotFound)
	got, err = s.ListWebAuthnCredentials(ctx, "pool-1", "bob", nil, 0)
	must(t, err)
	check(t, "another user's passkeys after a delete", got, []storage.WebAuthnCredential{bob})
}

func testWebAuthnErrors(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	seed(t, s)
	must(t, s.CreateUser(ctx, userRecord("pool-2", "alice")))
	a := webAuthnRecord("pool-1", "alice", 0x01)
	must(t, s.CreateWebAuthnCredential(ctx, a))
	wantErr(t, "CreateWebAuthnCredential with a taken id", s.CreateWebAuthnCredential(ctx, a), storage.ErrAlreadyExists)
	must(t, s.CreateWebAuthnCredential(ctx, webAuthnRecord("pool-2", "alice", 0x01)))
	wantErr(t, "CreateWebAuthnCredential for a missing user",
		s.CreateWebAuthnCredential(ctx, webAuthnRecord("pool-1", "nobody", 0x02)), storage.ErrNotFound)
	_, err := s.GetWebAuthnCredential(ctx, "pool-1", []byte{0x09})
	wantErr(t, "GetWebAuthnCredential of an unknown id", err, storage.ErrNotFound)
	wantErr(t, "DeleteWebAuthnCredential of an unknown id", s.DeleteWebAuthnCredential(ctx, "pool-1", []byte{0x09}), storage.ErrNotFound)
	noop := func(w storage.WebAuthnCredential) (storage.WebAuthnCredential, error) { return w, nil }
	wantErr(t, "UpdateWebAuthnCredential of an unknown id", s.UpdateWebAuthnCredential(ctx, "pool-1", []byte{0x09}, noop), storage.ErrNotFound)
	refuse := errors.New("refused")
	err = s.UpdateWebAuthnCredential(ctx, "pool-1", a.ID, func(w storage.WebAuthnCredential) (storage.WebAuthnCredential, error) {
		w.SignCount = 99
		return w, refuse
	})
	wantErr(t, "UpdateWebAuthnCredential whose updater fails", err, refuse)
	w, err := s.GetWebAuthnCredential(ctx, "pool-1", a.ID)
	must(t, err)
	check(t, "a passkey after a refused update", w, a)
}

// testWebAuthnSignCountCAS runs concurrent sign-ins that each need a
// count above the stored one: every count is accepted once at most, and
// the stored count is the highest accepted.
func testWebAuthnSignCountCAS(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	seed(t, s)
	a := webAuthnRecord("pool-1", "alice", 0x01)
	a.SignCount = 0
	must(t, s.CreateWebAuthnCredential(ctx, a))
	stale := errors.New("count not above the stored one")
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		wins int
	)
	for range 8 {
		wg.Go(func() {
			err := s.UpdateWebAuthnCredential(ctx, "pool-1", a.ID, func(w storage.WebAuthnCredential) (storage.WebAuthnCredential, error) {
				if w.SignCount >= 1 {
					return w, stale
				}
				w.SignCount = 1
				return w, nil
			})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				wins++
			case !errors.Is(err, stale):
				t.Errorf("concurrent UpdateWebAuthnCredential: %v", err)
			}
		})
	}
	wg.Wait()
	if wins != 1 {
		t.Errorf("%d concurrent updaters raised the same count, want 1", wins)
	}
}

func testWebAuthnDeletedWithUser(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	seed(t, s)
	a := webAuthnRecord("pool-1", "alice", 0x01)
	must(t, s.CreateWebAuthnCredential(ctx, a))
	must(t, s.DeleteUser(ctx, "pool-1", "alice"))
	_, err := s.GetWebAuthnCredential(ctx, "pool-1", a.ID)
	wantErr(t, "GetWebAuthnCredential after DeleteUser", err, storage.ErrNotFound)
	must(t, s.CreateUser(ctx, userRecord("pool-1", "alice")))
	got, err := s.ListWebAuthnCredentials(ctx, "pool-1", "alice", nil, 0)
	must(t, err)
	check(t, "passkeys of a user created again under the same name", got, nil)
}
