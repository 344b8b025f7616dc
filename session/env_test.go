package session_test

// The test world: a real Cognate server (in process, behind an httptest
// listener) as the issuer, an app server mounting a session.Manager, and
// a browser (an http.Client with a cookie jar) that signs in through
// Cognate's hosted pages or the app's password form.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cognate-auth/cognate/server"
	"github.com/cognate-auth/cognate/session"
	"github.com/cognate-auth/cognate/userpool"
)

const (
	password    = "Correct-Horse-9"
	newPassword = "Battery-Staple-7"
)

// idp is one Cognate server shared by the package's tests (RSA key
// generation makes a server slow to start), with a pool whose usernames
// are free-form. Tests never share an app client or a user: counters and
// the outage switch are per app client.
type idp struct {
	srv     *server.Server
	ln      net.Listener
	url     string
	pool    string
	handler http.Handler
	mu      sync.Mutex
	stats   map[string]*clientStats
}

// clientStats are one app client's issuer calls, and its outage switch.
type clientStats struct {
	// refreshCalls counts GetTokensFromRefreshToken calls; tokenCalls
	// POST /oauth2/token.
	refreshCalls, tokenCalls atomic.Int64
	// down makes the JSON API and the OAuth token and revoke endpoints
	// answer 503 for this client (the JWKS stays up).
	down atomic.Bool
}

var (
	sharedIDP     *idp
	sharedIDPErr  error
	sharedIDPOnce sync.Once
	sharedIDPDir  string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if sharedIDP != nil {
		sharedIDP.ln.Close()
		sharedIDP.srv.Close()
	}
	if sharedIDPDir != "" {
		os.RemoveAll(sharedIDPDir)
	}
	os.Exit(code)
}

// newIDP returns the shared Cognate server, starting it on first use.
func newIDP(t testing.TB) *idp {
	t.Helper()
	sharedIDPOnce.Do(func() { sharedIDP, sharedIDPErr = startIDP() })
	if sharedIDPErr != nil {
		t.Fatalf("starting Cognate: %v", sharedIDPErr)
	}
	return sharedIDP
}

func startIDP() (*idp, error) {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "session-test-")
	if err != nil {
		return nil, err
	}
	sharedIDPDir = dir
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &idp{ln: ln, url: "http://" + ln.Addr().String(), stats: map[string]*clientStats{}}
	srv, err := server.New(ctx, server.Config{DataDir: dir, PublicURL: p.url, Out: io.Discard, TLSAddr: server.TLSOff})
	if err != nil {
		return nil, err
	}
	p.srv = srv
	inner := srv.Handler()
	p.handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		target := r.Header.Get("X-Amz-Target")
		var cs *clientStats
		if target != "" || r.URL.Path == "/oauth2/token" || r.URL.Path == "/oauth2/revoke" {
			cs = p.clientOf(r)
		}
		if cs != nil {
			if strings.HasSuffix(target, ".GetTokensFromRefreshToken") {
				cs.refreshCalls.Add(1)
			}
			if r.URL.Path == "/oauth2/token" {
				cs.tokenCalls.Add(1)
			}
			if cs.down.Load() {
				http.Error(w, `{"__type":"InternalErrorException","message":"down for the test"}`, http.StatusServiceUnavailable)
				return
			}
		}
		inner.ServeHTTP(w, r)
	})
	go http.Serve(ln, p.handler)
	out, err := srv.Service().CreateUserPool(ctx, userpool.CreateUserPoolInput{
		PoolName: "names",
		Schema: []userpool.SchemaAttributeType{
			{Name: "bio", AttributeDataType: "String", StringAttributeConstraints: &userpool.StringAttributeConstraints{MaxLength: "2048"}},
			{Name: "motto", AttributeDataType: "String", StringAttributeConstraints: &userpool.StringAttributeConstraints{MaxLength: "2048"}},
		},
	})
	if err != nil {
		return nil, err
	}
	p.pool = out.UserPool.Id
	return p, nil
}

