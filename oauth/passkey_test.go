package oauth_test

import (
	"context"
	"encoding/json"
	"errors"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/cognate-auth/cognate/internal/passkeytest"
	"github.com/cognate-auth/cognate/userpool"
)

// pkOrigin is the app page that registers the passkeys: the server's URL
// is http://127.0.0.1:<port>, so the pool's RP id is "localhost", which
// any http://localhost port may use outside --production.
const pkOrigin = "http://localhost:8080"

// newPasskeyEnv is an env whose pool's sign-in policy has WEB_AUTHN and
// whose client allows choice-based sign-in.
func newPasskeyEnv(t *testing.T) *env {
	e := newEnv(t, func(in *userpool.CreateUserPoolClientInput) {
		in.ExplicitAuthFlows = append(in.ExplicitAuthFlows, "ALLOW_USER_AUTH")
	})
	if _, err := e.srv.Service().UpdateUserPool(context.Background(), userpool.UpdateUserPoolInput{
		UserPoolId: e.srv.Pool.ID, AutoVerifiedAttributes: []string{"email"},
		Policies: &userpool.PoliciesType{SignInPolicy: &userpool.SignInPolicyType{AllowedFirstAuthFactors: []string{"PASSWORD", "WEB_AUTHN"}}},
	}); err != nil {
		t.Fatal(err)
	}
	return e
}

// passkey signs user up and registers a passkey with their access token.
func (e *env) passkey(user string) *passkeytest.Authenticator {
	e.t.Helper()
	ctx, svc := context.Background(), e.srv.Service()
	e.user(user, "Passw0rd!")
	out, err := svc.InitiateAuth(ctx, userpool.InitiateAuthInput{AuthFlow: "USER_PASSWORD_AUTH", ClientId: e.client.ClientId,
		AuthParameters: map[string]string{"USERNAME": user, "PASSWORD": "Passw0rd!"}})
	if err != nil {
		e.t.Fatal(err)
	}
	access := out.AuthenticationResult.AccessToken
	start, err := svc.StartWebAuthnRegistration(ctx, userpool.AccessTokenInput{AccessToken: access})
	if err != nil {
		e.t.Fatal(err)
	}
	opts, _ := json.Marshal(start.CredentialCreationOptions)
	a, body, err := passkeytest.Register(opts, pkOrigin, passkeytest.Forge{})
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := svc.CompleteWebAuthnRegistration(ctx, userpool.CompleteWebAuthnRegistrationInput{AccessToken: access, Credential: body}); err != nil {
		e.t.Fatal(err)
	}
	return a
}

var passkeyOptionsRE = regexp.MustCompile(`data-options="([^"]*)"`)

// passkeyStep presses the login page's passkey button for user and
// returns the ceremony's page and its request options.
func (b *browser) passkeyStep(q url.Values, user string) (page, []byte) {
	b.t.Helper()
	path, lp := b.loginPage(q)
	if !strings.Contains(lp.body, `id="passkey"`) {
		b.t.Fatalf("no passkey button on the login page:\n%s", lp.body)
	}
	p := b.post(path, url.Values{"csrf_token": {lp.csrf(b.t)}, "username": {user}, "action": {"passkey"}})
	m := passkeyOptionsRE.FindStringSubmatch(p.body)
	if p.status != http.StatusOK || m == nil || !strings.Contains(p.body, "/_cognate/assets/passkey.js") {
		b.t.Fatalf("passkey step: %d\n%s", p.status, p.body)
	}
	return p, []byte(html.UnescapeString(m[1]))
}

