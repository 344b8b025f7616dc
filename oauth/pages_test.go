package oauth_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/cognate-auth/cognate/oauth"
	"github.com/cognate-auth/cognate/userpool"
)

// loginPage fetches the login page of a fresh authorization request.
func (b *browser) loginPage(q url.Values) (string, page) {
	b.t.Helper()
	path := "/login?" + q.Encode()
	p := b.get(path)
	if p.status != http.StatusOK {
		b.t.Fatalf("login page: %d\n%s", p.status, p.body)
	}
	return path, p
}

// hasSession reports whether the browser is signed in to the pool.
func (b *browser) hasSession(q url.Values) bool {
	b.t.Helper()
	q2 := url.Values{}
	for k, v := range q {
		q2[k] = v
	}
	q2.Set("prompt", "none")
	loc := b.get("/oauth2/authorize?" + q2.Encode()).location(b.t)
	return loc.Query().Get("code") != ""
}

func TestCSRF(t *testing.T) {
	e := newEnv(t)
	e.user("fay@example.com", "Passw0rd!")
	q := e.authorizeQuery("")
	creds := func(token string) url.Values {
		return url.Values{"csrf_token": {token}, "username": {"fay@example.com"}, "password": {"Passw0rd!"}}
	}
	cases := []struct {
		name  string
		token func(real string) string
		hdr   []string
	}{
		{"forged token", func(string) string { return "forged" }, nil},
		{"missing token", func(string) string { return "" }, nil},
		{"cross-site Origin", func(real string) string { return real }, []string{"Origin", "https://evil.example"}},
		{"null Origin", func(real string) string { return real }, []string{"Origin", "null"}},
		{"cross-site Referer", func(real string) string { return real }, []string{"Origin", "", "Referer", "https://evil.example/page"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := e.browser()
			path, lp := b.loginPage(q)
			p := b.post(path, creds(c.token(lp.csrf(t))), c.hdr...)
			if p.status != http.StatusForbidden || p.header.Get("Location") != "" || !strings.Contains(p.body, `class="error banner"`) {
				t.Fatalf("status %d Location %q", p.status, p.header.Get("Location"))
			}
			if b.hasSession(q) {
				t.Fatal("a refused post started a session")
			}
		})
	}
	t.Run("token of another browser", func(t *testing.T) {
		_, other := e.browser().loginPage(q)
		b := e.browser()
		path, _ := b.loginPage(q)
		if p := b.post(path, creds(other.csrf(t))); p.status != http.StatusForbidden {
			t.Fatalf("status %d", p.status)
		}
	})
	t.Run("no Origin nor Referer, valid token", func(t *testing.T) {
		b := e.browser()
		path, lp := b.loginPage(q)
		if p := b.post(path, creds(lp.csrf(t)), "Origin", ""); p.status != http.StatusFound {
			t.Fatalf("status %d", p.status)
		}
	})
}

func TestPageHeadersAndCookies(t *testing.T) {
	e := newEnv(t)
	e.user("gus@example.com", "Passw0rd!")
	b := e.browser()
	path, p := b.loginPage(e.authorizeQuery(""))
	csp := p.header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'self'", "frame-ancestors 'none'", "form-action 'self' http://localhost:8080", "base-uri 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if p.header.Get("X-Frame-Options") != "DENY" || p.header.Get("Referrer-Policy") != "same-origin" || p.header.Get("Cache-Control") != "no-store" {
		t.Errorf("headers %v", p.header)
	}
	if c := p.header.Get("Set-Cookie"); !strings.Contains(c, "cognate_csrf=") || !strings.Contains(c, "HttpOnly") || !strings.Contains(c, "SameSite=Strict") {
		t.Errorf("csrf cookie %q", c)
	}
	res := b.post(path, url.Values{"csrf_token": {p.csrf(t)}, "username": {"gus@example.com"}, "password": {"Passw0rd!"}})
	c := res.header.Get("Set-Cookie")
	if !strings.Contains(c, "cognate_session_"+e.srv.Pool.ID+"=") || !strings.Contains(c, "HttpOnly") || !strings.Contains(c, "SameSite=Lax") ||
		!strings.Contains(c, "Path=/") || !regexp.MustCompile(`Max-Age=3[56]\d\d;`).MatchString(c) {
		t.Errorf("session cookie %q", c)
	}
}

