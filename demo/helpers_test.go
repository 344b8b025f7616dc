package demo_test

// The test environment: a real Cognate server and the demo app, each on its
// own httptest listener, and a cookie-keeping client acting as a browser.

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cognate-auth/cognate/demo"
	"github.com/cognate-auth/cognate/server"
	"github.com/cognate-auth/cognate/session"
	"github.com/cognate-auth/cognate/userpool"
)

const (
	password    = "Correct-Horse-9"
	newPassword = "Battery-Staple-7"
	tokenPrefix = "CognitoIdentityServiceProvider."
)

// env is a real Cognate server and the demo app on its own listener,
// signed in through a demo app client made the way `cognate serve` makes
// it (code grant + PKCE, callbacks on the demo's origin, SRP, rotation).
type env struct {
	t        *testing.T
	srv      *server.Server
	svc      *userpool.Service
	issuer   string // Cognate's URL
	url      string // the demo's origin
	pool     string
	clientID string // the demo (HttpOnly) app client
}

type envOptions struct {
	clientMode bool         // mount a ModeClient manager on the pool's web client
	bundle     http.Handler // Options.ClientBundle
	events     bool         // give the demo an events endpoint
	providers  []string     // Options.Providers' answer
}

func newEnv(t *testing.T, o envOptions) *env {
	t.Helper()
	ts := httptest.NewUnstartedServer(nil)
	issuerURL := "http://" + ts.Listener.Addr().String()
	srv, err := server.New(t.Context(), server.Config{
		DataDir: t.TempDir(), PublicURL: issuerURL, Out: io.Discard, DemoAddr: server.DemoOff,
	})
	if err != nil {
		t.Fatalf("server.New: %v", err)
	}
	t.Cleanup(func() { srv.Close() })
	ts.Config.Handler = srv.Handler()
	ts.Start()
	t.Cleanup(ts.Close)

	dts := httptest.NewUnstartedServer(nil)
	demoURL := "http://" + dts.Listener.Addr().String()
	e := &env{t: t, srv: srv, svc: srv.Service(), issuer: issuerURL, url: demoURL, pool: srv.Pool.ID}
	out, err := e.svc.CreateUserPoolClient(t.Context(), userpool.CreateUserPoolClientInput{ClientSettingsInput: userpool.ClientSettingsInput{
		UserPoolId: e.pool, ClientName: "demo",
		ExplicitAuthFlows:               []string{"ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"},
		SupportedIdentityProviders:      []string{"COGNITO"},
		CallbackURLs:                    []string{demoURL + "/api/auth/sign-in-callback"},
		LogoutURLs:                      []string{demoURL + "/api/auth/sign-out-callback"},
		AllowedOAuthFlows:               []string{"code"},
		AllowedOAuthScopes:              []string{"openid", "email", "profile", "aws.cognito.signin.user.admin"},
		AllowedOAuthFlowsUserPoolClient: true,
		RefreshTokenRotation:            &userpool.RefreshTokenRotationType{Feature: "ENABLED", RetryGracePeriodSeconds: 10},
	}})
	if err != nil {
		t.Fatalf("create demo client: %v", err)
	}
	e.clientID = out.UserPoolClient.ClientId
	opts := demo.Options{Session: e.manager(e.clientID, session.ModeServer), ClientBundle: o.bundle}
	if o.providers != nil {
		opts.Providers = func(context.Context) []string { return o.providers }
	}
	if o.clientMode {
		opts.Client = e.manager(srv.Client.ClientID, session.ModeClient)
		opts.ClientConfig = demo.ClientConfig{Region: "us-east-1", UserPoolID: e.pool, ClientID: srv.Client.ClientID, Endpoint: issuerURL}
	}
	if o.events {
		opts.EventsHTTPURL, opts.EventsRealtimeURL = issuerURL+"/event", "ws"+strings.TrimPrefix(issuerURL, "http")+"/event/realtime"
	}
	h, err := demo.New(opts)
	if err != nil {
		t.Fatalf("demo.New: %v", err)
	}
	dts.Config.Handler = h
	dts.Start()
	t.Cleanup(dts.Close)
	return e
}

func (e *env) manager(clientID string, mode session.Mode) *session.Manager {
	e.t.Helper()
	m, err := session.New(session.Config{
		Region: "us-east-1", UserPoolID: e.pool, ClientID: clientID,
		Endpoint: e.issuer, OAuthDomain: e.issuer, Origin: e.url, Mode: mode,
		Scopes:     []string{"openid", "email", "profile", "aws.cognito.signin.user.admin"},
		HTTPClient: session.InProcess(e.srv.Handler()),
	})
	if err != nil {
		e.t.Fatalf("session.New: %v", err)
	}
	return m
}

// user creates a confirmed user with a permanent password.
func (e *env) user(email string) {
	e.t.Helper()
	e.tempUser(email)
	if _, err := e.svc.AdminSetUserPassword(e.t.Context(), userpool.AdminSetUserPasswordInput{
		UserPoolId: e.pool, Username: email, Password: password, Permanent: true,
	}); err != nil {
		e.t.Fatalf("AdminSetUserPassword: %v", err)
	}
}

// tempUser creates a user who must choose a password at first sign-in.
func (e *env) tempUser(email string) {
	e.t.Helper()
	if _, err := e.svc.AdminCreateUser(e.t.Context(), userpool.AdminCreateUserInput{
		UserPoolId: e.pool, Username: email, TemporaryPassword: password, MessageAction: "SUPPRESS",
		UserAttributes: []userpool.AttributeType{{Name: "email", Value: email}, {Name: "email_verified", Value: "true"}},
	}); err != nil {
		e.t.Fatalf("AdminCreateUser: %v", err)
	}
}

