package userpool

import (
	"encoding/json"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/cognate-auth/cognate/internal/passkeytest"
	"github.com/cognate-auth/cognate/keys"
	"github.com/cognate-auth/cognate/storage"
	"github.com/cognate-auth/cognate/storage/sqlite"
)

const (
	pkOrigin   = "https://auth.example.com"
	pkPassword = "Correct-Horse-9"
)

// pkEnv is a Service whose public URL is https://auth.example.com (the
// default RP id auth.example.com), a pool with passkeys on, two clients
// and signed-in users.
type pkEnv struct {
	t       testing.TB
	s       *Service
	store   storage.Storage
	clk     *fakeClock
	pool    storage.Pool
	clients [2]storage.Client
}

func newPKEnv(t testing.TB, edit func(*storage.PoolSettings)) *pkEnv {
	t.Helper()
	ctx := t.Context()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	clk := &fakeClock{now: time.Now()}
	s, err := New(ctx, Options{Storage: store, Keys: keys.NewManager(store, keys.Options{Now: clk.Now}), Now: clk.Now,
		IssuerBase: "https://auth.example.com/"})
	if err != nil {
		t.Fatal(err)
	}
	p, err := s.CreateUserPool(ctx, CreateUserPoolInput{PoolName: "p"})
	if err != nil {
		t.Fatal(err)
	}
	e := &pkEnv{t: t, s: s, store: store, clk: clk}
	err = store.UpdatePool(ctx, p.UserPool.Id, func(p storage.Pool) (storage.Pool, error) {
		p.Settings.AllowedFirstAuthFactors = []string{"PASSWORD", factorWebAuthn}
		if edit != nil {
			edit(&p.Settings)
		}
		return p, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if e.pool, err = store.GetPool(ctx, p.UserPool.Id); err != nil {
		t.Fatal(err)
	}
	for i := range e.clients {
		c, err := s.CreateUserPoolClient(ctx, CreateUserPoolClientInput{ClientSettingsInput: ClientSettingsInput{
			UserPoolId: e.pool.ID, ClientName: "c", ExplicitAuthFlows: []string{"ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"},
		}})
		if err != nil {
			t.Fatal(err)
		}
		if e.clients[i], err = store.GetClient(ctx, c.UserPoolClient.ClientId); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

// user creates a confirmed user and returns an access token from client i.
func (e *pkEnv) user(name string, client int) string {
	e.t.Helper()
	ctx := e.t.Context()
	if _, err := e.s.AdminCreateUser(ctx, AdminCreateUserInput{UserPoolId: e.pool.ID, Username: name, MessageAction: "SUPPRESS"}); err != nil && !errors.Is(err, ErrUsernameExists) {
		e.t.Fatal(err)
	}
	if _, err := e.s.AdminSetUserPassword(ctx, AdminSetUserPasswordInput{UserPoolId: e.pool.ID, Username: name, Password: pkPassword, Permanent: true}); err != nil {
		e.t.Fatal(err)
	}
	out, err := e.s.InitiateAuth(ctx, InitiateAuthInput{AuthFlow: "USER_PASSWORD_AUTH", ClientId: e.clients[client].ClientID,
		AuthParameters: map[string]string{"USERNAME": name, "PASSWORD": pkPassword}})
	if err != nil {
		e.t.Fatal(err)
	}
	return out.AuthenticationResult.AccessToken
}

// options starts a registration and returns its options as JSON.
func (e *pkEnv) options(token string) []byte {
	e.t.Helper()
	out, err := e.s.StartWebAuthnRegistration(e.t.Context(), AccessTokenInput{AccessToken: token})
	if err != nil {
		e.t.Fatal(err)
	}
	b, err := json.Marshal(out.CredentialCreationOptions)
	if err != nil {
		e.t.Fatal(err)
	}
	return b
}

// register creates and registers a passkey for the token's user.
func (e *pkEnv) register(token string) *passkeytest.Authenticator {
	e.t.Helper()
	a, body, err := passkeytest.Register(e.options(token), pkOrigin, passkeytest.Forge{})
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.s.CompleteWebAuthnRegistration(e.t.Context(), CompleteWebAuthnRegistrationInput{AccessToken: token, Credential: body}); err != nil {
		e.t.Fatal(err)
	}
	return a
}

func (e *pkEnv) credentials(username string) []storage.WebAuthnCredential {
	e.t.Helper()
	creds, err := e.store.ListWebAuthnCredentials(e.t.Context(), e.pool.ID, username, nil, 0)
	if err != nil {
		e.t.Fatal(err)
	}
	return creds
}

func wantType(t *testing.T, what string, err error, typ string) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) || e.Type != typ {
		t.Fatalf("%s: got %v, want %s", what, err, typ)
	}
}

func TestPasskeyRegistrationRefusals(t *testing.T) {
	other := "bXVzdC1ub3QtYmUtYS1zZWFsZWQtY2hhbGxlbmdlLWF0LWFsbA"
	tests := []struct {
		name  string
		forge passkeytest.Forge
		// prepare may swap the options (another user's, an old one) and
		// the token that completes.
		prepare func(e *pkEnv, alice string) (options []byte, token string)
		want    string
	}{
		{name: "wrong origin", forge: passkeytest.Forge{Origin: "https://evil.example.net"}, want: "WebAuthnOriginNotAllowedException"},
		{name: "look-alike origin", forge: passkeytest.Forge{Origin: "https://auth.example.com.evil.net"}, want: "WebAuthnOriginNotAllowedException"},
		{name: "plain http origin", forge: passkeytest.Forge{Origin: "http://auth.example.com"}, want: "WebAuthnOriginNotAllowedException"},
		{name: "wrong RP id", forge: passkeytest.Forge{RPID: "example.net"}, want: "WebAuthnRelyingPartyMismatchException"},
		{name: "unknown challenge", forge: passkeytest.Forge{Challenge: other}, want: "WebAuthnChallengeNotFoundException"},
		{name: "another user's challenge", prepare: func(e *pkEnv, alice string) ([]byte, string) {
			return e.options(e.user("bob", 0)), alice
		}, want: "WebAuthnChallengeNotFoundException"},
		{name: "expired challenge", prepare: func(e *pkEnv, alice string) ([]byte, string) {
			o := e.options(alice)
			e.clk.Advance(registrationTTL + time.Second)
			return o, alice
		}, want: "WebAuthnChallengeNotFoundException"},
		{name: "another client's challenge", prepare: func(e *pkEnv, alice string) ([]byte, string) {
			return e.options(alice), e.user("alice", 1)
		}, want: "WebAuthnClientMismatchException"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newPKEnv(t, nil)
			alice := e.user("alice", 0)
			opts, token := e.options(alice), alice
			if tc.prepare != nil {
				opts, token = tc.prepare(e, alice)
			}
			_, body, err := passkeytest.Register(opts, pkOrigin, tc.forge)
			if err != nil {
				t.Fatal(err)
			}
			_, err = e.s.CompleteWebAuthnRegistration(t.Context(), CompleteWebAuthnRegistrationInput{AccessToken: token, Credential: body})
			wantType(t, "CompleteWebAuthnRegistration", err, tc.want)
			if n := len(e.credentials("alice")) + len(e.credentials("bob")); n != 0 {
				t.Fatalf("%d passkeys stored after a refused registration", n)
			}
		})
	}
}

func TestPasskeyRegistrationOnce(t *testing.T) {
	e := newPKEnv(t, nil)
	alice := e.user("alice", 0)
	_, body, err := passkeytest.Register(e.options(alice), pkOrigin, passkeytest.Forge{})
	if err != nil {
		t.Fatal(err)
	}
	in := CompleteWebAuthnRegistrationInput{AccessToken: alice, Credential: body}
	if _, err := e.s.CompleteWebAuthnRegistration(t.Context(), in); err != nil {
		t.Fatal(err)
	}
	_, err = e.s.CompleteWebAuthnRegistration(t.Context(), in)
	wantType(t, "the same registration again", err, "WebAuthnChallengeNotFoundException")
	if n := len(e.credentials("alice")); n != 1 {
		t.Fatalf("%d passkeys, want 1", n)
	}
}

func TestPasskeyPoolSettings(t *testing.T) {
	tests := []struct {
		name string
		edit func(*storage.PoolSettings)
		// forge is what the authenticator sends; want the refusal ("" ok).
		forge passkeytest.Forge
		want  string
	}{
		{name: "not in the sign-in policy", edit: func(s *storage.PoolSettings) { s.AllowedFirstAuthFactors = []string{"PASSWORD"} }, want: "WebAuthnNotEnabledException"},
		{name: "user verification required, not done", edit: func(s *storage.PoolSettings) { s.WebAuthnUserVerification = uvRequired },
			forge: passkeytest.Forge{NoUserVerification: true}, want: "WebAuthnCredentialNotSupportedException"},
		{name: "user verification preferred, not done", forge: passkeytest.Forge{NoUserVerification: true}},
		{name: "own RP id", edit: func(s *storage.PoolSettings) { s.WebAuthnRelyingPartyID = "example.com" }},
		{name: "own RP id in capitals", edit: func(s *storage.PoolSettings) { s.WebAuthnRelyingPartyID = "Example.COM" }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newPKEnv(t, tc.edit)
			alice := e.user("alice", 0)
			out, err := e.s.StartWebAuthnRegistration(t.Context(), AccessTokenInput{AccessToken: alice})
			if err != nil {
				wantType(t, "StartWebAuthnRegistration", err, tc.want)
				return
			}
			opts, _ := json.Marshal(out.CredentialCreationOptions)
			_, body, err := passkeytest.Register(opts, pkOrigin, tc.forge)
			if err != nil {
				t.Fatal(err)
			}
			_, err = e.s.CompleteWebAuthnRegistration(t.Context(), CompleteWebAuthnRegistrationInput{AccessToken: alice, Credential: body})
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			wantType(t, "CompleteWebAuthnRegistration", err, tc.want)
		})
	}
}