func TestLoginErrors(t *testing.T) {
	e := newEnv(t)
	e.user("hal@example.com", "Passw0rd!")
	b := e.browser()
	path, lp := b.loginPage(e.authorizeQuery(""))
	token := lp.csrf(t)
	p := b.post(path, url.Values{"csrf_token": {token}, "username": {"hal@example.com"}, "password": {"wrong"}})
	if p.status != http.StatusBadRequest || !strings.Contains(p.body, "Incorrect email or password.") {
		t.Fatalf("wrong password: %d\n%s", p.status, p.body)
	}
	if !regexp.MustCompile(`id="password"[^>]*aria-invalid="true"[^>]*aria-describedby="password-error"`).MatchString(p.body) ||
		!strings.Contains(p.body, `<div class="error" id="password-error">`) {
		t.Fatalf("password error not tied to its field:\n%s", p.body)
	}
	if !regexp.MustCompile(`id="username"[^>]*value="hal@example.com"`).MatchString(p.body) || strings.Contains(p.body, "wrong") {
		t.Fatal("username not kept, or password echoed")
	}
	p = b.post(path, url.Values{"csrf_token": {token}, "username": {""}, "password": {""}})
	if p.status != http.StatusBadRequest || !strings.Contains(p.body, "Enter your email address.") || !strings.Contains(p.body, "Enter your password.") {
		t.Fatalf("empty form: %d", p.status)
	}
	locked := false
	for range 8 {
		p = b.post(path, url.Values{"csrf_token": {token}, "username": {"hal@example.com"}, "password": {"wrong"}})
		locked = locked || strings.Contains(p.body, "Too many failed attempts. Try again in a few minutes.")
	}
	if !locked {
		t.Fatalf("no lockout message after repeated failures:\n%s", p.body)
	}
}

func TestSignUpConfirmSignIn(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	q := e.authorizeQuery("")
	sp := b.get("/signup?" + q.Encode())
	if sp.status != http.StatusOK || !strings.Contains(sp.body, "At least 8 characters") || !strings.Contains(sp.body, `autocomplete="new-password"`) {
		t.Fatalf("signup page: %d\n%s", sp.status, sp.body)
	}
	form := url.Values{"csrf_token": {sp.csrf(t)}, "username": {"ivy@example.com"}, "name": {"Ivy"}, "password": {"weak"}}
	p := b.post("/signup?"+q.Encode(), form)
	m := regexp.MustCompile(`(?s)<div class="error" id="password-error">(.*?)</div>`).FindStringSubmatch(p.body)
	if p.status != http.StatusBadRequest || m == nil || !strings.Contains(m[1], "meet these requirements:") ||
		!strings.Contains(m[1], "At least 8 characters") || !strings.Contains(m[1], "A number") || strings.Contains(m[1], "lowercase") {
		t.Fatalf("weak password: %d\n%s", p.status, p.body)
	}
	form.Set("password", "Passw0rd!")
	p = b.post("/signup?"+q.Encode(), form)
	confirm := p.location(t)
	if confirm.Path != "/confirm" || confirm.Query().Get("username") != "ivy@example.com" {
		t.Fatalf("after sign-up: %d %s", p.status, confirm)
	}
	if p := b.post("/signup?"+q.Encode(), form); !strings.Contains(p.body, "An account with this email already exists.") {
		t.Fatalf("existing account: %d", p.status)
	}

	cp := b.get(confirm.String())
	if !strings.Contains(cp.body, `autocomplete="one-time-code"`) || !strings.Contains(cp.body, `id="resend"`) {
		t.Fatalf("confirm page:\n%s", cp.body)
	}
	cf := url.Values{"csrf_token": {cp.csrf(t)}, "username": {"ivy@example.com"}, "code": {"000000"}, "action": {"confirm"}}
	if p := b.post(confirm.String(), cf); !strings.Contains(p.body, "That code isn") || !strings.Contains(p.body, `aria-describedby="code-error"`) {
		t.Fatalf("wrong code: %d\n%s", p.status, p.body)
	}
	if p := b.post(confirm.String(), url.Values{"csrf_token": {cp.csrf(t)}, "username": {"ivy@example.com"}, "action": {"resend"}}); !strings.Contains(p.body, "We sent a new code") {
		t.Fatalf("resend: %d\n%s", p.status, p.body)
	}
	cf.Set("code", e.latestCode("ivy@example.com"))
	p = b.post(confirm.String(), cf)
	login := p.location(t)
	if login.Path != "/login" || login.Query().Get("notice") != "confirmed" {
		t.Fatalf("after confirm: %s", login)
	}
	lp := b.get(login.String())
	if !strings.Contains(lp.body, "Your account is confirmed.") || !strings.Contains(lp.body, `value="ivy@example.com"`) {
		t.Fatalf("login after confirm:\n%s", lp.body)
	}
	res := b.post(login.String(), url.Values{"csrf_token": {lp.csrf(t)}, "username": {"ivy@example.com"}, "password": {"Passw0rd!"}})
	if loc := res.location(t); !strings.HasPrefix(loc.String(), callback) || loc.Query().Get("code") == "" {
		t.Fatalf("sign-in after confirm: %s", loc)
	}
}