func (e *env) addToGroup(email, group string) {
	e.t.Helper()
	ctx := e.t.Context()
	_, _ = e.svc.CreateGroup(ctx, userpool.CreateGroupInput{UserPoolId: e.pool, GroupName: group})
	if _, err := e.svc.AdminAddUserToGroup(ctx, userpool.AdminGroupMembershipInput{UserPoolId: e.pool, Username: email, GroupName: group}); err != nil {
		e.t.Fatalf("AdminAddUserToGroup: %v", err)
	}
}

// browser is a cookie-keeping client that sends what a browser would.
type browser struct {
	e      *env
	jar    *cookiejar.Jar
	follow *http.Client
	stay   *http.Client // does not follow redirects
}

func (e *env) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{
		e: e, jar: jar,
		follow: &http.Client{Jar: jar, Timeout: 10 * time.Second},
		stay: &http.Client{Jar: jar, Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		}},
	}
}

type response struct {
	status int
	body   string
	url    *url.URL // after redirects
	header http.Header
}

func (b *browser) do(c *http.Client, method, path string, form url.Values, hdr map[string]string) response {
	b.e.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(b.e.t.Context(), method, b.e.url+path, body)
	if err != nil {
		b.e.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", b.e.url)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		b.e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return response{status: resp.StatusCode, body: string(raw), url: resp.Request.URL, header: resp.Header}
}

func (b *browser) get(path string) response { return b.do(b.follow, http.MethodGet, path, nil, nil) }

func (b *browser) post(path string, form url.Values) response {
	return b.do(b.follow, http.MethodPost, path, form, nil)
}

var csrfRe = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

func csrfOf(t *testing.T, body string) string {
	t.Helper()
	m := csrfRe.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no csrf_token in page:\n%s", body)
	}
	return html.UnescapeString(m[1])
}

// signIn uses the demo's password form.
func (b *browser) signIn(email, pw string) response {
	b.e.t.Helper()
	p := b.get("/sign-in?redirect=%2Fdashboard")
	return b.post("/sign-in", url.Values{
		"csrf_token": {csrfOf(b.e.t, p.body)}, "username": {email}, "password": {pw}, "redirect": {"/dashboard"},
	})
}

// tokenCookies are the session cookies the browser holds for the demo.
func (b *browser) tokenCookies() []string {
	u, _ := url.Parse(b.e.url)
	var out []string
	for _, c := range b.jar.Cookies(u) {
		if strings.HasPrefix(c.Name, tokenPrefix) {
			out = append(out, c.Name)
		}
	}
	return out
}

// cookie is the value of the demo cookie whose name ends in suffix.
func (b *browser) cookie(suffix string) string {
	u, _ := url.Parse(b.e.url)
	for _, c := range b.jar.Cookies(u) {
		if strings.HasSuffix(c.Name, suffix) {
			return c.Value
		}
	}
	return ""
}

// testid returns the text of the element with data-testid=id, and
// whether there is one.
func testid(body, id string) (string, bool) {
	re := regexp.MustCompile(`data-testid="` + regexp.QuoteMeta(id) + `"[^>]*>([^<]*)<`)
	m := re.FindStringSubmatch(body)
	if m == nil {
		return "", false
	}
	return html.UnescapeString(strings.TrimSpace(m[1])), true
}

func wantTestid(t *testing.T, r response, id, text string) {
	t.Helper()
	got, ok := testid(r.body, id)
	if !ok {
		t.Fatalf("%s: no data-testid=%q in page (status %d):\n%s", r.url, id, r.status, r.body)
	}
	if text != "" && got != text {
		t.Fatalf("%s: data-testid=%q is %q, want %q", r.url, id, got, text)
	}
}

func noTestid(t *testing.T, r response, id string) {
	t.Helper()
	if _, ok := testid(r.body, id); ok || strings.Contains(r.body, `data-testid="`+id+`"`) {
		t.Fatalf("%s: unexpected data-testid=%q in page", r.url, id)
	}
}

func wantStatus(t *testing.T, r response, status int) {
	t.Helper()
	if r.status != status {
		t.Fatalf("%s: status %d, want %d:\n%s", r.url, r.status, status, r.body)
	}
}

// setAmplifyCookies stores tokens under aws-amplify's cookie names.
func (b *browser) setAmplifyCookies(clientID string, res *userpool.AuthenticationResult) {
	b.e.t.Helper()
	parts := strings.Split(res.AccessToken, ".")
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		b.e.t.Fatal(err)
	}
	var claims struct {
		Username string `json:"username"`
	}
	if err := json.Unmarshal(payload, &claims); err != nil || claims.Username == "" {
		b.e.t.Fatalf("access token username: %v", err)
	}
	base := tokenPrefix + clientID + "."
	u, _ := url.Parse(b.e.url)
	b.jar.SetCookies(u, []*http.Cookie{
		{Name: base + "LastAuthUser", Value: claims.Username, Path: "/"},
		{Name: base + claims.Username + ".accessToken", Value: res.AccessToken, Path: "/"},
		{Name: base + claims.Username + ".idToken", Value: res.IdToken, Path: "/"},
		{Name: base + claims.Username + ".refreshToken", Value: res.RefreshToken, Path: "/"},
	})
}
