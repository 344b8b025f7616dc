package gateway

// The test world: a real Cognate server (in process, behind a real
// listener, every call counted) as the pool; an app that echoes what it
// receives; the gateway in front of the app; and a browser (an
// http.Client with a cookie jar) that signs in through the gateway's
// password route.

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/cognate-auth/cognate/server"
	"github.com/cognate-auth/cognate/session"
	"github.com/cognate-auth/cognate/userpool"
)

const password = "Correct-Horse-9"

// pool is one Cognate server shared by the package's tests.
type pool struct {
	srv *server.Server
	url string
	id  string
	// refreshes counts GetTokensFromRefreshToken calls.
	refreshes atomic.Int64
}

var (
	sharedPool    *pool
	sharedPoolErr error
	poolOnce      sync.Once
	poolDir       string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if sharedPool != nil {
		sharedPool.srv.Close()
	}
	if poolDir != "" {
		os.RemoveAll(poolDir)
	}
	os.Exit(code)
}

func newPool(t testing.TB) *pool {
	t.Helper()
	poolOnce.Do(func() { sharedPool, sharedPoolErr = startPool() })
	if sharedPoolErr != nil {
		t.Fatalf("starting Cognate: %v", sharedPoolErr)
	}
	return sharedPool
}

func startPool() (*pool, error) {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "gateway-test-")
	if err != nil {
		return nil, err
	}
	poolDir = dir
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &pool{url: "http://" + ln.Addr().String()}
	if p.srv, err = server.New(ctx, server.Config{DataDir: dir, PublicURL: p.url, Out: io.Discard, TLSAddr: server.TLSOff}); err != nil {
		return nil, err
	}
	inner := p.srv.Handler()
	go http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.Header.Get("X-Amz-Target"), ".GetTokensFromRefreshToken") {
			p.refreshes.Add(1)
		}
		inner.ServeHTTP(w, r)
	}))
	out, err := p.srv.Service().CreateUserPool(ctx, userpool.CreateUserPoolInput{PoolName: "gateway"})
	if err != nil {
		return nil, err
	}
	p.id = out.UserPool.Id
	return p, nil
}

// client creates an app client for origin with 5-minute tokens and
// refresh-token rotation.
func (p *pool) client(t testing.TB, origin string) string {
	t.Helper()
	out, err := p.srv.Service().CreateUserPoolClient(context.Background(), userpool.CreateUserPoolClientInput{ClientSettingsInput: userpool.ClientSettingsInput{
		UserPoolId: p.id, ClientName: "gw",
		AllowedOAuthFlowsUserPoolClient: true, AllowedOAuthFlows: []string{"code"},
		AllowedOAuthScopes:   []string{"openid", "email", "profile"},
		CallbackURLs:         []string{origin + "/api/auth/sign-in-callback"},
		LogoutURLs:           []string{origin + "/api/auth/sign-out-callback"},
		ExplicitAuthFlows:    []string{"ALLOW_USER_SRP_AUTH"},
		RefreshTokenRotation: &userpool.RefreshTokenRotationType{Feature: "ENABLED", RetryGracePeriodSeconds: 0},
		AccessTokenValidity:  5, IdTokenValidity: 5,
		TokenValidityUnits: &userpool.TokenValidityUnitsType{AccessToken: "minutes", IdToken: "minutes"},
	}})
	if err != nil {
		t.Fatalf("CreateUserPoolClient: %v", err)
	}
	return out.UserPoolClient.ClientId
}

// user creates a confirmed user with an email, in groups.
func (p *pool) user(t testing.TB, name string, groups ...string) {
	t.Helper()
	ctx := context.Background()
	s := p.srv.Service()
	s.AdminDeleteUser(ctx, userpool.AdminUserInput{UserPoolId: p.id, Username: name})
	if _, err := s.AdminCreateUser(ctx, userpool.AdminCreateUserInput{
		UserPoolId: p.id, Username: name, TemporaryPassword: password, MessageAction: "SUPPRESS",
		UserAttributes: []userpool.AttributeType{{Name: "email", Value: name + "@example.com"}, {Name: "email_verified", Value: "true"}},
	}); err != nil {
		t.Fatalf("AdminCreateUser: %v", err)
	}
	if _, err := s.AdminSetUserPassword(ctx, userpool.AdminSetUserPasswordInput{UserPoolId: p.id, Username: name, Password: password, Permanent: true}); err != nil {
		t.Fatalf("AdminSetUserPassword: %v", err)
	}
	for _, g := range groups {
		s.CreateGroup(ctx, userpool.CreateGroupInput{UserPoolId: p.id, GroupName: g})
		if _, err := s.AdminAddUserToGroup(ctx, userpool.AdminGroupMembershipInput{UserPoolId: p.id, Username: name, GroupName: g}); err != nil {
			t.Fatalf("AdminAddUserToGroup: %v", err)
		}
	}
}