func TestUnconfirmedLoginGoesToConfirm(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if _, err := e.srv.Service().SignUp(ctx, userpool.SignUpInput{ClientId: e.client.ClientId, Username: "jo@example.com", Password: "Passw0rd!"}); err != nil {
		t.Fatal(err)
	}
	first := e.latestCode("jo@example.com")
	b := e.browser()
	path, lp := b.loginPage(e.authorizeQuery(""))
	p := b.post(path, url.Values{"csrf_token": {lp.csrf(t)}, "username": {"jo@example.com"}, "password": {"Passw0rd!"}})
	loc := p.location(t)
	if loc.Path != "/confirm" || loc.Query().Get("notice") != "not_confirmed" || e.latestCode("jo@example.com") == first {
		t.Fatalf("unconfirmed sign-in went to %s (fresh code sent: %v)", loc, e.latestCode("jo@example.com") != first)
	}
}

func TestForgotPassword(t *testing.T) {
	e := newEnv(t)
	e.user("kim@example.com", "Passw0rd!")
	b := e.browser()
	q := e.authorizeQuery("")
	fp := b.get("/forgotPassword?" + q.Encode())
	p := b.post("/forgotPassword?"+q.Encode(), url.Values{"csrf_token": {fp.csrf(t)}, "username": {"kim@example.com"}})
	reset := p.location(t)
	if reset.Path != "/confirmForgotPassword" {
		t.Fatalf("after forgot: %d %s", p.status, reset)
	}
	rp := b.get(reset.String())
	form := url.Values{"csrf_token": {rp.csrf(t)}, "username": {"kim@example.com"}, "code": {e.latestCode("kim@example.com")}, "password": {"NewPassw0rd!"}}
	p = b.post(reset.String(), form)
	if loc := p.location(t); loc.Path != "/login" || loc.Query().Get("notice") != "reset" {
		t.Fatalf("after reset: %d %s", p.status, loc)
	}
	if code := b.signIn(q, "kim@example.com", "NewPassw0rd!"); code == "" {
		t.Fatal("no code with the new password")
	}
}

