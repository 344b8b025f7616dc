package integration_test

import (
	"net/url"
	"slices"
	"strings"
	"testing"

	"golang.org/x/oauth2"
)

// TestOAuthBadAuthorize: what the authorization endpoint does with bad
// requests. Problems with the client or redirect_uri show an error page
// (never a redirect); others redirect to the callback with error and the
// state.
func TestOAuthBadAuthorize(t *testing.T) {
	t.Parallel()
	e := newOAuthEnv(t)
	client, _ := e.oauthClient(clientSpec{})
	otherCallback := "https://" + rpHost + "/other-app"
	e.oauthClient(clientSpec{callbacks: []string{otherCallback}})
	email := "bad@example.com"
	e.newUser(email)
	v := oauth2.GenerateVerifier()

	errorPage := []struct {
		name   string
		params url.Values
	}{
		{"unregistered redirect_uri", authParams(client, "st", v, "redirect_uri", rpOther)},
		{"redirect_uri with a longer path", authParams(client, "st", v, "redirect_uri", rpCallback+"/more")},
		{"redirect_uri with a query", authParams(client, "st", v, "redirect_uri", rpCallback+"?x=1")},
		{"redirect_uri of another case", authParams(client, "st", v, "redirect_uri", strings.ToUpper(rpCallback))},
		{"http redirect_uri", authParams(client, "st", v, "redirect_uri", "http://"+rpHost+"/callback")},
		{"no redirect_uri", authParams(client, "st", v, "redirect_uri", "")},
		{"unknown client", authParams("nosuchclient0000000000000", "st", v)},
		{"no client_id", authParams("", "st", v, "client_id", "")},
		{"OAuth-disabled client", authParams(e.pub, "st", v)},
		{"markup in redirect_uri", authParams(client, "st", v, "redirect_uri", "https://rp.example/<script>alert(1)</script>")},
		{"another client's redirect_uri", authParams(client, "st", v, "redirect_uri", otherCallback)},
	}
	for _, c := range errorPage {
		t.Run(c.name, func(t *testing.T) {
			l := e.newBrowser().authorize(c.params)
			if l.callback != nil || l.header.Get("Location") != "" {
				t.Fatalf("redirected: %s", l)
			}
			if l.status < 400 || l.status > 499 {
				t.Fatalf("status %d, want 4xx; %s", l.status, l)
			}
			if strings.Contains(l.body, "<script>alert(1)</script>") {
				t.Errorf("the error page reflects markup unescaped")
			}
			if strings.Contains(l.body, `name="password"`) {
				t.Errorf("the error page offers a login form")
			}
		})
	}

	errorRedirect := []struct {
		name   string
		params url.Values
		codes  []string
	}{
		{"unsupported response_type", authParams(client, "st", v, "response_type", "id_token"), []string{"unsupported_response_type", "invalid_request"}},
		{"two response_types", authParams(client, "st", v, "response_type", "code token"), []string{"unsupported_response_type", "invalid_request"}},
		{"no response_type", authParams(client, "st", v, "response_type", ""), []string{"unsupported_response_type", "invalid_request"}},
		{"scope not allowed", authParams(client, "st", v, "scope", "openid admin/all"), []string{"invalid_scope"}},
		{"PKCE plain", authParams(client, "st", v, "code_challenge_method", "plain", "code_challenge", v), []string{"invalid_request"}},
		{"unknown PKCE method", authParams(client, "st", v, "code_challenge_method", "S512"), []string{"invalid_request"}},
	}
	for _, c := range errorRedirect {
		t.Run(c.name, func(t *testing.T) {
			l := e.newBrowser().authorize(c.params)
			cb := l.wantCallback(t, rpCallback)
			q := cb.Query()
			if !slices.Contains(c.codes, q.Get("error")) {
				t.Fatalf("error %q (%s), want one of %v", q.Get("error"), q.Get("error_description"), c.codes)
			}
			if q.Get("state") != "st" {
				t.Errorf("state %q not echoed", q.Get("state"))
			}
			if q.Get("error_description") == "" {
				t.Errorf("no error_description")
			}
			if q.Has("code") {
				t.Errorf("an error redirect carries a code")
			}
		})
	}

	// The same errors reach the callback for a signed-in browser too, and
	// the state survives any characters.
	b := e.newBrowser()
	conf := e.rpConfig(client, "")
	b.login(conf, email, password)
	odd := `a b&c=d/é+%"><script>x</script>`
	l := b.authorize(authParams(client, odd, v, "scope", "openid admin/all"))
	if q := l.wantCallback(t, rpCallback).Query(); q.Get("state") != odd || q.Get("error") != "invalid_scope" {
		t.Errorf("signed in, bad scope: error %q state %q", q.Get("error"), q.Get("state"))
	}
	if code := b.authorize(authParams(client, odd, v)).wantCode(t, odd); code == "" {
		t.Error("no code")
	}
	// No state sent: none comes back.
	l = b.authorize(authParams(client, "", v))
	if q := l.wantCallback(t, rpCallback).Query(); !q.Has("code") || q.Has("state") {
		t.Errorf("without state: callback %s", l.callback)
	}
	// The state is escaped where the login page carries it.
	b2 := e.newBrowser()
	page := b2.authorize(authParams(client, odd, v)).wantPage(t, "/login")
	if strings.Contains(page.body, "<script>x</script>") {
		t.Errorf("the login page reflects the state unescaped")
	}
	b2.signIn(page, email, password).wantCode(t, odd)
	// Nor are login_hint and lang reflected as markup.
	for _, p := range []string{"login_hint", "lang"} {
		markup := `"><script>alert(1)</script>`
		l := e.newBrowser().authorize(authParams(client, "st", v, p, markup))
		if strings.Contains(l.body, "<script>alert(1)</script>") {
			t.Errorf("%s is reflected unescaped: %s", p, l)
		}
	}

	// Oversized values: a 4xx or a normal answer, never a 5xx (the guard
	// fails the test on those).
	big := strings.Repeat("A", 20_000)
	for _, c := range []struct {
		name   string
		params url.Values
	}{
		{"state", authParams(client, big, v)},
		{"scope", authParams(client, "st", v, "scope", big)},
		{"nonce", authParams(client, "st", v, "nonce", big)},
		{"login_hint", authParams(client, "st", v, "login_hint", big)},
		{"code_challenge", authParams(client, "st", v, "code_challenge", big)},
		{"client_id", authParams(big, "st", v)},
		{"redirect_uri", authParams(client, "st", v, "redirect_uri", rpCallback+"?"+big)},
		{"lang", authParams(client, "st", v, "lang", big)},
	} {
		t.Run("oversized "+c.name, func(t *testing.T) {
			for _, br := range []*browser{e.newBrowser(), b} {
				l := br.authorize(c.params)
				if l.status >= 500 {
					t.Fatalf("%s", l)
				}
				if l.callback != nil && l.callback.Query().Has("code") && c.name == "code_challenge" {
					t.Errorf("a 20 kB code_challenge was accepted (S256 challenges are 43 characters)")
				}
			}
		})
	}
	t.Run("duplicate parameters", func(t *testing.T) {
		q := authParams(client, "st", v)
		q.Add("client_id", "other")
		q.Add("redirect_uri", rpOther)
		l := e.newBrowser().authorize(q)
		if l.status >= 500 || (l.callback != nil && l.callback.Query().Has("code")) {
			t.Fatalf("%s", l)
		}
	})
}

