package userpool

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/cognate-auth/cognate/internal/passkeytest"
)

// FuzzPasskeyCredential sends arbitrary registration and assertion
// documents: each is answered with a Cognito exception or accepted, never
// with a panic or an internal error.
func FuzzPasskeyCredential(f *testing.F) {
	e := newPKEnv(f, nil)
	alice := e.user("alice", 0)
	a, reg, err := passkeytest.Register(e.options(alice), pkOrigin, passkeytest.Forge{})
	if err != nil {
		f.Fatal(err)
	}
	e.register(alice)
	ch := e.signInChallenge("alice", 0)
	assertion, err := a.Assert([]byte(ch.ChallengeParameters["CREDENTIAL_REQUEST_OPTIONS"]), pkOrigin, passkeytest.Forge{})
	if err != nil {
		f.Fatal(err)
	}
	u, err := e.store.GetUser(f.Context(), e.pool.ID, "alice")
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range [][]byte{reg, assertion, []byte(`{}`), []byte(`{"id":"AA","rawId":"AA","type":"public-key","response":{}}`), []byte(`[]`), []byte(`"x"`)} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		_, err := e.s.CompleteWebAuthnRegistration(t.Context(), CompleteWebAuthnRegistrationInput{AccessToken: alice, Credential: json.RawMessage(doc)})
		checkRefusal(t, "CompleteWebAuthnRegistration", err)
		ch, err := passkeySignIn{e.s}.startWebAuthn(t.Context(), e.clients[0], e.pool, u)
		if err != nil {
			t.Fatal(err)
		}
		_, err = e.s.respondWebAuthn(t.Context(), e.clients[0], e.pool, ch.Session, map[string]string{"CREDENTIAL": string(doc)})
		checkRefusal(t, "WEB_AUTHN answer", err)
	})
}

func checkRefusal(t *testing.T, what string, err error) {
	t.Helper()
	var e *Error
	if err != nil && (!errors.As(err, &e) || e.Internal) {
		t.Fatalf("%s: %v, want a Cognito exception", what, err)
	}
}