func TestNewPasswordRequired(t *testing.T) {
	e := newEnv(t)
	_, err := e.srv.Service().AdminCreateUser(context.Background(), userpool.AdminCreateUserInput{
		UserPoolId: e.srv.Pool.ID, Username: "lu@example.com", TemporaryPassword: "TempPassw0rd!", MessageAction: "SUPPRESS",
		UserAttributes: []userpool.AttributeType{{Name: "email", Value: "lu@example.com"}, {Name: "email_verified", Value: "true"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	b := e.browser()
	q := e.authorizeQuery("")
	path, lp := b.loginPage(q)
	p := b.post(path, url.Values{"csrf_token": {lp.csrf(t)}, "username": {"lu@example.com"}, "password": {"TempPassw0rd!"}})
	m := regexp.MustCompile(`name="session" value="([^"]+)"`).FindStringSubmatch(p.body)
	if p.status != http.StatusOK || m == nil || !strings.Contains(p.body, `id="set-password"`) {
		t.Fatalf("new-password page: %d\n%s", p.status, p.body)
	}
	session := strings.ReplaceAll(m[1], "&#43;", "+")
	form := url.Values{"csrf_token": {p.csrf(t)}, "session": {session}, "password": {"short"}}
	if p := b.post("/newPassword?"+q.Encode(), form); p.status != http.StatusBadRequest || !strings.Contains(p.body, "At least 8 characters") {
		t.Fatalf("weak new password: %d\n%s", p.status, p.body)
	}
	form.Set("password", "MyOwnPassw0rd!")
	p = b.post("/newPassword?"+q.Encode(), form)
	if loc := p.location(t); !strings.HasPrefix(loc.String(), callback) || loc.Query().Get("code") == "" {
		t.Fatalf("after new password: %d %s", p.status, loc)
	}
}

func TestLogout(t *testing.T) {
	e := newEnv(t)
	e.user("max@example.com", "Passw0rd!")
	b := e.browser()
	q := e.authorizeQuery("")
	b.signIn(q, "max@example.com", "Passw0rd!")
	id := e.client.ClientId

	p := b.get("/logout?" + url.Values{"client_id": {id}, "logout_uri": {"https://evil.example/"}}.Encode())
	if p.status != http.StatusBadRequest || p.header.Get("Location") != "" || !b.hasSession(q) {
		t.Fatalf("unregistered logout_uri: %d %q", p.status, p.header.Get("Location"))
	}
	p = b.get("/logout?" + url.Values{"client_id": {id}, "logout_uri": {"http://localhost:8080/signed-out"}}.Encode())
	if loc := p.location(t); loc.String() != "http://localhost:8080/signed-out" || b.hasSession(q) {
		t.Fatalf("logout: %s, session kept: %v", loc, b.hasSession(q))
	}

	b.signIn(q, "max@example.com", "Passw0rd!")
	lq := url.Values{"client_id": {id}, "redirect_uri": {callback}, "response_type": {"code"}, "state": {"s"}}
	p = b.get("/logout?" + lq.Encode())
	if loc := p.location(t); loc.Path != "/login" || loc.Query().Get("redirect_uri") != callback || b.hasSession(q) {
		t.Fatalf("logout to login: %s", loc)
	}
	lq.Set("redirect_uri", "https://evil.example/cb")
	if p := b.get("/logout?" + lq.Encode()); p.status != http.StatusBadRequest || p.header.Get("Location") != "" {
		t.Fatalf("unregistered redirect_uri: %d", p.status)
	}
}

func TestLanguages(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	_, p := b.loginPage(e.authorizeQuery("", "lang", "fr"))
	if !strings.Contains(p.body, `<html lang="fr"`) || !strings.Contains(p.body, "Se connecter à Acme Notes") || !strings.Contains(p.body, "Mot de passe oublié") {
		t.Fatalf("lang=fr:\n%s", p.body)
	}
	req, _ := http.NewRequest(http.MethodGet, e.url+"/login?"+e.authorizeQuery("").Encode(), nil)
	req.Header.Set("Accept-Language", "de-DE, zh-CN;q=0.9, en;q=0.5")
	p = b.do(req)
	if !strings.Contains(p.body, `<html lang="zh-Hans"`) || !strings.Contains(p.body, "登录 Acme Notes") {
		t.Fatalf("Accept-Language zh:\n%s", p.body)
	}
	_, p = b.loginPage(e.authorizeQuery("", "lang", "xx"))
	if !strings.Contains(p.body, `<html lang="en"`) || !strings.Contains(p.body, "Sign in to Acme Notes") {
		t.Fatal("unknown lang did not fall back to English")
	}
}

func TestOversizedForm(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	path, lp := b.loginPage(e.authorizeQuery(""))
	p := b.post(path, url.Values{"csrf_token": {lp.csrf(t)}, "username": {strings.Repeat("a", 20<<10)}})
	if p.status != http.StatusRequestEntityTooLarge || !strings.Contains(p.body, "too large") {
		t.Fatalf("oversized form: %d", p.status)
	}
	p = b.post(path, url.Values{"csrf_token": {lp.csrf(t)}, "username": {strings.Repeat("a", 4000)}, "password": {"x"}})
	if p.status != http.StatusBadRequest {
		t.Fatalf("oversized field: %d", p.status)
	}
}

func TestDiscoveryAdvertisesEndpoints(t *testing.T) {
	e := newEnv(t)
	p := e.browser().get("/" + e.srv.Pool.ID + "/.well-known/openid-configuration")
	for _, want := range []string{
		`"authorization_endpoint":"` + e.url + `/oauth2/authorize"`, `"token_endpoint":"` + e.url + `/oauth2/token"`,
		`"userinfo_endpoint":"` + e.url + `/oauth2/userInfo"`, `"revocation_endpoint":"` + e.url + `/oauth2/revoke"`,
		`"code_challenge_methods_supported":["S256"]`, `"response_types_supported":["code","token"]`,
		`"token_endpoint_auth_methods_supported":["client_secret_basic","client_secret_post"]`,
	} {
		if !strings.Contains(p.body, want) {
			t.Errorf("discovery lacks %s:\n%s", want, p.body)
		}
	}
}

// TestUnstorableInputRefused: a NUL or invalid UTF-8 in a query or form
// parameter is refused with a 400 before any handler runs, on every
// backend alike (PostgreSQL could not store it).
func TestUnstorableInputRefused(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	path, lp := b.loginPage(e.authorizeQuery(""))
	for name, v := range map[string]string{"NUL": "ann\x00@example.com", "invalid UTF-8": "ann\xff@example.com"} {
		p := b.post(path, url.Values{"csrf_token": {lp.csrf(t)}, "username": {v}, "password": {"x"}})
		if p.status != http.StatusBadRequest || !strings.Contains(p.body, "NUL") {
			t.Errorf("%s in the login form: %d %s", name, p.status, p.body)
		}
		p = b.get(oauth.AuthorizePath + "?" + e.authorizeQuery("", "nonce", v).Encode())
		if p.status != http.StatusBadRequest {
			t.Errorf("%s in the nonce: %d %s", name, p.status, p.body)
		}
		resp, err := http.PostForm(e.url+oauth.TokenPath, url.Values{"grant_type": {"authorization_code"}, "client_id": {v}, "code": {"x"}})
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), `"invalid_request"`) {
			t.Errorf("%s at the token endpoint: %d %s", name, resp.StatusCode, body)
		}
	}
}
