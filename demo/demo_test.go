package demo_test

import (
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cognate-auth/cognate/demo"
	"github.com/cognate-auth/cognate/session"
	"github.com/cognate-auth/cognate/userpool"
)

func TestSignedOutPages(t *testing.T) {
	e := newEnv(t, envOptions{})
	tests := []struct {
		path, wantPath string
		status         int
		ids            []string
	}{
		{"/", "/", 200, []string{"sidebar-sign-in", "sidebar-sign-up", "home-hosted-sign-in", "home-password-sign-in", "home-amplify"}},
		{"/sign-in", "/sign-in", 200, []string{"sign-in-form", "sign-in-hosted", "sidebar-sign-in"}},
		{"/sign-in/challenge", "/sign-in", 200, []string{"sign-in-form"}},
		{"/amplify/", "/amplify/", 200, []string{"amplify-off"}},
		{"/amplify/me", "/amplify/me", 200, []string{"amplify-off"}},
		{"/no/such/page", "/no/such/page", 404, []string{"error", "sidebar-sign-in"}},
		{"/amplify/nope", "/amplify/nope", 404, []string{"error"}},
		{"/amplify/app.js", "/amplify/app.js", 404, []string{"error"}},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			r := e.browser().get(tt.path)
			wantStatus(t, r, tt.status)
			if r.url.Path != tt.wantPath {
				t.Fatalf("landed on %s, want %s", r.url.Path, tt.wantPath)
			}
			for _, id := range tt.ids {
				wantTestid(t, r, id, "")
			}
			noTestid(t, r, "sidebar-email")
			if ct := r.header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
				t.Fatalf("Content-Type %q", ct)
			}
			if csp := r.header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") {
				t.Fatalf("Content-Security-Policy %q", csp)
			}
		})
	}
	home := e.browser().get("/")
	if !strings.Contains(home.body, `href="/api/auth/sign-in?redirect=%2F"`) || !strings.Contains(home.body, `href="/api/auth/sign-up?redirect=%2F"`) {
		t.Fatalf("sidebar links do not point at the session routes:\n%s", home.body)
	}
	if nf := e.browser().get("/no/such/page"); !strings.Contains(nf.body, `href="/api/auth/sign-in?redirect=%2F"`) {
		t.Fatalf("signing in from a 404 should return home:\n%s", nf.body)
	}
	css := e.browser().get("/assets/app.css")
	wantStatus(t, css, 200)
	if !strings.HasPrefix(css.header.Get("Content-Type"), "text/css") || !strings.Contains(css.body, "prefers-color-scheme: dark") {
		t.Fatalf("stylesheet: %q", css.header.Get("Content-Type"))
	}
}

func TestProtectedPagesNeedSignIn(t *testing.T) {
	e := newEnv(t, envOptions{})
	for _, p := range []string{"/dashboard", "/admin", "/session", "/session?refresh=1"} {
		t.Run(p, func(t *testing.T) {
			b := e.browser()
			r := b.do(b.stay, http.MethodGet, p, nil, nil)
			wantStatus(t, r, http.StatusSeeOther)
			want := "/api/auth/sign-in?redirect=" + url.QueryEscape(p)
			if loc := r.header.Get("Location"); loc != want {
				t.Fatalf("Location %q, want %q", loc, want)
			}
			r = b.do(b.stay, http.MethodGet, p, nil, map[string]string{"Accept": "application/json", "Sec-Fetch-Mode": "cors"})
			wantStatus(t, r, http.StatusUnauthorized)
		})
	}
}

func TestPasswordSignIn(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.user("ada@example.com")
	b := e.browser()
	r := b.signIn("ada@example.com", password)
	wantStatus(t, r, 200)
	if r.url.Path != "/dashboard" {
		t.Fatalf("landed on %s, want /dashboard:\n%s", r.url, r.body)
	}
	wantTestid(t, r, "sidebar-email", "ada@example.com")
	wantTestid(t, r, "dashboard-email", "ada@example.com")
	wantTestid(t, r, "sign-out", "Sign out")
	noTestid(t, r, "admin-badge")
	noTestid(t, r, "sidebar-sign-in")
	if len(b.tokenCookies()) == 0 {
		t.Fatal("no session cookies after sign-in")
	}
	// Signed in, the sign-in page sends the user on.
	r = b.do(b.stay, http.MethodGet, "/sign-in?redirect=%2Fsession", nil, nil)
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/session" {
		t.Fatalf("signed-in /sign-in: %d %q", r.status, r.header.Get("Location"))
	}
	r = b.get("/")
	wantTestid(t, r, "sidebar-email", "ada@example.com")
	wantTestid(t, r, "home-dashboard", "")
}

