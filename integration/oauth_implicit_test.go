package integration_test

import (
	"net/url"
	"strings"
	"testing"
)

// TestOAuthImplicit: response_type=token puts the tokens in the
// callback's fragment, with the state, and no refresh token.
func TestOAuthImplicit(t *testing.T) {
	t.Parallel()
	e := newOAuthEnv(t)
	client, _ := e.oauthClient(clientSpec{flows: []string{"code", "implicit"}})
	codeOnly, _ := e.oauthClient(clientSpec{})
	email := "imp@example.com"
	sub := e.newUser(email)
	b := e.newBrowser()
	params := func(client, state, nonce string) url.Values {
		return url.Values{"response_type": {"token"}, "client_id": {client}, "redirect_uri": {rpCallback},
			"scope": {"openid email aws.cognito.signin.user.admin"}, "state": {state}, "nonce": {nonce}}
	}
	check := func(l landing, state, nonce string) {
		t.Helper()
		cb := l.wantCallback(t, rpCallback)
		if cb.RawQuery != "" {
			t.Errorf("implicit callback has a query %q (tokens belong in the fragment)", cb.RawQuery)
		}
		f, err := url.ParseQuery(cb.Fragment)
		if err != nil {
			t.Fatalf("fragment %q: %v", cb.Fragment, err)
		}
		if f.Get("error") != "" {
			t.Fatalf("implicit error %s: %s", f.Get("error"), f.Get("error_description"))
		}
		if f.Get("state") != state || !strings.EqualFold(f.Get("token_type"), "bearer") || f.Get("expires_in") != "3600" {
			t.Errorf("fragment state %q token_type %q expires_in %q", f.Get("state"), f.Get("token_type"), f.Get("expires_in"))
		}
		if f.Has("refresh_token") || f.Has("code") {
			t.Errorf("implicit fragment has refresh_token or code: %v", f)
		}
		at := f.Get("access_token")
		if c := e.verifyAccess(at); c.Username != sub || c.ClientID != client {
			t.Errorf("implicit access token username %q client %q", c.Username, c.ClientID)
		}
		if c := e.verifyID(client, f.Get("id_token"), at, nonce); c.Sub != sub {
			t.Errorf("implicit id token sub %q", c.Sub)
		}
	}
	page := b.authorize(params(client, "s1", "n1")).wantPage(t, "/login")
	check(b.signIn(page, email, password), "s1", "n1")
	// Through the pool session.
	check(b.authorize(params(client, "s2", "n2")), "s2", "n2")

	// A client not allowed the implicit flow gets an error redirect.
	l := b.authorize(params(codeOnly, "s3", "n3"))
	cb := l.wantCallback(t, rpCallback)
	q := cb.Query()
	if f, _ := url.ParseQuery(cb.Fragment); q.Get("error") == "" && f.Get("error") != "" {
		q = f
	}
	if q.Get("error") != "unauthorized_client" || q.Get("state") != "s3" {
		t.Errorf("implicit on a code-only client: %s", cb)
	}
	if strings.Contains(cb.String(), "access_token") {
		t.Errorf("tokens issued to a client without the implicit flow: %s", cb)
	}
}