// clock is the gateway's clock: real time, or a fixed instant.
type clock struct {
	mu    sync.Mutex
	fixed time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.fixed.IsZero() {
		return c.fixed
	}
	return time.Now()
}

func (c *clock) set(t time.Time) {
	c.mu.Lock()
	c.fixed = t
	c.mu.Unlock()
}

// seen is what the app received, as it echoes it.
type seen struct {
	Path    string      `json:"path"`
	Method  string      `json:"method"`
	Host    string      `json:"host"`
	Header  http.Header `json:"header"`
	Cookies string      `json:"cookies"`
	Body    int         `json:"body"`
}

// echoApp answers every request with what it received (seen), except:
// /sse streams two events with a pause the test ends, /ws echoes
// WebSocket messages, /cached answers Cache-Control: public, /sets-token
// tries to write a token cookie.
type echoApp struct {
	srv     *httptest.Server
	release chan struct{}
	client  atomic.Value // the app client id, for /sets-token
}

func newEchoApp(t *testing.T) *echoApp {
	a := &echoApp{release: make(chan struct{})}
	a.srv = httptest.NewServer(http.HandlerFunc(a.serve))
	t.Cleanup(a.srv.Close)
	return a
}

func (a *echoApp) serve(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/sse":
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, "data: first\n\n")
		http.NewResponseController(w).Flush()
		select {
		case <-a.release:
		case <-r.Context().Done():
			return
		}
		io.WriteString(w, "data: second\n\n")
		return
	case "/ws":
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		user := r.Header.Get("X-Cognate-User")
		for {
			typ, msg, err := c.Read(r.Context())
			if err != nil {
				return
			}
			if err := c.Write(r.Context(), typ, []byte(user+":"+string(msg))); err != nil {
				return
			}
		}
	case "/cached":
		w.Header().Set("Cache-Control", "public, max-age=3600")
		w.Header().Set("Expires", time.Now().Add(time.Hour).UTC().Format(http.TimeFormat))
	case "/sets-token":
		w.Header().Add("Set-Cookie", "CognitoIdentityServiceProvider."+a.client.Load().(string)+".someone.accessToken=stale; Path=/app")
		w.Header().Add("Set-Cookie", "theme=dark; Path=/")
	}
	n, _ := io.Copy(io.Discard, r.Body)
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(seen{Path: r.URL.RequestURI(), Method: r.Method, Host: r.Host, Header: r.Header, Cookies: r.Header.Get("Cookie"), Body: int(n)})
}

// env is a gateway in front of an echo app, with its own app client.
type env struct {
	t      *testing.T
	pool   *pool
	app    *echoApp
	gw     *Gateway
	url    string
	client string
	clock  *clock
}

type envOpts struct {
	config func(*Config)
}

func newEnv(t *testing.T, o envOpts) *env {
	t.Helper()
	p := newPool(t)
	app := newEchoApp(t)
	ts := httptest.NewUnstartedServer(nil)
	e := &env{t: t, pool: p, app: app, url: "http://" + ts.Listener.Addr().String(), clock: &clock{}}
	e.client = p.client(t, e.url)
	app.client.Store(e.client)
	cfg := Config{
		Session: session.Config{
			UserPoolID: p.id, ClientID: e.client, Endpoint: p.url, OAuthDomain: p.url, Origin: e.url,
			Now: e.clock.Now, ClockSkew: -1, RefreshBefore: 2 * time.Second,
		},
		Upstream: app.srv.URL,
		Rules: []Rule{
			{Path: "/public", Access: Public}, {Path: "/sse", Access: Public},
			{Path: "/admin", Access: NeedGroup, Group: "admin"},
		},
	}
	if o.config != nil {
		o.config(&cfg)
	}
	gw, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	e.gw = gw
	ts.Config.Handler = gw.Handler()
	ts.Config.MaxHeaderBytes = gw.cfg.MaxHeaderBytes
	ts.Config.ReadHeaderTimeout = DefaultReadHeaderTimeout
	ts.Start()
	t.Cleanup(ts.Close)
	return e
}