func TestPasswordSignInRejects(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.user("bob@example.com")
	tests := []struct {
		name   string
		form   func(csrf string) url.Values
		hdr    map[string]string
		status int
		errMsg string
	}{
		{"wrong password", func(c string) url.Values {
			return url.Values{"csrf_token": {c}, "username": {"bob@example.com"}, "password": {"Wrong-Pass-1"}}
		}, nil, 401, "Incorrect email or password."},
		{"unknown user", func(c string) url.Values {
			return url.Values{"csrf_token": {c}, "username": {"nobody@example.com"}, "password": {password}}
		}, nil, 401, "Incorrect email or password."},
		{"empty password", func(c string) url.Values {
			return url.Values{"csrf_token": {c}, "username": {"bob@example.com"}}
		}, nil, 400, "Enter your email and password."},
		{"oversized username", func(c string) url.Values {
			return url.Values{"csrf_token": {c}, "username": {strings.Repeat("x", 300)}, "password": {password}}
		}, nil, 401, "Incorrect email or password."},
		{"no csrf token", func(string) url.Values {
			return url.Values{"username": {"bob@example.com"}, "password": {password}}
		}, nil, 403, "This form has expired"},
		{"forged csrf token", func(string) url.Values {
			return url.Values{"csrf_token": {"forged"}, "username": {"bob@example.com"}, "password": {password}}
		}, nil, 403, "This form has expired"},
		{"cross-site origin", func(c string) url.Values {
			return url.Values{"csrf_token": {c}, "username": {"bob@example.com"}, "password": {password}}
		}, map[string]string{"Origin": "http://evil.example"}, 403, "This form has expired"},
		{"cross-site fetch metadata", func(c string) url.Values {
			return url.Values{"csrf_token": {c}, "username": {"bob@example.com"}, "password": {password}}
		}, map[string]string{"Sec-Fetch-Site": "cross-site"}, 403, "This form has expired"},
		{"oversized form", func(c string) url.Values {
			return url.Values{"csrf_token": {c}, "username": {"bob@example.com"}, "password": {strings.Repeat("p", 20000)}}
		}, nil, 413, "The form was too large."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := e.browser()
			p := b.get("/sign-in")
			r := b.do(b.stay, http.MethodPost, "/sign-in", tt.form(csrfOf(t, p.body)), tt.hdr)
			wantStatus(t, r, tt.status)
			msg, ok := testid(r.body, "sign-in-error")
			if !ok || !strings.HasPrefix(msg, tt.errMsg) {
				t.Fatalf("sign-in-error %q, want %q", msg, tt.errMsg)
			}
			if c := b.tokenCookies(); len(c) != 0 {
				t.Fatalf("session cookies after a failed sign-in: %v", c)
			}
			wantTestid(t, r, "sign-in-form", "")
		})
	}
}

func TestSignInRedirectStaysOnSite(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.user("cy@example.com")
	for _, target := range []string{"//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:alert(1)", "/sign-in"} {
		t.Run(target, func(t *testing.T) {
			b := e.browser()
			p := b.get("/sign-in?redirect=" + url.QueryEscape(target))
			if !strings.Contains(p.body, `name="redirect" value="/dashboard"`) {
				t.Fatalf("the form keeps redirect %q", target)
			}
			r := b.do(b.stay, http.MethodPost, "/sign-in", url.Values{
				"csrf_token": {csrfOf(t, p.body)}, "username": {"cy@example.com"}, "password": {password}, "redirect": {target},
			}, nil)
			if r.status != http.StatusSeeOther || r.header.Get("Location") != "/dashboard" {
				t.Fatalf("POST with redirect %q: %d → %q", target, r.status, r.header.Get("Location"))
			}
		})
	}
}