// TestLoginPasskey: the login page's passkey button runs the WEB_AUTHN
// step on the pages; only the user's own, genuine, fresh assertion signs
// in, and an unknown user or one without a passkey gets the same step.
func TestLoginPasskey(t *testing.T) {
	e := newPasskeyEnv(t)
	mia, leo := e.passkey("mia@example.com"), e.passkey("leo@example.com")
	e.user("ann@example.com", "Passw0rd!")
	q := e.authorizeQuery("")
	stale := uint32(1) // the first sign-in below stores a count of at least 1
	tests := []struct {
		name, user string
		key        *passkeytest.Authenticator
		forge      passkeytest.Forge
		replay     bool
		want       int
	}{
		{name: "the user's passkey", user: "mia@example.com", key: mia, want: http.StatusFound},
		{name: "a forged signature", user: "mia@example.com", key: mia, forge: passkeytest.Forge{BadSignature: true}, want: http.StatusBadRequest},
		{name: "another page's origin", user: "mia@example.com", key: mia, forge: passkeytest.Forge{Origin: "https://evil.example"}, want: http.StatusBadRequest},
		{name: "a sign count not above the stored one", user: "mia@example.com", key: mia, forge: passkeytest.Forge{Count: &stale}, want: http.StatusBadRequest},
		{name: "a replayed assertion", user: "mia@example.com", key: mia, replay: true, want: http.StatusBadRequest},
		{name: "another user's passkey", user: "mia@example.com", key: leo, want: http.StatusBadRequest},
		{name: "a user without a passkey", user: "ann@example.com", key: mia, want: http.StatusBadRequest},
		{name: "no such user", user: "nobody@example.com", key: mia, want: http.StatusBadRequest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := e.browser()
			p, opts := b.passkeyStep(q, tc.user)
			var ro struct {
				AllowCredentials []struct{ ID string } `json:"allowCredentials"`
			}
			if err := json.Unmarshal(opts, &ro); err != nil || len(ro.AllowCredentials) != 1 {
				t.Fatalf("request options %s: %v", opts, err)
			}
			cred, err := tc.key.Assert(opts, pkOrigin, tc.forge)
			if err != nil {
				t.Fatal(err)
			}
			form := url.Values{"csrf_token": {p.csrf(t)}, "session": {hiddenValue(t, p, "session")}, "credential": {string(cred)}}
			res := b.post("/passkey?"+q.Encode(), form)
			if tc.replay {
				if res.status != http.StatusFound {
					t.Fatalf("first use: %d\n%s", res.status, res.body)
				}
				res = b.post("/passkey?"+q.Encode(), form)
			}
			if res.status != tc.want {
				t.Fatalf("status %d, want %d\n%.3000s", res.status, tc.want, res.body)
			}
			if tc.want == http.StatusFound {
				if loc := res.location(t); !strings.HasPrefix(loc.String(), callback) || loc.Query().Get("code") == "" {
					t.Fatalf("redirected to %s", loc)
				}
				return
			}
			if !strings.Contains(res.body, "That passkey couldn") {
				t.Fatalf("no passkey error on the page:\n%s", res.body)
			}
		})
	}
}

// TestLoginPasskeySessions: a hosted step's Session yields no API tokens,
// nor an API step's a login; a client without ALLOW_USER_AUTH has no
// passkey button and its form's passkey action is a password sign-in.
func TestLoginPasskeySessions(t *testing.T) {
	e := newPasskeyEnv(t)
	mia := e.passkey("mia@example.com")
	ctx, svc := context.Background(), e.srv.Service()
	q := e.authorizeQuery("")
	b := e.browser()
	p, opts := b.passkeyStep(q, "mia@example.com")
	cred, err := mia.Assert(opts, pkOrigin, passkeytest.Forge{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.RespondToAuthChallenge(ctx, userpool.RespondToAuthChallengeInput{ClientId: e.client.ClientId, ChallengeName: "WEB_AUTHN",
		Session: hiddenValue(t, p, "session"), ChallengeResponses: map[string]string{"USERNAME": "mia@example.com", "CREDENTIAL": string(cred)}}); !isNotAuthorized(err) {
		t.Fatalf("a hosted Session through the API: %v", err)
	}
	api, err := svc.InitiateAuth(ctx, userpool.InitiateAuthInput{AuthFlow: "USER_AUTH", ClientId: e.client.ClientId,
		AuthParameters: map[string]string{"USERNAME": "mia@example.com", "PREFERRED_CHALLENGE": "WEB_AUTHN"}})
	if err != nil {
		t.Fatal(err)
	}
	cred, err = mia.Assert([]byte(api.ChallengeParameters["CREDENTIAL_REQUEST_OPTIONS"]), pkOrigin, passkeytest.Forge{})
	if err != nil {
		t.Fatal(err)
	}
	res := b.post("/passkey?"+q.Encode(), url.Values{"csrf_token": {p.csrf(t)}, "session": {api.Session}, "credential": {string(cred)}})
	if res.status != http.StatusBadRequest {
		t.Fatalf("an API Session on the page: %d\n%s", res.status, res.body)
	}

	plain := newEnv(t)
	pb := plain.browser()
	path, lp := pb.loginPage(plain.authorizeQuery(""))
	if strings.Contains(lp.body, `id="passkey"`) {
		t.Fatal("a passkey button for a client without ALLOW_USER_AUTH")
	}
	res = pb.post(path, url.Values{"csrf_token": {lp.csrf(t)}, "username": {"mia@example.com"}, "action": {"passkey"}})
	if res.status != http.StatusBadRequest || strings.Contains(res.body, "data-options") {
		t.Fatalf("the passkey action without passkeys: %d\n%s", res.status, res.body)
	}
}

func isNotAuthorized(err error) bool {
	var e *userpool.Error
	return err != nil && errors.As(err, &e) && e.Type == userpool.ErrNotAuthorized.Type
}