// TestOAuthMoreAuthorize: Cognito behaviours of the authorization
// endpoint a relying party relies on.
func TestOAuthMoreAuthorize(t *testing.T) {
	t.Parallel()
	e := newOAuthEnv(t)
	client, _ := e.oauthClient(clientSpec{})
	implicitOnly, _ := e.oauthClient(clientSpec{flows: []string{"implicit"}})
	email := "more@example.com"
	e.newUser(email)
	b := e.newBrowser()
	conf := e.rpConfig(client, "")
	b.login(conf, email, password)
	v := oauth2.GenerateVerifier()

	// No scope: every scope the client allows (Cognito).
	r := codeRequest{verifier: v, state: "s"}
	code := b.authorize(authParams(client, "s", v, "scope", "")).wantCode(t, "s")
	tok := e.exchange(conf, r, code)
	if got, want := scopeSet(e.verifyAccess(tok.AccessToken).Scope), scopeSet(strings.Join(allScopes, " ")); got != want {
		t.Errorf("no scope asked: granted %q, want the client's %q", got, want)
	}
	// response_type=code on an implicit-only client.
	q := b.authorize(authParams(implicitOnly, "s", v)).wantCallback(t, rpCallback).Query()
	if q.Get("error") != "unauthorized_client" || q.Has("code") {
		t.Errorf("code on an implicit-only client: %v", q)
	}
	// An identity provider the client does not have: no code, no 5xx.
	l := b.authorize(authParams(client, "s", v, "identity_provider", "Google"))
	if l.callback != nil && l.callback.Query().Has("code") {
		t.Errorf("identity_provider=Google gave a Cognito code: %s", l.callback)
	}
	// The email is case-insensitive on the login page.
	b2 := e.newBrowser()
	r2 := newCodeRequest(conf)
	b2.signIn(b2.get(r2.url).wantPage(t, "/login"), strings.ToUpper(email), password).wantCode(t, r2.state)
	// Without PKCE (optional in Cognito), the code flow works and the
	// exchange needs no verifier.
	q3 := authParams(client, "s3", v, "code_challenge", "", "code_challenge_method", "")
	code3 := b.authorize(q3).wantCode(t, "s3")
	res := e.token(url.Values{"grant_type": {"authorization_code"}, "client_id": {client}, "code": {code3}, "redirect_uri": {rpCallback}}, "", "")
	if res.status != 200 {
		t.Errorf("exchange of a code without PKCE: %s", res)
	}
}