func TestNewPasswordChallenge(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.tempUser("dee@example.com")
	b := e.browser()
	r := b.signIn("dee@example.com", password)
	wantStatus(t, r, 200)
	if r.url.Path != "/sign-in/challenge" {
		t.Fatalf("landed on %s, want the challenge page:\n%s", r.url, r.body)
	}
	if !strings.Contains(r.body, `data-challenge="NEW_PASSWORD_REQUIRED"`) {
		t.Fatalf("not the new-password page:\n%s", r.body)
	}
	csrf := csrfOf(t, r.body)
	answer := func(pw, confirm string) response {
		return b.post("/sign-in/challenge", url.Values{
			"csrf_token": {csrf}, "redirect": {"/session"}, "new_password": {pw}, "confirm_password": {confirm},
		})
	}
	r = answer(newPassword, "something-else")
	wantStatus(t, r, http.StatusBadRequest)
	wantTestid(t, r, "challenge-error", "The passwords do not match.")
	r = answer("short", "short")
	wantStatus(t, r, http.StatusBadRequest)
	wantTestid(t, r, "challenge-error", "")
	r = answer(newPassword, newPassword)
	wantStatus(t, r, 200)
	if r.url.Path != "/session" {
		t.Fatalf("landed on %s, want /session:\n%s", r.url, r.body)
	}
	wantTestid(t, r, "sidebar-email", "dee@example.com")
	// The challenge is spent: answering again starts over.
	r = b.do(b.stay, http.MethodPost, "/sign-in/challenge", url.Values{
		"csrf_token": {csrf}, "new_password": {newPassword}, "confirm_password": {newPassword},
	}, nil)
	wantStatus(t, r, http.StatusBadRequest)
	wantTestid(t, r, "sign-in-error", "Your sign-in has expired. Please sign in again.")
	// The new password works.
	r = e.browser().signIn("dee@example.com", newPassword)
	wantTestid(t, r, "sidebar-email", "dee@example.com")
}

func TestAdminPage(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.user("eve@example.com")
	b := e.browser()
	b.signIn("eve@example.com", password)
	r := b.get("/admin")
	wantStatus(t, r, http.StatusForbidden)
	if !strings.Contains(r.body, `data-status="403"`) {
		t.Fatalf("403 is not the app's page:\n%s", r.body)
	}
	wantTestid(t, r, "sidebar-email", "eve@example.com")
	r = b.do(b.stay, http.MethodGet, "/admin", nil, map[string]string{"Accept": "application/json", "Sec-Fetch-Mode": "cors"})
	wantStatus(t, r, http.StatusForbidden)
	if !strings.HasPrefix(r.header.Get("Content-Type"), "application/json") {
		t.Fatalf("JSON 403 became %q", r.header.Get("Content-Type"))
	}

	e.addToGroup("eve@example.com", "admin")
	// The old tokens do not carry the group yet.
	wantStatus(t, b.get("/admin"), http.StatusForbidden)
	// A new sign-in does.
	fresh := e.browser()
	fresh.signIn("eve@example.com", password)
	r = fresh.get("/admin")
	wantStatus(t, r, 200)
	wantTestid(t, r, "admin-panel", "")
	wantTestid(t, r, "admin-badge", "admin")
	wantTestid(t, r, "admin-user", "eve@example.com")
	// So does a forced refresh of the old session.
	r = b.get("/session?refresh=1")
	wantStatus(t, r, 200)
	wantTestid(t, r, "admin-badge", "admin")
	wantStatus(t, b.get("/admin"), 200)
}

func TestSessionPage(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.user("fay@example.com")
	b := e.browser()
	b.signIn("fay@example.com", password)
	r := b.get("/session")
	wantStatus(t, r, 200)
	wantTestid(t, r, "session-email", "fay@example.com")
	wantTestid(t, r, "session-expires-in", "")
	wantTestid(t, r, "force-refresh", "Force a token refresh")
	for _, want := range []string{
		`data-testid="id-claims"`, `data-name="email"`, `data-name="token_use"`,
		`data-testid="access-claims"`, `data-name="client_id"`, e.clientID,
	} {
		if !strings.Contains(r.body, want) {
			t.Fatalf("session page lacks %s:\n%s", want, r.body)
		}
	}
	noTestid(t, r, "attributes")

	r = b.get("/session?attributes=1")
	wantStatus(t, r, 200)
	if !strings.Contains(r.body, `data-testid="attribute" data-name="email"><td>email</td><td>fay@example.com</td>`) {
		t.Fatalf("FetchUserAttributes did not show the email:\n%s", r.body)
	}
	noTestid(t, r, "attributes-error")

	before := b.cookie(".accessToken")
	r = b.do(b.stay, http.MethodGet, "/session?refresh=1", nil, nil)
	wantStatus(t, r, 200)
	wantTestid(t, r, "notice", "")
	if !strings.Contains(strings.Join(r.header.Values("Set-Cookie"), "\n"), ".accessToken=") {
		t.Fatalf("forced refresh set no access token cookie: %v", r.header.Values("Set-Cookie"))
	}
	if cc := r.header.Get("Cache-Control"); !strings.Contains(cc, "no-store") {
		t.Fatalf("Cache-Control %q", cc)
	}
	if after := b.cookie(".accessToken"); after == "" || after == before {
		t.Fatal("the forced refresh did not replace the access token cookie")
	}
}