// clientOf finds the app client a JSON API or OAuth request names (its
// body is read and restored).
func (p *idp) clientOf(r *http.Request) *clientStats {
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	var in struct{ ClientId string }
	id := ""
	if json.Unmarshal(body, &in) == nil && in.ClientId != "" {
		id = in.ClientId
	} else if v, err := url.ParseQuery(string(body)); err == nil && v.Get("client_id") != "" {
		id = v.Get("client_id")
	} else if u, _, ok := r.BasicAuth(); ok {
		id = u
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stats[id]
}

func (p *idp) statsOf(client string) *clientStats {
	p.mu.Lock()
	defer p.mu.Unlock()
	cs := p.stats[client]
	if cs == nil {
		cs = &clientStats{}
		p.stats[client] = cs
	}
	return cs
}

// clientOpts shape the app client.
type clientOpts struct {
	rotation bool
}

// client creates an OAuth app client whose callback and sign-out URLs are
// on origin, with 5-minute access and id tokens.
func (p *idp) client(t testing.TB, origin string, o clientOpts) string {
	t.Helper()
	in := userpool.CreateUserPoolClientInput{ClientSettingsInput: userpool.ClientSettingsInput{
		UserPoolId: p.pool, ClientName: "app",
		AllowedOAuthFlowsUserPoolClient: true, AllowedOAuthFlows: []string{"code"},
		AllowedOAuthScopes:  []string{"openid", "email", "profile", "aws.cognito.signin.user.admin"},
		CallbackURLs:        []string{origin + "/api/auth/sign-in-callback"},
		LogoutURLs:          []string{origin + "/api/auth/sign-out-callback"},
		ExplicitAuthFlows:   []string{"ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"},
		AccessTokenValidity: 5, IdTokenValidity: 5,
		TokenValidityUnits: &userpool.TokenValidityUnitsType{AccessToken: "minutes", IdToken: "minutes"},
	}}
	if o.rotation {
		in.ExplicitAuthFlows = []string{"ALLOW_USER_SRP_AUTH"}
		in.RefreshTokenRotation = &userpool.RefreshTokenRotationType{Feature: "ENABLED", RetryGracePeriodSeconds: 0}
	}
	out, err := p.srv.Service().CreateUserPoolClient(context.Background(), in)
	if err != nil {
		t.Fatalf("CreateUserPoolClient: %v", err)
	}
	p.statsOf(out.UserPoolClient.ClientId)
	return out.UserPoolClient.ClientId
}

// user creates a confirmed user (temporary: left in
// FORCE_CHANGE_PASSWORD) with an email.
func (p *idp) user(t testing.TB, username string, temporary bool, attrs ...userpool.AttributeType) {
	t.Helper()
	ctx := context.Background()
	email := strings.ToLower(username) + "@example.com"
	if !regexp.MustCompile(`^[a-z0-9-]+$`).MatchString(username) {
		email = fmt.Sprintf("u%x@example.com", sha256.Sum256([]byte(username)))[:20] + "@example.com"
	}
	attrs = append(attrs, userpool.AttributeType{Name: "email", Value: email}, userpool.AttributeType{Name: "email_verified", Value: "true"})
	// Tests run again (-count) find their users from the last run.
	p.srv.Service().AdminDeleteUser(ctx, userpool.AdminUserInput{UserPoolId: p.pool, Username: username})
	_, err := p.srv.Service().AdminCreateUser(ctx, userpool.AdminCreateUserInput{
		UserPoolId: p.pool, Username: username, UserAttributes: attrs, TemporaryPassword: password, MessageAction: "SUPPRESS",
	})
	if err != nil {
		t.Fatalf("AdminCreateUser %q: %v", username, err)
	}
	if temporary {
		return
	}
	if _, err := p.srv.Service().AdminSetUserPassword(ctx, userpool.AdminSetUserPasswordInput{
		UserPoolId: p.pool, Username: username, Password: password, Permanent: true,
	}); err != nil {
		t.Fatalf("AdminSetUserPassword: %v", err)
	}
}

// clock is the Manager's clock: real time, or a fixed instant.
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

// app is a server-rendered app using a session.Manager.
type app struct {
	t      *testing.T
	idp    *idp
	m      *session.Manager
	url    string
	client string
	clock  *clock
	stats  *clientStats
	// lateErr receives what Refresh answered after the body began.
	lateErr atomic.Value
	// hook runs in /backend before the backend call.
	hook atomic.Pointer[func()]
}

type appOpts struct {
	mode   session.Mode
	client clientOpts
	config func(*session.Config)
}

func newApp(t *testing.T, p *idp, o appOpts) *app {
	t.Helper()
	ts := httptest.NewUnstartedServer(nil)
	a := &app{t: t, idp: p, url: "http://" + ts.Listener.Addr().String(), clock: &clock{}}
	a.client = p.client(t, a.url, o.client)
	a.stats = p.statsOf(a.client)
	cfg := session.Config{
		UserPoolID: p.pool, ClientID: a.client, Endpoint: p.url, OAuthDomain: p.url,
		Scopes: []string{"openid", "email", "profile", "aws.cognito.signin.user.admin"},
		Origin: a.url, Mode: o.mode, HTTPClient: session.InProcess(p.handler),
		Now: a.clock.Now, ClockSkew: -1, RefreshBefore: 2 * time.Second,
	}
	if o.config != nil {
		o.config(&cfg)
	}
	m, err := session.New(cfg)
	if err != nil {
		t.Fatalf("session.New: %v", err)
	}
	a.m = m
	ts.Config.Handler = m.Middleware(a.routes())
	ts.Start()
	t.Cleanup(ts.Close)
	return a
}

// pageState is what the app's pages print, as JSON.
type pageState struct {
	User   string   `json:"user"`
	Email  string   `json:"email"`
	Groups []string `json:"groups"`
	Exp    int64    `json:"exp"`
	Access string   `json:"access"`
	Bio    string   `json:"bio"`
	CSRF   string   `json:"csrf"`
	Bearer string   `json:"bearer"`
	Err    string   `json:"err"`
	// Challenge, Fields and Code are the password API's answers.
	Challenge string   `json:"challenge"`
	Fields    []string `json:"fields"`
	Code      string   `json:"code"`
}

// show answers with the request's session (and extra) as JSON.
func show(w http.ResponseWriter, r *http.Request, extra pageState) {
	st := extra
	if s := session.FromContext(r.Context()); s != nil {
		st.User, st.Email, st.Groups, st.Exp, st.Access = s.Username, s.Email, s.Groups, s.ExpiresAt.Unix(), s.AccessToken
		st.Bio, _ = s.Attributes["custom:bio"].(string)
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(st)
}

func (a *app) routes() http.Handler {
	mux := http.NewServeMux()
	mux.Handle(a.m.Config().MountPath, a.m.Handler())
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { show(w, r, pageState{}) })
	mux.Handle("/private", a.m.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { show(w, r, pageState{}) })))
	mux.Handle("/admin", a.m.RequireGroup("admin", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { show(w, r, pageState{}) })))
	mux.Handle("/fresh", a.m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { show(w, r, pageState{}) }), session.ForceRefresh()))
	mux.HandleFunc("/form", func(w http.ResponseWriter, r *http.Request) {
		show(w, r, pageState{CSRF: a.m.CSRFToken(w, r)})
	})
	mux.HandleFunc("/late", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		io.WriteString(w, "started")
		a.lateErr.Store(fmt.Sprint(a.m.Refresh(w, r)))
	})
	mux.HandleFunc("/attrs", func(w http.ResponseWriter, r *http.Request) {
		attrs, err := a.m.FetchUserAttributes(r.Context())
		show(w, r, pageState{Email: attrs["email"], Err: fmt.Sprint(err)})
	})
	mux.HandleFunc("/refresh-now", func(w http.ResponseWriter, r *http.Request) {
		err := a.m.Refresh(w, r)
		show(w, r, pageState{Err: fmt.Sprint(err)})
	})
	a.passwordRoutes(mux)
	a.backendRoutes(mux)
	return mux
}

