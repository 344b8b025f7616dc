package oauth_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/cognate-auth/cognate/userpool"
)

func TestAuthorizeErrors(t *testing.T) {
	e := newEnv(t)
	_, challenge := pkce()
	cases := []struct {
		name  string
		edit  func(q url.Values)
		page  int    // want an error page with this status (no Location)
		error string // else want a redirect to the callback with this error
		frag  bool
	}{
		{"unknown client", func(q url.Values) { q.Set("client_id", "nope") }, http.StatusBadRequest, "", false},
		{"missing client", func(q url.Values) { q.Del("client_id") }, http.StatusBadRequest, "", false},
		{"unregistered redirect_uri", func(q url.Values) { q.Set("redirect_uri", "https://evil.example/cb") }, http.StatusBadRequest, "", false},
		{"redirect_uri prefix", func(q url.Values) { q.Set("redirect_uri", callback+"/x") }, http.StatusBadRequest, "", false},
		{"repeated redirect_uri", func(q url.Values) { q.Add("redirect_uri", callback) }, http.StatusBadRequest, "", false},
		{"huge redirect_uri", func(q url.Values) { q.Set("redirect_uri", callback+"?"+strings.Repeat("a", 3000)) }, http.StatusBadRequest, "", false},
		{"bad response_type", func(q url.Values) { q.Set("response_type", "id_token") }, 0, "unsupported_response_type", false},
		{"missing response_type", func(q url.Values) { q.Del("response_type") }, 0, "invalid_request", false},
		{"plain PKCE refused", func(q url.Values) { q.Set("code_challenge_method", "plain") }, 0, "invalid_request", false},
		{"PKCE without method", func(q url.Values) { q.Del("code_challenge_method") }, 0, "invalid_request", false},
		{"short challenge", func(q url.Values) { q.Set("code_challenge", "abc") }, 0, "invalid_request", false},
		{"scope not allowed", func(q url.Values) { q.Set("scope", "openid phone") }, 0, "invalid_scope", false},
		{"unknown prompt", func(q url.Values) { q.Set("prompt", "maybe") }, 0, "invalid_request", false},
		{"prompt=none without session", func(q url.Values) { q.Set("prompt", "none") }, 0, "login_required", false},
		{"prompt=NONE (any case)", func(q url.Values) { q.Set("prompt", "NONE") }, 0, "login_required", false},
		{"other identity provider", func(q url.Values) { q.Set("identity_provider", "Google") }, 0, "invalid_request", false},
		{"huge nonce", func(q url.Values) { q.Set("nonce", strings.Repeat("n", 600)) }, 0, "invalid_request", false},
		{"implicit error in fragment", func(q url.Values) {
			q.Set("response_type", "token")
			q.Set("prompt", "none")
		}, 0, "login_required", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			q := e.authorizeQuery(challenge)
			c.edit(q)
			p := e.browser().get("/oauth2/authorize?" + q.Encode())
			if c.page != 0 {
				if p.status != c.page || p.header.Get("Location") != "" {
					t.Fatalf("status %d Location %q; want a %d page and no redirect", p.status, p.header.Get("Location"), c.page)
				}
				if !strings.Contains(p.body, `class="error banner"`) || !strings.Contains(p.header.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
					t.Fatalf("not an error page:\n%s", p.body)
				}
				return
			}
			if p.status != http.StatusFound {
				t.Fatalf("status %d, want 302:\n%s", p.status, p.body)
			}
			loc := p.location(t)
			if !strings.HasPrefix(loc.String(), callback) {
				t.Fatalf("redirected to %s", loc)
			}
			params := loc.Query()
			if c.frag {
				params, _ = url.ParseQuery(loc.Fragment)
			}
			if params.Get("error") != c.error || params.Get("error_description") == "" || params.Get("state") != "st4te-custom" {
				t.Fatalf("redirect %s: want error=%s with description and state", loc, c.error)
			}
		})
	}
}

func TestAuthorizeUnauthorizedFlow(t *testing.T) {
	e := newEnv(t, func(in *userpool.CreateUserPoolClientInput) { in.AllowedOAuthFlows = []string{"code"} })
	q := e.authorizeQuery("", "response_type", "token")
	p := e.browser().get("/oauth2/authorize?" + q.Encode())
	frag, _ := url.ParseQuery(p.location(t).Fragment)
	if frag.Get("error") != "unauthorized_client" {
		t.Fatalf("implicit on a code-only client: %s", p.location(t))
	}
}

func TestAuthorizeGoesToLoginWithParams(t *testing.T) {
	e := newEnv(t)
	_, challenge := pkce()
	q := e.authorizeQuery(challenge, "lang", "fr", "login_hint", "ann@example.com", "nonce", "n-1")
	p := e.browser().get("/oauth2/authorize?" + q.Encode())
	loc := p.location(t)
	if p.status != http.StatusFound || loc.Path != "/login" {
		t.Fatalf("status %d Location %s; want /login", p.status, loc)
	}
	for k := range q {
		if loc.Query().Get(k) != q.Get(k) {
			t.Errorf("/login lost %s: %s", k, loc)
		}
	}
}

func TestAuthorizeDefaultRedirectURI(t *testing.T) {
	e := newEnv(t, func(in *userpool.CreateUserPoolClientInput) { in.DefaultRedirectURI = callback })
	e.user("dee@example.com", "Passw0rd!")
	b := e.browser()
	q := e.authorizeQuery("")
	q.Del("redirect_uri")
	code := b.signIn(q, "dee@example.com", "Passw0rd!")
	st, _, out := e.tokenPost(url.Values{"grant_type": {"authorization_code"}, "client_id": {e.client.ClientId}, "code": {code}})
	if st != http.StatusOK || out["access_token"] == nil {
		t.Fatalf("exchange without redirect_uri for a default-URI authorization: %d %v", st, out)
	}
}