func TestSignOut(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.user("gus@example.com")
	b := e.browser()
	r := b.signIn("gus@example.com", password)
	m := regexp.MustCompile(`href="([^"]+)" id="sign-out"`).FindStringSubmatch(r.body)
	if m == nil {
		t.Fatalf("no sign-out link:\n%s", r.body)
	}
	r = b.do(b.follow, http.MethodGet, html.UnescapeString(m[1]), nil, map[string]string{"Sec-Fetch-Site": "same-origin"})
	wantStatus(t, r, 200)
	if r.url.String() != e.url+"/" {
		t.Fatalf("sign-out landed on %s", r.url)
	}
	wantTestid(t, r, "sidebar-sign-in", "Sign in")
	noTestid(t, r, "sidebar-email")
	if c := b.tokenCookies(); len(c) != 0 {
		t.Fatalf("cookies left after sign-out: %v", c)
	}
	r = b.do(b.stay, http.MethodGet, "/dashboard", nil, nil)
	wantStatus(t, r, http.StatusSeeOther)
}

func TestLivePanel(t *testing.T) {
	e := newEnv(t, envOptions{events: true})
	e.user("hal@example.com")
	b := e.browser()
	r := b.signIn("hal@example.com", password)
	wantTestid(t, r, "live-status", "Offline")
	ws := "ws" + strings.TrimPrefix(e.issuer, "http")
	for _, want := range []string{
		`data-realtime-url="` + ws + `/event/realtime"`, `data-http-url="` + e.issuer + `/event"`,
		`data-channel="/default/demo-chat"`, `data-token-url="/api/auth/token"`, `data-email="hal@example.com"`,
		`<script src="/assets/live.js" defer></script>`, `data-testid="live-messages"`, `data-testid="live-input"`,
	} {
		if !strings.Contains(r.body, want) {
			t.Fatalf("dashboard lacks %s:\n%s", want, r.body)
		}
	}
	if csp := r.header.Get("Content-Security-Policy"); !strings.Contains(csp, "connect-src 'self' "+e.issuer+" "+ws) {
		t.Fatalf("CSP does not allow the events API: %q", csp)
	}
	js := b.get("/assets/live.js")
	wantStatus(t, js, 200)
	for _, want := range []string{"aws-appsync-event-ws", "connection_init", "'X-Cognate-Token': '1'"} {
		if !strings.Contains(js.body, want) {
			t.Fatalf("live.js lacks %s", want)
		}
	}
	// The token endpoint the panel uses answers this browser's scripts.
	r = b.do(b.follow, http.MethodGet, "/api/auth/token", nil, map[string]string{"X-Cognate-Token": "1", "Sec-Fetch-Site": "same-origin"})
	wantStatus(t, r, 200)
	var tok struct {
		AccessToken string `json:"accessToken"`
		ExpiresAt   int64  `json:"expiresAt"`
	}
	if err := json.Unmarshal([]byte(r.body), &tok); err != nil || strings.Count(tok.AccessToken, ".") != 2 || tok.ExpiresAt <= time.Now().Unix() {
		t.Fatalf("token endpoint: %v %s", err, r.body)
	}

	off := newEnv(t, envOptions{})
	off.user("ida@example.com")
	r = off.browser().signIn("ida@example.com", password)
	wantTestid(t, r, "live-off", "")
	noTestid(t, r, "live")
}