// browser is a user agent with a cookie jar that does not follow
// redirects.
type browser struct {
	t *testing.T
	c *http.Client
}

func newBrowser(t *testing.T) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, c: &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// do sends a request with headers (name, value pairs) and returns the
// response with its body read.
func (b *browser) do(method, u string, body io.Reader, headers ...string) (*http.Response, string) {
	b.t.Helper()
	req, err := http.NewRequestWithContext(b.t.Context(), method, u, body)
	if err != nil {
		b.t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Add(headers[i], headers[i+1])
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp, string(data)
}

// seen GETs a page through the gateway and decodes what the app saw.
func (b *browser) seen(u string, headers ...string) (*http.Response, seen) {
	b.t.Helper()
	resp, body := b.do(http.MethodGet, u, nil, headers...)
	var s seen
	if err := json.Unmarshal([]byte(body), &s); err != nil {
		b.t.Fatalf("GET %s: %d %s", u, resp.StatusCode, body)
	}
	return resp, s
}

// signIn signs b in as user through the gateway's password route (the
// CSRF token comes from the header the gateway gives the app) and
// returns the access token.
func (e *env) signIn(b *browser, user, redirect string) *http.Response {
	e.t.Helper()
	_, s := b.seen(e.url+"/public/login", "Accept", "text/html")
	csrf := s.Header.Get("X-Cognate-Csrf-Token")
	if csrf == "" {
		e.t.Fatalf("the app got no CSRF token: %v", s.Header)
	}
	form := url.Values{"username": {user}, "password": {password}, "csrf": {csrf}, "redirect": {redirect}}
	resp, body := b.do(http.MethodPost, e.url+"/api/auth/password", strings.NewReader(form.Encode()),
		"Content-Type", "application/x-www-form-urlencoded", "Origin", e.url)
	if resp.StatusCode != http.StatusSeeOther {
		e.t.Fatalf("password sign-in: %d %s", resp.StatusCode, body)
	}
	return resp
}

// cookie is the value of the browser's cookie for the gateway whose
// name ends with suffix.
func (e *env) cookie(b *browser, suffix string) string {
	u, _ := url.Parse(e.url)
	for _, c := range b.c.Jar.Cookies(u) {
		if strings.HasSuffix(c.Name, suffix) {
			return c.Value
		}
	}
	return ""
}

// cookieHeader is the Cookie header the browser sends the gateway.
func (e *env) cookieHeader(b *browser) string {
	u, _ := url.Parse(e.url)
	var parts []string
	for _, c := range b.c.Jar.Cookies(u) {
		parts = append(parts, c.Name+"="+c.Value)
	}
	return strings.Join(parts, "; ")
}

// forwardedCookie is the value of the cookie in a Cookie header whose
// name ends with suffix.
func forwardedCookie(header, suffix string) string {
	for _, p := range strings.Split(header, "; ") {
		if k, v, ok := strings.Cut(p, "="); ok && strings.HasSuffix(k, suffix) {
			return v
		}
	}
	return ""
}

// expire sets the gateway's clock just past the access token's exp,
// first waiting for the pool's clock to pass the token's iat second, so
// that a refresh yields tokens that expire later than the clock.
func (e *env) expire(access string) {
	e.t.Helper()
	e.clockAtExp(access, 200*time.Millisecond)
}

// clockAtExp sets the gateway's clock to the access token's exp plus
// offset (negative: before it), as expire does.
func (e *env) clockAtExp(access string, offset time.Duration) {
	e.t.Helper()
	parts := strings.Split(access, ".")
	var c struct{ Exp, Iat int64 }
	if len(parts) != 3 {
		e.t.Fatalf("not a JWT: %.30q", access)
	}
	raw, _ := base64.RawURLEncoding.DecodeString(parts[1])
	if err := json.Unmarshal(raw, &c); err != nil {
		e.t.Fatalf("JWT payload: %v", err)
	}
	for !time.Now().After(time.Unix(c.Iat+1, 0)) {
		time.Sleep(20 * time.Millisecond)
	}
	e.clock.set(time.Unix(c.Exp, 0).Add(offset))
	e.t.Cleanup(func() { e.clock.set(time.Time{}) })
}
