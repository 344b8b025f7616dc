package session_test

import (
	"strings"
	"testing"
	"time"

	"github.com/cognate-auth/cognate/session"
)

// TestOIDCMode: without UserPoolID the Manager is a plain OIDC relying
// party: hosted sign-in, refresh with the OAuth token endpoint, no
// password sign-in.
func TestOIDCMode(t *testing.T) {
	p := newIDP(t)
	a := newApp(t, p, appOpts{config: func(c *session.Config) {
		c.Issuer = p.url + "/" + c.UserPoolID
		c.UserPoolID, c.Endpoint = "", ""
	}})
	p.user(t, "oidc-user", false)
	b := newBrowser(t)
	landed := b.hostedSignIn(a, "/private", "oidc-user", password)
	if !strings.Contains(landed.body, `"user":"oidc-user"`) {
		t.Fatalf("hosted sign-in in OIDC mode: %s", landed.body)
	}
	access := b.state(a.url + "/").Access
	a.expireAt(access, 200*time.Millisecond)
	tokenCalls, refreshCalls := a.stats.tokenCalls.Load(), a.stats.refreshCalls.Load()
	if st := b.state(a.url + "/private"); st.User != "oidc-user" || st.Access == access {
		t.Fatalf("after expiry: %+v", st)
	}
	if a.stats.tokenCalls.Load() != tokenCalls+1 || a.stats.refreshCalls.Load() != refreshCalls {
		t.Errorf("refresh went to the JSON API, not /oauth2/token")
	}
	b2 := newBrowser(t)
	csrf := b2.state(a.url + "/form").CSRF
	r := b2.postForm(a, "/api/auth/password", "/form", map[string][]string{"username": {"oidc-user"}, "password": {password}, "csrf": {csrf}})
	if r.url.Query().Get("error") != "NotSupported" {
		t.Errorf("password sign-in in OIDC mode landed on %s", r.url)
	}
}
