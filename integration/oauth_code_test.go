package integration_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// TestOAuthCodeFlow follows one user and one public client through the
// authorization-code grant with PKCE: sign-in on the login page, the
// exchange, verification, the pool session, prompt=login, refresh,
// userInfo and revocation.
func TestOAuthCodeFlow(t *testing.T) {
	t.Parallel()
	e := newOAuthEnv(t)
	client, _ := e.oauthClient(clientSpec{})
	email := "ada@example.com"
	sub := e.newUser(email)
	conf := e.rpConfig(client, "")
	b := e.newBrowser()

	start := time.Now().Add(-2 * time.Second)
	req1, code1 := b.login(conf, email, password, oauth2.SetAuthURLParam("identity_provider", "COGNITO"))

	// The pool session cookie: HttpOnly, Secure (HTTPS), sent on a
	// top-level navigation from the relying party (not SameSite=Strict).
	if b.sessionCookie() == nil {
		t.Fatalf("no cognate_session_%s cookie after sign-in; Set-Cookie lines %q", e.pool, b.sessionSets)
	}
	if len(b.sessionSets) > 0 {
		line := strings.ToLower(b.sessionSets[len(b.sessionSets)-1])
		for _, want := range []string{"httponly", "secure", "path=/"} {
			if !strings.Contains(line, want) {
				t.Errorf("session Set-Cookie %q lacks %s", line, want)
			}
		}
		if strings.Contains(line, "samesite=strict") {
			t.Errorf("session cookie is SameSite=Strict: a relying party's link to /oauth2/authorize would not carry it: %q", line)
		}
	}

	tok := e.exchange(conf, req1, code1)
	if tok.TokenType != "Bearer" {
		t.Errorf("token_type %q, want Bearer", tok.TokenType)
	}
	if tok.RefreshToken == "" {
		t.Errorf("the code grant returned no refresh_token")
	}
	if exp := time.Until(tok.Expiry); exp < 3500*time.Second || exp > 3700*time.Second {
		t.Errorf("expires_in gives expiry in %v, want ~1h", exp)
	}
	idc := e.verifyID(client, idToken(tok), tok.AccessToken, req1.nonce)
	if idc.Sub != sub || idc.CognitoUsername != sub || idc.Email != email {
		t.Errorf("id token sub %q cognito:username %q email %q; want %q %q %q", idc.Sub, idc.CognitoUsername, idc.Email, sub, sub, email)
	}
	if idc.EmailVerified != true {
		t.Errorf("email_verified %#v, want true", idc.EmailVerified)
	}
	if idc.Name != "Ada Lovelace" {
		t.Errorf("name %q with the profile scope", idc.Name)
	}
	if at := time.Unix(idc.AuthTime, 0); at.Before(start) || at.After(time.Now().Add(2*time.Second)) {
		t.Errorf("auth_time %v, want the sign-in time (~%v)", at, start)
	}
	ac := e.verifyAccess(tok.AccessToken)
	if ac.ClientID != client || ac.Username != sub || ac.Sub != sub {
		t.Errorf("access token client_id %q username %q sub %q", ac.ClientID, ac.Username, ac.Sub)
	}
	if got := scopeSet(ac.Scope); got != "email openid profile" {
		t.Errorf("access token scope %q, want openid email profile", ac.Scope)
	}
	if ac.AuthTime != idc.AuthTime {
		t.Errorf("access auth_time %d, id auth_time %d", ac.AuthTime, idc.AuthTime)
	}
	if ac.Aud != nil {
		t.Errorf("access token has aud %v (Cognito's have none)", ac.Aud)
	}

	// userInfo as go-oidc calls it, and raw GET and POST.
	ui, err := e.prov.UserInfo(e.ctxRP(), oauth2.StaticTokenSource(tok))
	if err != nil {
		t.Fatalf("UserInfo: %v", err)
	}
	if ui.Subject != sub || ui.Email != email || !ui.EmailVerified {
		t.Errorf("userInfo sub %q email %q verified %v", ui.Subject, ui.Email, ui.EmailVerified)
	}
	for _, m := range []string{http.MethodGet, http.MethodPost} {
		r := e.userInfo(m, tok.AccessToken)
		if r.status != http.StatusOK || r.str("sub") != sub || r.str("email") != email {
			t.Errorf("%s userInfo: %s", m, r)
		}
		if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			t.Errorf("%s userInfo Content-Type %q", m, ct)
		}
	}

	// A second authorization rides the pool session: no login page, a
	// new code, and the original auth_time.
	req2 := newCodeRequest(conf)
	code2 := b.get(req2.url).wantCode(t, req2.state)
	if code2 == code1 {
		t.Fatalf("the session gave the same code twice")
	}
	tok2 := e.exchange(conf, req2, code2)
	idc2 := e.verifyID(client, idToken(tok2), tok2.AccessToken, req2.nonce)
	if idc2.AuthTime != idc.AuthTime {
		t.Errorf("auth_time through the session %d, want the sign-in's %d", idc2.AuthTime, idc.AuthTime)
	}
	if tok2.RefreshToken == "" || tok2.RefreshToken == tok.RefreshToken {
		t.Errorf("the second grant's refresh token is missing or the first's")
	}

	// prompt=login shows the login page despite the session.
	req3 := newCodeRequest(conf, oauth2.SetAuthURLParam("prompt", "login"))
	page := b.get(req3.url).wantPage(t, "/login")
	code3 := b.signIn(page, email, password).wantCode(t, req3.state)
	tok3 := e.exchange(conf, req3, code3)
	if idc3 := e.verifyID(client, idToken(tok3), tok3.AccessToken, req3.nonce); idc3.AuthTime < idc.AuthTime {
		t.Errorf("auth_time after prompt=login %d < first %d", idc3.AuthTime, idc.AuthTime)
	}

	// Refresh through the token source once the token has expired
	// locally: a new access token and id token, the same auth_time, the
	// refresh token kept (no rotation on this client).
	old := *tok
	expired := *tok
	expired.Expiry = time.Now().Add(-time.Minute)
	nt, err := conf.TokenSource(e.ctxRP(), &expired).Token()
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	if nt.AccessToken == old.AccessToken {
		t.Errorf("refresh returned the same access token")
	}
	if nt.RefreshToken != old.RefreshToken {
		t.Errorf("a client without rotation got a new refresh token")
	}
	rid := idToken(nt)
	if rid == "" {
		t.Errorf("the refresh grant returned no id_token")
	} else if c := e.verifyID(client, rid, nt.AccessToken, ""); c.AuthTime != idc.AuthTime || c.Sub != sub {
		t.Errorf("refreshed id token auth_time %d sub %q; want %d %q", c.AuthTime, c.Sub, idc.AuthTime, sub)
	}
	if c := e.verifyAccess(nt.AccessToken); scopeSet(c.Scope) != "email openid profile" || c.AuthTime != idc.AuthTime {
		t.Errorf("refreshed access token scope %q auth_time %d", c.Scope, c.AuthTime)
	}

	// Revocation: 200, and the refresh token is dead; revoking again is
	// still 200.
	for i := range 2 {
		r := e.postForm(e.disc.RevocationEndpoint, url.Values{"token": {old.RefreshToken}, "client_id": {client}}, "", "")
		if r.status != http.StatusOK {
			t.Fatalf("revoke #%d: %s", i+1, r)
		}
	}
	wantOAuthError(t, e.refreshRaw(client, old.RefreshToken), http.StatusBadRequest, "invalid_grant")
	if _, err := conf.TokenSource(e.ctxRP(), &expired).Token(); err == nil {
		t.Errorf("oauth2 refreshed with a revoked token")
	}
	// Access tokens minted from the revoked refresh token are dead too
	// (Cognito: revocation covers the tokens the refresh token issued).
	if r := e.userInfo(http.MethodGet, nt.AccessToken); r.status != http.StatusUnauthorized {
		t.Errorf("userInfo with an access token of a revoked refresh token: %s", r)
	}
	// The other grants are untouched.
	if r := e.refreshRaw(client, tok2.RefreshToken); r.status != http.StatusOK {
		t.Errorf("refresh of an unrelated grant after revocation: %s", r)
	}
}

