package integration_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"golang.org/x/oauth2"
)

// TestOAuthLogout: /logout ends the pool session and goes to a
// registered sign-out URL, or back to the login page.
func TestOAuthLogout(t *testing.T) {
	t.Parallel()
	e := newOAuthEnv(t)
	client, _ := e.oauthClient(clientSpec{})
	email := "out@example.com"
	e.newUser(email)
	b := e.newBrowser()
	conf := e.rpConfig(client, "")
	b.login(conf, email, password)

	// An unregistered logout_uri: no redirect anywhere.
	l := b.get(e.origin + "/logout?" + url.Values{"client_id": {client}, "logout_uri": {rpOther}}.Encode())
	if l.callback != nil || l.status < 400 || l.status > 499 || l.header.Get("Location") != "" {
		t.Errorf("logout with an unregistered logout_uri: %s", l)
	}

	otherOut := "https://" + rpHost + "/other-signed-out"
	e.oauthClient(clientSpec{logouts: []string{otherOut}})
	l = b.get(e.origin + "/logout?" + url.Values{"client_id": {client}, "logout_uri": {otherOut}}.Encode())
	if l.callback != nil || l.status < 400 || l.status > 499 {
		t.Errorf("logout with another client's logout_uri: %s", l)
	}
	l = b.get(e.origin + "/logout?" + url.Values{"client_id": {"nosuchclient"}, "logout_uri": {rpSignOut}}.Encode())
	if l.callback != nil || l.status < 400 || l.status > 499 {
		t.Errorf("logout with an unknown client: %s", l)
	}

	l = b.get(e.origin + "/logout?" + url.Values{"client_id": {client}, "logout_uri": {rpSignOut}}.Encode())
	if cb := l.wantCallback(t, rpSignOut); cb.String() != rpSignOut {
		t.Errorf("logout redirected to %s, want exactly %s", cb, rpSignOut)
	}
	if c := b.sessionCookie(); c != nil {
		t.Errorf("the session cookie survived logout: %v", c)
	}
	// The session is over server-side too: the next authorization asks
	// for a password.
	r := newCodeRequest(conf)
	b.get(r.url).wantPage(t, "/login")

	// Replaying the old cookie value does not bring the session back.
	b2 := e.newBrowser()
	b2.login(conf, email, password)
	saved := b2.sessionCookie()
	b2.get(e.origin+"/logout?"+url.Values{"client_id": {client}, "logout_uri": {rpSignOut}}.Encode()).wantCallback(t, rpSignOut)
	b3 := e.newBrowser()
	u, _ := url.Parse(e.origin + "/")
	b3.c.Jar.SetCookies(u, []*http.Cookie{{Name: saved.Name, Value: saved.Value, Path: "/"}})
	r = newCodeRequest(conf)
	b3.get(r.url).wantPage(t, "/login")

	// The redirect_uri form of /logout goes back to the login page, which
	// then completes that authorization request.
	b4 := e.newBrowser()
	b4.login(conf, email, password)
	l = b4.get(e.origin + "/logout?" + url.Values{
		"client_id": {client}, "redirect_uri": {rpCallback}, "response_type": {"code"}, "state": {"st8"}, "scope": {"openid"},
	}.Encode())
	page := l.wantPage(t, "/login")
	if got := page.url.Query().Get("client_id"); got != client {
		t.Errorf("login page after logout has client_id %q", got)
	}
	if b4.sessionCookie() != nil {
		t.Errorf("session cookie kept by the redirect_uri form of logout")
	}
	if code := b4.signIn(page, email, password).wantCode(t, "st8"); code == "" {
		t.Errorf("no code")
	}
}

// TestOAuthSessionSecurity: the pool session cookie cannot be fixed by an
// attacker, is renewed at each sign-in, honours prompt=none, and ends
// with the user's ability to sign in.
func TestOAuthSessionSecurity(t *testing.T) {
	t.Parallel()
	e := newOAuthEnv(t)
	client, _ := e.oauthClient(clientSpec{})
	email := "sess@example.com"
	e.newUser(email)
	conf := e.rpConfig(client, "")
	root, _ := url.Parse(e.origin + "/")

	t.Run("fixation", func(t *testing.T) {
		b := e.newBrowser()
		planted := "attacker-chosen-session-value-0123456789"
		b.c.Jar.SetCookies(root, []*http.Cookie{{Name: "cognate_session_" + e.pool, Value: planted, Path: "/"}})
		r := newCodeRequest(conf)
		// A planted value is no session.
		page := b.get(r.url).wantPage(t, "/login")
		b.signIn(page, email, password).wantCode(t, r.state)
		if c := b.sessionCookie(); c == nil || c.Value == planted {
			t.Fatalf("after sign-in the session cookie is %v (the planted value was kept)", c)
		}
	})
	t.Run("renewed at each sign-in", func(t *testing.T) {
		b := e.newBrowser()
		b.login(conf, email, password)
		first := b.sessionCookie()
		b.login(conf, email, password, oauth2.SetAuthURLParam("prompt", "login"))
		second := b.sessionCookie()
		if first == nil || second == nil || first.Value == second.Value {
			t.Errorf("the session cookie was not renewed by a new sign-in: %v → %v", first, second)
		}
	})
	t.Run("prompt=none", func(t *testing.T) {
		b := e.newBrowser()
		r := newCodeRequest(conf, oauth2.SetAuthURLParam("prompt", "none"))
		cb := b.get(r.url).wantCallback(t, rpCallback)
		if q := cb.Query(); q.Get("error") != "login_required" && q.Get("error") != "interaction_required" || q.Get("state") != r.state || q.Has("code") {
			t.Errorf("prompt=none without a session: %s", cb)
		}
		b.login(conf, email, password)
		r = newCodeRequest(conf, oauth2.SetAuthURLParam("prompt", "none"))
		e.exchange(conf, r, b.get(r.url).wantCode(t, r.state))
	})
	t.Run("disabled user", func(t *testing.T) {
		other := "disabled@example.com"
		e.newUser(other)
		b := e.newBrowser()
		rPending, pending := b.login(conf, other, password) // a code not yet redeemed
		r1, c1 := func() (codeRequest, string) {
			r := newCodeRequest(conf)
			return r, b.get(r.url).wantCode(t, r.state)
		}()
		tok := e.exchange(conf, r1, c1)
		must(e.api.AdminDisableUser(e.ctx, &cip.AdminDisableUserInput{UserPoolId: aws.String(e.pool), Username: aws.String(other)}))(t)
		// The live session no longer authorizes.
		r := newCodeRequest(conf)
		if l := b.get(r.url); l.callback != nil && l.callback.Query().Has("code") {
			t.Errorf("a disabled user's session still yields codes")
		}
		// An outstanding code, the refresh token and userInfo are refused.
		if _, err := conf.Exchange(e.ctxRP(), pending, oauth2.VerifierOption(rPending.verifier)); err == nil {
			t.Errorf("a disabled user's outstanding code was redeemed")
		}
		wantOAuthError(t, e.refreshRaw(client, tok.RefreshToken), 400, "invalid_grant")
		if res := e.userInfo(http.MethodGet, tok.AccessToken); res.status != http.StatusUnauthorized {
			t.Errorf("userInfo for a disabled user: %s", res)
		}
		// The hosted login refuses the user too, with no session.
		b2 := e.newBrowser()
		l := b2.signIn(b2.get(newCodeRequest(conf).url).wantPage(t, "/login"), other, password)
		if l.callback != nil || b2.sessionCookie() != nil || errorText(l.body) == "" {
			t.Errorf("a disabled user signed in on the hosted page: %s", l)
		}
	})
}
