package oauth_test

// Tests that back claims of docs/SECURITY.md which no other test proves.

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/cognate-auth/cognate/server"
	"github.com/cognate-auth/cognate/userpool"
)

// newLimitedEnv is newEnv with the per-address guess limit on (a burst of
// 3, then nearly nothing) behind a declared proxy on loopback, so that
// X-Forwarded-For names the client as it would behind a real proxy.
func newLimitedEnv(t *testing.T) *env {
	t.Helper()
	ts := httptest.NewUnstartedServer(nil)
	base := "http://" + ts.Listener.Addr().String()
	data := t.TempDir()
	srv, err := server.New(context.Background(), server.Config{
		DataDir: data, PublicURL: base, Out: io.Discard, GuessRate: 0.001, GuessBurst: 3, TrustedProxies: "127.0.0.1,::1",
	})
	if err != nil {
		t.Fatal(err)
	}
	ts.Config.Handler = srv.Handler()
	ts.Start()
	t.Cleanup(func() { ts.Close(); srv.Close() })
	out, err := srv.Service().CreateUserPoolClient(context.Background(), userpool.CreateUserPoolClientInput{ClientSettingsInput: userpool.ClientSettingsInput{
		UserPoolId: srv.Pool.ID, ClientName: "Acme Notes",
		ExplicitAuthFlows:               []string{"ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"},
		AllowedOAuthFlowsUserPoolClient: true,
		AllowedOAuthFlows:               []string{"code"},
		AllowedOAuthScopes:              []string{"openid", "email", "profile"},
		CallbackURLs:                    []string{callback},
		SupportedIdentityProviders:      []string{"COGNITO"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, srv: srv, url: base, data: data, client: out.UserPoolClient}
}

// TestHostedFormsShareTheGuessLimit: the login, sign-up, confirm and
// reset forms draw on the same per-address budget as the JSON API; past
// it every one of them answers 429 with nothing done, while another
// address is unaffected.
func TestHostedFormsShareTheGuessLimit(t *testing.T) {
	e := newLimitedEnv(t)
	// Loopback is a declared proxy here, so the development outbox is
	// closed: the user is made by the admin operations.
	ctx, svc := context.Background(), e.srv.Service()
	if _, err := svc.AdminCreateUser(ctx, userpool.AdminCreateUserInput{
		UserPoolId: e.srv.Pool.ID, Username: "lim@example.com", TemporaryPassword: "Passw0rd!", MessageAction: "SUPPRESS",
		UserAttributes: []userpool.AttributeType{{Name: "email", Value: "lim@example.com"}, {Name: "email_verified", Value: "true"}},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.AdminSetUserPassword(ctx, userpool.AdminSetUserPasswordInput{
		UserPoolId: e.srv.Pool.ID, Username: "lim@example.com", Password: "Passw0rd!", Permanent: true,
	}); err != nil {
		t.Fatal(err)
	}
	q := e.authorizeQuery("")
	b := e.browser()
	path, lp := b.loginPage(q)
	token := lp.csrf(t)
	const xff = "X-Forwarded-For"
	login := func(addr, pw string) page {
		return b.post(path, url.Values{"csrf_token": {token}, "username": {"lim@example.com"}, "password": {pw}}, xff, addr)
	}
	for i := range 3 {
		if p := login("203.0.113.7", "Wrong-passw0rd"); p.status != http.StatusBadRequest {
			t.Fatalf("guess %d: %d", i+1, p.status)
		}
	}
	limited := func(what string, p page) {
		t.Helper()
		if p.status != http.StatusTooManyRequests || !strings.Contains(p.body, "Too many attempts") || p.header.Get("Location") != "" {
			t.Errorf("%s past the limit: %d %s", what, p.status, p.header.Get("Location"))
		}
	}
	limited("login, right password", login("203.0.113.7", "Passw0rd!"))
	rq := strings.TrimPrefix(path, "/login?")
	users := 0
	if out, err := svc.ListUsers(ctx, userpool.ListUsersInput{UserPoolId: e.srv.Pool.ID}); err == nil {
		users = len(out.Users)
	}
	limited("sign-up", b.post("/signup?"+rq, url.Values{"csrf_token": {token}, "username": {"new@example.com"}, "password": {"Passw0rd!"}, "email": {"new@example.com"}, "name": {"N"}}, xff, "203.0.113.7"))
	limited("confirm", b.post("/confirm?"+rq, url.Values{"csrf_token": {token}, "username": {"lim@example.com"}, "code": {"123456"}}, xff, "203.0.113.7"))
	limited("forgot password", b.post("/forgotPassword?"+rq, url.Values{"csrf_token": {token}, "username": {"lim@example.com"}}, xff, "203.0.113.7"))
	limited("reset", b.post("/confirmForgotPassword?"+rq, url.Values{"csrf_token": {token}, "username": {"lim@example.com"}, "code": {"123456"}, "password": {"N3w-Passw0rd!"}}, xff, "203.0.113.7"))
	if out, err := svc.ListUsers(ctx, userpool.ListUsersInput{UserPoolId: e.srv.Pool.ID}); err != nil || len(out.Users) != users {
		t.Errorf("a throttled sign-up created a user (%v)", err)
	}
	// A client-prepended address does not escape the count.
	limited("login with a prepended hop", login("198.51.100.1, 203.0.113.7", "Passw0rd!"))
	// Another address has its own budget, and the user is not locked.
	if p := login("203.0.113.8", "Passw0rd!"); p.status != http.StatusFound {
		t.Fatalf("sign-in from another address: %d", p.status)
	}
}

// TestPagesHaveNoInlineScript: the hosted pages carry no inline script
// (no <script> without src, no on… handler attributes), and their CSP
// would not run one: it allows no 'unsafe-inline' or 'unsafe-eval'.
func TestPagesHaveNoInlineScript(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	path, _ := b.loginPage(e.authorizeQuery(""))
	rq := strings.TrimPrefix(path, "/login?")
	scripts := regexp.MustCompile(`(?is)<script\b([^>]*)>(.*?)</script>`)
	tags := regexp.MustCompile(`<[a-zA-Z][^>]*>`)
	handler := regexp.MustCompile(`(?i)\son[a-z]+\s*=`)
	for _, p := range []string{"/login", "/signup", "/confirm", "/forgotPassword", "/confirmForgotPassword"} {
		pg := b.get(p + "?" + rq + "&username=x%40example.com")
		if pg.status != http.StatusOK {
			t.Fatalf("%s: %d", p, pg.status)
		}
		for _, m := range scripts.FindAllStringSubmatch(pg.body, -1) {
			if !strings.Contains(m[1], "src=") || strings.TrimSpace(m[2]) != "" {
				t.Errorf("%s has an inline script: %q", p, m[0])
			}
		}
		for _, tag := range tags.FindAllString(pg.body, -1) {
			if handler.MatchString(tag) {
				t.Errorf("%s has an inline event handler: %q", p, tag)
			}
		}
		csp := pg.header.Get("Content-Security-Policy")
		if !strings.Contains(csp, "default-src 'self'") || strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
			t.Errorf("%s CSP %q", p, csp)
		}
	}
}

// TestSessionValuesEndServerSide: a pool session cookie's value stops
// working server-side when the browser signs in again (a fresh value
// replaces it) and when it signs out through /logout: the old value,
// planted back in a browser, signs nobody in.
func TestSessionValuesEndServerSide(t *testing.T) {
	e := newEnv(t)
	e.user("gone@example.com", "Passw0rd!")
	q := e.authorizeQuery("")
	base, _ := url.Parse(e.url)
	b := e.browser()
	value := func() string {
		for _, c := range b.hc.Jar.Cookies(base) {
			if c.Name == "cognate_session_"+e.srv.Pool.ID {
				return c.Value
			}
		}
		t.Fatal("no pool session cookie")
		return ""
	}
	replay := func(v string) bool {
		r := e.browser()
		r.hc.Jar.SetCookies(base, []*http.Cookie{{Name: "cognate_session_" + e.srv.Pool.ID, Value: v, Path: "/"}})
		return r.hasSession(q)
	}
	b.signIn(q, "gone@example.com", "Passw0rd!")
	first := value()
	if !replay(first) {
		t.Fatal("a copied session value does not carry the session (the test proves nothing)")
	}
	b.signIn(e.authorizeQuery("", "prompt", "login"), "gone@example.com", "Passw0rd!")
	second := value()
	if second == first || replay(first) {
		t.Fatalf("after a new sign-in the old value still signs in (new value differs: %v)", second != first)
	}
	if !replay(second) {
		t.Fatal("the new value does not carry the session")
	}
	b.get("/logout?" + url.Values{"client_id": {e.client.ClientId}, "logout_uri": {"http://localhost:8080/signed-out"}}.Encode())
	if replay(second) {
		t.Fatal("the session cookie's value still signs in after /logout")
	}
}