// signInChallenge is the WEB_AUTHN challenge for username through client 0.
func (e *pkEnv) signInChallenge(username string, client int) AuthOutput {
	e.t.Helper()
	u, err := e.store.GetUser(e.t.Context(), e.pool.ID, username)
	if err != nil {
		e.t.Fatal(err)
	}
	out, err := passkeySignIn{e.s}.startWebAuthn(e.t.Context(), e.clients[client], e.pool, u)
	if err != nil {
		e.t.Fatal(err)
	}
	return out
}

func (e *pkEnv) answer(ch AuthOutput, credential []byte) (AuthOutput, error) {
	return e.s.respondWebAuthn(e.t.Context(), e.clients[0], e.pool, ch.Session,
		map[string]string{"USERNAME": "alice", "CREDENTIAL": string(credential)})
}

func TestPasskeySignIn(t *testing.T) {
	e := newPKEnv(t, nil)
	token := e.user("alice", 0)
	u, err := e.store.GetUser(t.Context(), e.pool.ID, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if has, err := (passkeySignIn{e.s}).hasCredential(t.Context(), u); err != nil || has {
		t.Fatalf("hasCredential before registering = %v, %v", has, err)
	}
	a := e.register(token)
	if has, err := (passkeySignIn{e.s}).hasCredential(t.Context(), u); err != nil || !has {
		t.Fatalf("hasCredential after registering = %v, %v", has, err)
	}
	for range 2 {
		ch := e.signInChallenge("alice", 0)
		if ch.ChallengeName != "WEB_AUTHN" {
			t.Fatalf("challenge %q", ch.ChallengeName)
		}
		cred, err := a.Assert([]byte(ch.ChallengeParameters["CREDENTIAL_REQUEST_OPTIONS"]), pkOrigin, passkeytest.Forge{})
		if err != nil {
			t.Fatal(err)
		}
		out, err := e.answer(ch, cred)
		if err != nil {
			t.Fatal(err)
		}
		if out.AuthenticationResult == nil || out.AuthenticationResult.AccessToken == "" {
			t.Fatalf("no tokens: %+v", out)
		}
		if _, err := e.s.GetUser(t.Context(), AccessTokenInput{AccessToken: out.AuthenticationResult.AccessToken}); err != nil {
			t.Fatal(err)
		}
	}
	if c := e.credentials("alice")[0]; c.SignCount != int64(a.Count) || c.LastUsedAt.IsZero() {
		t.Fatalf("stored count %d (last used %v), authenticator at %d", c.SignCount, c.LastUsedAt, a.Count)
	}
}

func TestPasskeySignInRefusals(t *testing.T) {
	zero, back := uint32(0), uint32(1)
	tests := []struct {
		name  string
		forge passkeytest.Forge
		// run answers the challenge its own way when set.
		run  func(e *pkEnv, a, bobs *passkeytest.Authenticator, ch AuthOutput) error
		want string
	}{
		{name: "wrong origin", forge: passkeytest.Forge{Origin: "https://evil.example.net"}, want: "WebAuthnOriginNotAllowedException"},
		{name: "wrong RP id", forge: passkeytest.Forge{RPID: "example.net"}, want: "WebAuthnRelyingPartyMismatchException"},
		{name: "wrong challenge", forge: passkeytest.Forge{Challenge: "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}, want: "NotAuthorizedException"},
		{name: "bad signature", forge: passkeytest.Forge{BadSignature: true}, want: "NotAuthorizedException"},
		{name: "sign count going back", forge: passkeytest.Forge{Count: &back}, want: "NotAuthorizedException"},
		{name: "sign count back to zero", forge: passkeytest.Forge{Count: &zero}, want: "NotAuthorizedException"},
		{name: "replayed assertion", run: func(e *pkEnv, a, _ *passkeytest.Authenticator, ch AuthOutput) error {
			cred, err := a.Assert([]byte(ch.ChallengeParameters["CREDENTIAL_REQUEST_OPTIONS"]), pkOrigin, passkeytest.Forge{})
			if err != nil {
				return err
			}
			if _, err := e.answer(ch, cred); err != nil {
				return err
			}
			_, err = e.answer(ch, cred)
			return err
		}, want: "NotAuthorizedException"},
		{name: "another user's passkey", run: func(e *pkEnv, _, bobs *passkeytest.Authenticator, ch AuthOutput) error {
			cred, err := bobs.Assert([]byte(ch.ChallengeParameters["CREDENTIAL_REQUEST_OPTIONS"]), pkOrigin, passkeytest.Forge{})
			if err != nil {
				return err
			}
			_, err = e.answer(ch, cred)
			return err
		}, want: "NotAuthorizedException"},
		{name: "another client's session", run: func(e *pkEnv, a, _ *passkeytest.Authenticator, _ AuthOutput) error {
			ch := e.signInChallenge("alice", 1)
			cred, err := a.Assert([]byte(ch.ChallengeParameters["CREDENTIAL_REQUEST_OPTIONS"]), pkOrigin, passkeytest.Forge{})
			if err != nil {
				return err
			}
			_, err = e.answer(ch, cred)
			return err
		}, want: "NotAuthorizedException"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newPKEnv(t, nil)
			a := e.register(e.user("alice", 0))
			bobs := e.register(e.user("bob", 0))
			a.Count = 5
			if err := e.store.UpdateWebAuthnCredential(t.Context(), e.pool.ID, a.ID, func(w storage.WebAuthnCredential) (storage.WebAuthnCredential, error) {
				w.SignCount = 5
				return w, nil
			}); err != nil {
				t.Fatal(err)
			}
			before := e.credentials("alice")
			ch := e.signInChallenge("alice", 0)
			var err error
			if tc.run != nil {
				err = tc.run(e, a, bobs, ch)
				before = e.credentials("alice") // a replay's first use counts
			} else {
				var cred []byte
				if cred, err = a.Assert([]byte(ch.ChallengeParameters["CREDENTIAL_REQUEST_OPTIONS"]), pkOrigin, tc.forge); err != nil {
					t.Fatal(err)
				}
				_, err = e.answer(ch, cred)
			}
			wantType(t, "WEB_AUTHN answer", err, tc.want)
			after := e.credentials("alice")
			if after[0].SignCount != before[0].SignCount || !after[0].LastUsedAt.Equal(before[0].LastUsedAt) {
				t.Fatalf("a refused sign-in changed the passkey: %+v → %+v", before[0], after[0])
			}
		})
	}
}

func TestPasskeyOrigins(t *testing.T) {
	tests := []struct {
		rp      relyingParty
		origin  string
		allowed bool
	}{
		{relyingParty{id: "example.com"}, "https://example.com", true},
		{relyingParty{id: "example.com"}, "https://example.com:8443", true},
		{relyingParty{id: "example.com"}, "https://login.example.com", true},
		{relyingParty{id: "example.com"}, "https://a.b.example.com", true},
		{relyingParty{id: "example.com"}, "https://badexample.com", false},
		{relyingParty{id: "example.com"}, "https://example.com.evil.net", false},
		{relyingParty{id: "example.com"}, "http://example.com", false},
		{relyingParty{id: "example.com"}, "https://example.com/path", false},
		{relyingParty{id: "example.com"}, "https://user@example.com", false},
		{relyingParty{id: "example.com"}, "android:apk-key-hash:abc", false},
		{relyingParty{id: "example.com"}, "", false},
		{relyingParty{id: "localhost", localHTTP: true}, "http://localhost:5173", true},
		{relyingParty{id: "localhost", localHTTP: true}, "http://localhost", true},
		{relyingParty{id: "localhost", localHTTP: true}, "https://localhost:8443", true},
		{relyingParty{id: "localhost", localHTTP: true}, "http://127.0.0.1:5173", false},
		{relyingParty{id: "localhost", localHTTP: true}, "http://localhost:99999", false},
		{relyingParty{id: "localhost", localHTTP: false}, "http://localhost:5173", false},
		{relyingParty{id: "example.com", localHTTP: true}, "http://localhost:5173", false},
	}
	for _, tc := range tests {
		if got := tc.rp.originAllowed(tc.origin); got != tc.allowed {
			t.Errorf("RP %q (local http %v), origin %q: allowed %v, want %v", tc.rp.id, tc.rp.localHTTP, tc.origin, got, tc.allowed)
		}
	}
	for url, want := range map[string]string{
		"https://auth.example.com": "auth.example.com", "https://Auth.Example.com:8443/": "auth.example.com",
		"http://localhost:9229": "localhost", "http://127.0.0.1:9229": "localhost", "http://[::1]:9229": "localhost",
		"http://10.0.0.5:9229": "", "": "",
	} {
		if got := defaultRPID(url); got != want {
			t.Errorf("defaultRPID(%q) = %q, want %q", url, got, want)
		}
	}
}