func TestClientMode(t *testing.T) {
	bundle := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		io.WriteString(w, "window.cognateAmplify = {};")
	})
	e := newEnv(t, envOptions{clientMode: true, bundle: bundle})
	e.user("jo@example.com")
	b := e.browser()

	r := b.get("/amplify/")
	wantStatus(t, r, 200)
	wantTestid(t, r, "amplify-sign-in-form", "")
	cfg := regexp.MustCompile(`<script type="application/json" id="amplify-config">([^<]*)</script>`).FindStringSubmatch(r.body)
	if cfg == nil {
		t.Fatalf("no #amplify-config:\n%s", r.body)
	}
	var got struct {
		Auth struct {
			Cognito struct{ UserPoolID, UserPoolClientID, UserPoolEndpoint string }
		}
	}
	if err := json.Unmarshal([]byte(cfg[1]), &got); err != nil {
		t.Fatalf("#amplify-config: %v: %s", err, cfg[1])
	}
	if c := got.Auth.Cognito; c.UserPoolID != e.pool || c.UserPoolClientID != e.srv.Client.ClientID || c.UserPoolEndpoint != e.issuer {
		t.Fatalf("#amplify-config = %+v", c)
	}
	nonce := regexp.MustCompile(`<script nonce="([^"]+)">`).FindStringSubmatch(r.body)
	if nonce == nil || !strings.Contains(r.header.Get("Content-Security-Policy"), "'nonce-"+nonce[1]+"'") {
		t.Fatalf("inline script nonce does not match the CSP %q", r.header.Get("Content-Security-Policy"))
	}
	js := b.get("/amplify/app.js")
	if js.status != 200 || js.body != "window.cognateAmplify = {};" {
		t.Fatalf("/amplify/app.js: %d %q", js.status, js.body)
	}

	r = b.get("/amplify/me")
	if !strings.Contains(r.body, `data-testid="amplify-me" data-state="signed-out"`) {
		t.Fatalf("/amplify/me without cookies:\n%s", r.body)
	}

	// Sign in the way aws-amplify does and store the cookies it writes.
	out, err := e.svc.InitiateAuth(t.Context(), userpool.InitiateAuthInput{
		AuthFlow: "USER_PASSWORD_AUTH", ClientId: e.srv.Client.ClientID,
		AuthParameters: map[string]string{"USERNAME": "jo@example.com", "PASSWORD": password},
	})
	if err != nil || out.AuthenticationResult == nil {
		t.Fatalf("InitiateAuth: %v %+v", err, out)
	}
	b.setAmplifyCookies(e.srv.Client.ClientID, out.AuthenticationResult)

	r = b.get("/amplify/me")
	wantStatus(t, r, 200)
	wantTestid(t, r, "amplify-me-email", "jo@example.com")
	wantTestid(t, r, "sidebar-email", "jo@example.com")
	wantTestid(t, r, "sidebar-manage", "")
	// The HttpOnly side knows nothing of this session.
	wantStatus(t, b.do(b.stay, http.MethodGet, "/dashboard", nil, nil), http.StatusSeeOther)

	r = b.do(b.stay, http.MethodGet, "/amplify/me?refresh=1", nil, nil)
	wantStatus(t, r, 200)
	wantTestid(t, r, "notice", "")
	var rewritten bool
	for _, c := range r.header.Values("Set-Cookie") {
		if strings.Contains(c, ".accessToken=ey") {
			rewritten = true
			if strings.Contains(strings.ToLower(c), "httponly") {
				t.Fatalf("client-mode cookie is HttpOnly: %s", c)
			}
		}
	}
	if !rewritten {
		t.Fatalf("server-side refresh wrote no access token: %v", r.header.Values("Set-Cookie"))
	}
	wantTestid(t, b.get("/amplify/me"), "amplify-me-email", "jo@example.com")

	nb := newEnv(t, envOptions{clientMode: true})
	r = nb.browser().get("/amplify/")
	wantTestid(t, r, "amplify-no-bundle", "")
	if !strings.Contains(r.body, nb.pool) {
		t.Fatal("the build instructions do not show the configuration")
	}
	wantStatus(t, nb.browser().get("/amplify/app.js"), 404)
}