// passwordRoutes use the password API the way an app with its own
// handlers would.
func (a *app) passwordRoutes(mux *http.ServeMux) {
	answer := func(w http.ResponseWriter, r *http.Request, c *session.Challenge, err error) {
		st := pageState{}
		if c != nil {
			st.Challenge, st.Fields = c.Name, c.Fields()
		}
		var ae *session.AuthError
		if errors.As(err, &ae) {
			st.Code = ae.Code
		} else if err != nil {
			st.Err = err.Error()
		}
		show(w, r, st)
	}
	mux.HandleFunc("POST /api-signin", func(w http.ResponseWriter, r *http.Request) {
		c, err := a.m.SignInWithPassword(w, r, r.FormValue("username"), r.FormValue("password"))
		answer(w, r, c, err)
	})
	mux.HandleFunc("POST /api-respond", func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		responses := map[string]string{}
		for k := range r.PostForm {
			responses[k] = r.PostForm.Get(k)
		}
		c, err := a.m.RespondToChallenge(w, r, nil, responses)
		answer(w, r, c, err)
	})
}

// backendRoutes call /echo through the Transport.
func (a *app) backendRoutes(mux *http.ServeMux) {
	backend := &http.Client{Transport: a.m.Transport(nil)}
	mux.HandleFunc("/backend", func(w http.ResponseWriter, r *http.Request) {
		if f := a.hook.Load(); f != nil {
			(*f)()
		}
		req, _ := http.NewRequestWithContext(r.Context(), http.MethodGet, a.url+"/echo", nil)
		resp, err := backend.Do(req)
		st := pageState{}
		if err != nil {
			st.Err = err.Error()
		} else {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			st.Bearer = string(body)
		}
		show(w, r, st)
	})
	mux.HandleFunc("/backend-after-body", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(http.StatusOK)
		if f := a.hook.Load(); f != nil {
			(*f)()
		}
		req, _ := http.NewRequestWithContext(r.Context(), http.MethodGet, a.url+"/echo", nil)
		resp, err := backend.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		a.lateErr.Store(fmt.Sprint(err))
	})
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, r.Header.Get("Authorization"))
	})
}