// TestOAuthIDTokenReleasesOnlyGrantedClaims: an id token carries email
// claims only with the email scope and profile claims (name) only with
// the profile scope, however many attributes the user has.
func TestOAuthIDTokenReleasesOnlyGrantedClaims(t *testing.T) {
	t.Parallel()
	e := newOAuthEnv(t)
	client, _ := e.oauthClient(clientSpec{})
	e.newUser("scoped@example.com") // with a name
	b := e.newBrowser()
	for _, tc := range []struct {
		scopes      []string
		email, name bool
	}{
		{[]string{"openid"}, false, false},
		{[]string{"openid", "email"}, true, false},
		{[]string{"openid", "profile"}, false, true},
		{[]string{"openid", "email", "profile"}, true, true},
	} {
		conf := e.rpConfig(client, "", tc.scopes...)
		r := newCodeRequest(conf, oauth2.SetAuthURLParam("prompt", "login"))
		page := b.get(r.url).wantPage(t, "/login")
		tok := e.exchange(conf, r, b.signIn(page, "scoped@example.com", password).wantCode(t, r.state))
		c := claims(t, idToken(tok))
		_, email := c["email"]
		_, verified := c["email_verified"]
		_, name := c["name"]
		if email != tc.email || verified != tc.email || name != tc.name {
			t.Errorf("scopes %v: email %v, email_verified %v, name %v in the id token; want email %v, name %v",
				tc.scopes, email, verified, name, tc.email, tc.name)
		}
	}
}