func TestMethodsAndBadInput(t *testing.T) {
	e := newEnv(t, envOptions{})
	tests := []struct {
		method, path string
		status       int
	}{
		{http.MethodPost, "/dashboard", 405},
		{http.MethodDelete, "/", 405},
		{http.MethodPut, "/sign-in", 405},
		{http.MethodPatch, "/sign-in/challenge", 405},
		{http.MethodPost, "/amplify/me", 405},
		{http.MethodGet, "/%ff%fe", 404},
		{http.MethodGet, "/session/extra", 404},
		{http.MethodHead, "/", 200},
		{http.MethodGet, "/sign-in?redirect=%00%ff", 200},
		{http.MethodGet, "/assets/missing.css", 404},
		{http.MethodGet, "/assets/", 404},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			b := e.browser()
			r := b.do(b.stay, tt.method, tt.path, nil, nil)
			wantStatus(t, r, tt.status)
			if tt.status == 405 && r.header.Get("Allow") == "" {
				t.Fatal("405 without Allow")
			}
		})
	}
	b := e.browser()
	r := b.do(b.stay, http.MethodGet, "/amplify", nil, nil)
	if r.status != http.StatusMovedPermanently || r.header.Get("Location") != "/amplify/" {
		t.Fatalf("/amplify: %d %q", r.status, r.header.Get("Location"))
	}
	// A challenge answer with no challenge pending starts over.
	p := b.get("/sign-in")
	r = b.do(b.stay, http.MethodPost, "/sign-in/challenge", url.Values{"csrf_token": {csrfOf(t, p.body)}, "code": {"123456"}}, nil)
	wantStatus(t, r, http.StatusBadRequest)
	wantTestid(t, r, "sign-in-error", "Your sign-in has expired. Please sign in again.")
	// Garbage session cookies are a signed-out visitor, not an error.
	u, _ := url.Parse(e.url)
	b.jar.SetCookies(u, []*http.Cookie{
		{Name: tokenPrefix + e.clientID + ".LastAuthUser", Value: "x", Path: "/"},
		{Name: tokenPrefix + e.clientID + ".x.accessToken", Value: "not.a.jwt", Path: "/"},
	})
	r = b.get("/")
	wantStatus(t, r, 200)
	wantTestid(t, r, "sidebar-sign-in", "Sign in")
}

func TestNewValidatesOptions(t *testing.T) {
	e := newEnv(t, envOptions{})
	m := e.manager(e.clientID, session.ModeServer)
	tests := []struct {
		name string
		opts demo.Options
	}{
		{"no session", demo.Options{}},
		{"http realtime URL", demo.Options{Session: m, EventsRealtimeURL: "http://localhost/event/realtime"}},
		{"relative events URL", demo.Options{Session: m, EventsRealtimeURL: "ws://localhost/event/realtime", EventsHTTPURL: "/event"}},
		{"wildcard channel", demo.Options{Session: m, EventsRealtimeURL: "ws://localhost/event/realtime", EventsChannel: "/default/*"}},
		{"bad endpoint", demo.Options{Session: m, ClientConfig: demo.ClientConfig{Endpoint: "localhost:9229"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := demo.New(tt.opts); err == nil {
				t.Fatal("New accepted invalid options")
			}
		})
	}
	if _, err := demo.New(demo.Options{Session: m}); err != nil {
		t.Fatalf("New with only a Session: %v", err)
	}
}

// TestProviderButtons: the home page offers each identity provider of the
// demo's client, through the session library's ?provider=, which sends
// the browser to the authorization endpoint with identity_provider.
func TestProviderButtons(t *testing.T) {
	for _, tc := range []struct {
		name      string
		providers []string
	}{{"none", nil}, {"two", []string{"Okta", "Google"}}} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, envOptions{providers: tc.providers})
			home := e.browser().get("/")
			if n := strings.Count(home.body, `data-testid="home-provider-`); n != len(tc.providers) {
				t.Fatalf("%d provider buttons, want %d", n, len(tc.providers))
			}
			for _, p := range tc.providers {
				m := regexp.MustCompile(`href="([^"]+)" data-testid="home-provider-` + p + `"`).FindStringSubmatch(home.body)
				if m == nil {
					t.Fatalf("no button for %s", p)
				}
				c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
				resp, err := c.Get(e.url + html.UnescapeString(m[1]))
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				loc, err := url.Parse(resp.Header.Get("Location"))
				if err != nil || loc.Path != "/oauth2/authorize" || loc.Query().Get("identity_provider") != p {
					t.Fatalf("%s button leads to %q (%d)", p, resp.Header.Get("Location"), resp.StatusCode)
				}
			}
		})
	}
}