// tokenName is the wire name of one of the app's cookies for username.
func (a *app) tokenName(username, key string) string {
	return "CognitoIdentityServiceProvider." + a.client + "." + username + "." + key
}

func (a *app) lastAuthName() string {
	return "CognitoIdentityServiceProvider." + a.client + ".LastAuthUser"
}

// withCookies is a GET of the app with a raw Cookie header.
func (a *app) rawGet(path, cookie string, headers ...string) *http.Response {
	a.t.Helper()
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, a.url+path, nil)
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		a.t.Fatalf("GET %s: %v", path, err)
	}
	return resp
}

// decode reads a response of the app's pages.
func decode(t *testing.T, r *http.Response) pageState {
	t.Helper()
	defer r.Body.Close()
	body, _ := io.ReadAll(r.Body)
	var st pageState
	if err := json.Unmarshal(body, &st); err != nil {
		t.Fatalf("%d %s", r.StatusCode, body)
	}
	return st
}

// jwtTimes reads a token's iat and exp without verifying it.
func jwtTimes(t testing.TB, token string) (iat, exp time.Time) {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %.40q", token)
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	var c struct{ Iat, Exp int64 }
	if err != nil || json.Unmarshal(raw, &c) != nil {
		t.Fatalf("JWT payload: %v", err)
	}
	return time.Unix(c.Iat, 0), time.Unix(c.Exp, 0)
}

// expireAt sets the app's clock to the access token's exp plus d
// (negative: before it), first waiting for the issuer's clock to pass
// the token's iat second, so that a refresh yields tokens that expire
// later than the clock.
func (a *app) expireAt(access string, d time.Duration) {
	a.t.Helper()
	_, exp := jwtTimes(a.t, access)
	a.waitPastIat(access)
	a.clock.set(exp.Add(d))
}

// waitPastIat waits until tokens the issuer mints now have a later iat
// (in whole seconds) than access.
func (a *app) waitPastIat(access string) {
	a.t.Helper()
	iat, _ := jwtTimes(a.t, access)
	for !time.Now().After(iat.Add(time.Second)) {
		time.Sleep(20 * time.Millisecond)
	}
}

// signedIn signs a fresh browser in as username with the password route
// and returns it with its access token.
func (a *app) signedIn(username string) (*browser, string) {
	a.t.Helper()
	b := newBrowser(a.t)
	if r := b.passwordSignIn(a, username, password, "/"); r.status != http.StatusOK {
		a.t.Fatalf("password sign-in: %d %s", r.status, r.body)
	}
	st := b.state(a.url + "/")
	if st.User != username {
		a.t.Fatalf("signed in as %q, want %q", st.User, username)
	}
	b.takeSets()
	return b, st.Access
}
