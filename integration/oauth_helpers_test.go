package integration_test

// The OAuth 2.0 / OpenID Connect endpoints and the hosted login pages,
// driven from outside as a relying party would: golang.org/x/oauth2 with
// the endpoints from discovery, PKCE S256, go-oidc verifying id tokens,
// and a cookie-keeping HTTP client standing in for the browser (it fills
// the pages' forms, CSRF fields included). The guard transport fails any
// test that gets a 5xx from anywhere.
//
// Helpers for the oauth_*_test.go files: a relying party's view of
// Cognate's OAuth 2.0 / OIDC endpoints and hosted pages. The server runs
// behind an HTTPS httptest listener (its PublicURL is that listener's
// https URL), so session cookies behave as they do for a browser on a
// real deployment, including Secure ones.
//
// The "browser" is an http.Client with a cookie jar that follows the
// server's redirects and stops at the relying party's host (rp.example),
// reading the code or tokens off the Location header, the way a
// redirect_uri handler would. Pages are driven through their forms:
// inputs (hidden CSRF fields included) are scraped from the HTML and
// posted back with the fields a person would fill.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"log"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/cognate-auth/cognate/server"
	"github.com/cognate-auth/cognate/userpool"
)

// The relying party: its redirect URIs are never fetched; the browser
// stops when a redirect points at rpHost.
const (
	rpHost     = "rp.example"
	rpCallback = "https://" + rpHost + "/callback"
	rpSignOut  = "https://" + rpHost + "/signed-out"
	// rpOther is registered nowhere.
	rpOther = "https://" + rpHost + "/elsewhere"
)

// allScopes are the standard scopes a browser client is allowed.
var allScopes = []string{"openid", "email", "profile", "aws.cognito.signin.user.admin"}

// oidcDiscovery is the part of openid-configuration the tests read.
type oidcDiscovery struct {
	Issuer                string   `json:"issuer"`
	AuthorizationEndpoint string   `json:"authorization_endpoint"`
	TokenEndpoint         string   `json:"token_endpoint"`
	UserinfoEndpoint      string   `json:"userinfo_endpoint"`
	RevocationEndpoint    string   `json:"revocation_endpoint"`
	JwksURI               string   `json:"jwks_uri"`
	ResponseTypes         []string `json:"response_types_supported"`
	GrantTypes            []string `json:"grant_types_supported"`
	ScopesSupported       []string `json:"scopes_supported"`
	ChallengeMethods      []string `json:"code_challenge_methods_supported"`
	TokenAuthMethods      []string `json:"token_endpoint_auth_methods_supported"`
}

// oauthEnv is an env whose server speaks HTTPS, plus what a relying party
// learns from discovery.
type oauthEnv struct {
	*env
	origin string // scheme://host:port of the server
	issuer string
	disc   oidcDiscovery
	prov   *oidc.Provider
	// rp is the relying party's own HTTP client (no cookies, no
	// redirects followed), with the 5xx guard.
	rp *http.Client
}

// newOAuthEnv starts a server on an HTTPS httptest listener and runs
// OIDC discovery against it.
func newOAuthEnv(t *testing.T) *oauthEnv {
	t.Helper()
	ts := httptest.NewUnstartedServer(nil)
	base := "https://" + ts.Listener.Addr().String()
	data := t.TempDir()
	srv, err := server.New(t.Context(), server.Config{
		DataDir: data, PublicURL: base, Out: io.Discard, TLSAddr: "off",
	})
	if err != nil {
		t.Fatalf("server.New: %v", err)
	}
	t.Cleanup(func() { srv.Close() })
	ts.Config.Handler = srv.Handler()
	// Connections the tests abandon at the end end in TLS handshake
	// errors that say nothing about the server.
	ts.Config.ErrorLog = log.New(io.Discard, "", 0)
	ts.StartTLS()
	t.Cleanup(ts.Close)
	guarded := &http.Client{Transport: &guard{t: t, base: ts.Client().Transport}, Timeout: 30 * time.Second}
	e := &env{
		t: t, srv: srv, url: base, http: guarded, pool: srv.Pool.ID, pub: srv.Client.ClientID,
		ctx: t.Context(), creds: srv.Admin, data: data,
	}
	e.api = e.sdk(srv.Admin.AccessKeyID, srv.Admin.SecretAccessKey)
	rp := &http.Client{
		Transport:     guarded.Transport,
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	oe := &oauthEnv{env: e, origin: base, issuer: base + "/" + srv.Pool.ID, rp: rp}
	oe.discover()
	return oe
}

// guard is a transport that fails the test on any 5xx answer, naming
// the request and showing the body.
type guard struct {
	t    *testing.T
	base http.RoundTripper
}

func (g *guard) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := g.base.RoundTrip(req)
	if err != nil || resp.StatusCode < 500 {
		return resp, err
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	g.t.Errorf("SERVER ERROR: %s %s → %d\n%s", req.Method, clipURL(req.URL), resp.StatusCode, body)
	return resp, nil
}

// clipURL shortens oversized test URLs in messages.
func clipURL(u *url.URL) string {
	s := u.String()
	if len(s) > 300 {
		return s[:300] + fmt.Sprintf("…(%d bytes)", len(s))
	}
	return s
}

// ctxRP is a context that makes golang.org/x/oauth2 and go-oidc use the
// relying party's client.
func (e *oauthEnv) ctxRP() context.Context {
	return oidc.ClientContext(e.ctx, e.rp)
}

// discover reads openid-configuration and builds a go-oidc provider from
// it (which checks that the document's issuer is the URL it came from).
func (e *oauthEnv) discover() {
	t := e.t
	t.Helper()
	resp, err := e.rp.Get(e.issuer + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("discovery: %d %s", resp.StatusCode, body)
	}
	if err := json.Unmarshal(body, &e.disc); err != nil {
		t.Fatalf("discovery: %v\n%s", err, body)
	}
	if e.prov, err = oidc.NewProvider(e.ctxRP(), e.issuer); err != nil {
		t.Fatalf("oidc.NewProvider: %v", err)
	}
}

// clientSpec describes an OAuth app client to create.
type clientSpec struct {
	flows    []string // AllowedOAuthFlows; default code
	scopes   []string // AllowedOAuthScopes; default allScopes
	secret   bool
	rotation bool
	// callbacks and logouts default to rpCallback and rpSignOut.
	callbacks, logouts []string
}

// oauthClient creates an app client through the service, as an operator
// would through CreateUserPoolClient, and returns its id and secret.
func (e *oauthEnv) oauthClient(s clientSpec) (id, secret string) {
	e.t.Helper()
	if s.flows == nil {
		s.flows = []string{"code"}
	}
	if s.scopes == nil {
		s.scopes = allScopes
	}
	if s.callbacks == nil {
		s.callbacks = []string{rpCallback}
	}
	if s.logouts == nil {
		s.logouts = []string{rpSignOut}
	}
	in := userpool.CreateUserPoolClientInput{
		ClientSettingsInput: userpool.ClientSettingsInput{
			UserPoolId: e.pool, ClientName: "rp",
			AllowedOAuthFlowsUserPoolClient: true, AllowedOAuthFlows: s.flows, AllowedOAuthScopes: s.scopes,
			CallbackURLs: s.callbacks, LogoutURLs: s.logouts,
			ExplicitAuthFlows: []string{"ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"},
		},
		GenerateSecret: s.secret,
	}
	if s.rotation {
		in.ExplicitAuthFlows = []string{"ALLOW_USER_SRP_AUTH"}
		in.RefreshTokenRotation = &userpool.RefreshTokenRotationType{Feature: "ENABLED", RetryGracePeriodSeconds: 0}
	}
	out, err := e.srv.Service().CreateUserPoolClient(e.ctx, in)
	if err != nil {
		e.t.Fatalf("CreateUserPoolClient %+v: %v", s, err)
	}
	return out.UserPoolClient.ClientId, out.UserPoolClient.ClientSecret
}

// rpConfig is an oauth2.Config with the discovered endpoints. Public
// clients send client_id in the body; confidential ones use
// client_secret_basic unless style says otherwise.
func (e *oauthEnv) rpConfig(clientID, secret string, scopes ...string) *oauth2.Config {
	ep := e.prov.Endpoint()
	ep.AuthStyle = oauth2.AuthStyleInParams
	if secret != "" {
		ep.AuthStyle = oauth2.AuthStyleInHeader
	}
	if len(scopes) == 0 {
		scopes = []string{"openid", "email", "profile"}
	}
	return &oauth2.Config{ClientID: clientID, ClientSecret: secret, Endpoint: ep, RedirectURL: rpCallback, Scopes: scopes}
}

// newUser signs up and confirms a user through the JSON API and returns
// its sub.
func (e *oauthEnv) newUser(email string) string {
	e.t.Helper()
	return e.signUp(e.pub, email, attrT("name", "Ada Lovelace"))
}

// ---------------------------------------------------------------------------
// the browser
// ---------------------------------------------------------------------------

// browser is a user agent with cookies that follows the server's
// redirects and stops at the relying party.
type browser struct {
	t *testing.T
	e *oauthEnv
	c *http.Client
	// sessionSets are the Set-Cookie lines that named the pool-session
	// cookie, in order.
	sessionSets []string
}

// cookieSpy records the session cookie's Set-Cookie lines.
type cookieSpy struct {
	b    *browser
	base http.RoundTripper
}

func (s *cookieSpy) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := s.base.RoundTrip(req)
	if err == nil {
		for _, line := range resp.Header.Values("Set-Cookie") {
			if strings.HasPrefix(line, "cognate_session_") {
				s.b.sessionSets = append(s.b.sessionSets, line)
			}
		}
	}
	return resp, err
}

func (e *oauthEnv) newBrowser() *browser {
	e.t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		e.t.Fatal(err)
	}
	b := &browser{t: e.t, e: e}
	b.c = &http.Client{
		Transport: &cookieSpy{b: b, base: e.rp.Transport},
		Jar:       jar,
		Timeout:   30 * time.Second,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if req.URL.Host == rpHost || req.URL.Host != via[0].URL.Host {
				return http.ErrUseLastResponse
			}
			if len(via) >= 10 {
				return fmt.Errorf("more than 10 redirects, last %s", req.URL)
			}
			return nil
		},
	}
	return b
}

// landing is where a navigation ended: a page of the server, or a
// redirect to the relying party (callback set, with query and fragment).
type landing struct {
	status   int
	url      *url.URL // the URL of the last response
	header   http.Header
	body     string
	callback *url.URL
	// hops are the URLs visited, for messages.
	hops []string
}

func (l landing) String() string {
	b := l.body
	if len(b) > 1500 {
		b = b[:1500] + "…"
	}
	return fmt.Sprintf("%d at %s (via %v), callback %v\n%s", l.status, clipURL(l.url), l.hops, l.callback, b)
}

func (b *browser) get(u string) landing {
	b.t.Helper()
	req, err := http.NewRequestWithContext(b.e.ctx, http.MethodGet, u, nil)
	if err != nil {
		b.t.Fatalf("GET %s: %v", u, err)
	}
	return b.do(req)
}

func (b *browser) do(req *http.Request) landing {
	b.t.Helper()
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, clipURL(req.URL), err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		b.t.Fatalf("%s %s: reading body: %v", req.Method, clipURL(req.URL), err)
	}
	l := landing{status: resp.StatusCode, url: resp.Request.URL, header: resp.Header, body: string(body)}
	for r := resp.Request; r != nil; {
		l.hops = append([]string{r.Method + " " + r.URL.Path}, l.hops...)
		if r.Response == nil {
			break
		}
		r = r.Response.Request
	}
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		if loc := resp.Header.Get("Location"); loc != "" {
			target, err := resp.Request.URL.Parse(loc)
			if err != nil {
				b.t.Fatalf("bad Location %q: %v", loc, err)
			}
			if target.Host != resp.Request.URL.Host {
				l.callback = target
			}
		}
	}
	return l
}

// authorize navigates to the authorization endpoint with params.
func (b *browser) authorize(params url.Values) landing {
	b.t.Helper()
	return b.get(b.e.disc.AuthorizationEndpoint + "?" + params.Encode())
}

// wantPage asserts the navigation ended on a page of the server at path
// with status 200.
func (l landing) wantPage(t testing.TB, path string) landing {
	t.Helper()
	if l.callback != nil || l.status != http.StatusOK || l.url.Path != path {
		t.Fatalf("want the %s page, got %s", path, l)
	}
	return l
}

// wantCallback asserts the navigation ended with a redirect to uri (its
// scheme, host and path) and returns that redirect's URL.
func (l landing) wantCallback(t testing.TB, uri string) *url.URL {
	t.Helper()
	if l.callback == nil {
		t.Fatalf("want a redirect to %s, got %s", uri, l)
	}
	got := *l.callback
	got.RawQuery, got.Fragment, got.RawFragment = "", "", ""
	if got.String() != uri {
		t.Fatalf("redirected to %s, want %s", l.callback, uri)
	}
	return l.callback
}

// wantCode asserts a redirect to rpCallback carrying a code and the
// state, and returns the code.
func (l landing) wantCode(t testing.TB, state string) string {
	t.Helper()
	cb := l.wantCallback(t, rpCallback)
	q := cb.Query()
	if q.Get("error") != "" {
		t.Fatalf("callback carries error=%s (%s)", q.Get("error"), q.Get("error_description"))
	}
	if q.Get("code") == "" {
		t.Fatalf("callback %s has no code", cb)
	}
	if state != "" && q.Get("state") != state {
		t.Fatalf("callback state %q, want %q", q.Get("state"), state)
	}
	return q.Get("code")
}

// ---------------------------------------------------------------------------
// forms
// ---------------------------------------------------------------------------

var (
	formRe   = regexp.MustCompile(`(?is)<form\b([^>]*)>(.*?)</form>`)
	inputRe  = regexp.MustCompile(`(?is)<input\b([^>]*)>`)
	buttonRe = regexp.MustCompile(`(?is)<button\b([^>]*)>`)
	attrRe   = regexp.MustCompile(`(?s)([a-zA-Z_:][-a-zA-Z0-9_:.]*)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>` + "`" + `]+)))?`)
	csrfRe   = regexp.MustCompile(`(?i)csrf|xsrf`)
)

// attrs parses a tag's attributes (names lowercased, values unescaped).
func attrs(s string) map[string]string {
	m := map[string]string{}
	for _, a := range attrRe.FindAllStringSubmatch(s, -1) {
		name := strings.ToLower(a[1])
		if _, dup := m[name]; dup {
			continue
		}
		m[name] = html.UnescapeString(a[2] + a[3] + a[4])
	}
	return m
}

// form is a page's form as a browser would submit it.
type form struct {
	page   landing
	action *url.URL
	method string
	fields url.Values
	hidden []string // names of the hidden inputs
}

// form finds the form holding the button with id buttonID.
func (l landing) form(t testing.TB, buttonID string) *form {
	t.Helper()
	for _, m := range formRe.FindAllStringSubmatch(l.body, -1) {
		inner := m[2]
		var button map[string]string
		for _, bm := range buttonRe.FindAllStringSubmatch(inner, -1) {
			if a := attrs(bm[1]); a["id"] == buttonID {
				button = a
			}
		}
		for _, im := range inputRe.FindAllStringSubmatch(inner, -1) {
			if a := attrs(im[1]); a["id"] == buttonID && (a["type"] == "submit" || a["type"] == "button") {
				button = a
			}
		}
		if button == nil {
			continue
		}
		fa := attrs(m[1])
		action, err := l.url.Parse(fa["action"])
		if err != nil {
			t.Fatalf("form action %q: %v", fa["action"], err)
		}
		f := &form{page: l, action: action, method: strings.ToUpper(fa["method"]), fields: url.Values{}}
		if f.method == "" {
			f.method = http.MethodGet
		}
		for _, im := range inputRe.FindAllStringSubmatch(inner, -1) {
			a := attrs(im[1])
			name := a["name"]
			if name == "" {
				continue
			}
			switch strings.ToLower(a["type"]) {
			case "submit", "button", "image", "reset", "file":
				continue
			case "checkbox", "radio":
				if _, on := a["checked"]; !on {
					continue
				}
				if a["value"] == "" {
					a["value"] = "on"
				}
			case "hidden":
				f.hidden = append(f.hidden, name)
			}
			f.fields.Add(name, a["value"])
		}
		if button["name"] != "" {
			f.fields.Set(button["name"], button["value"])
		}
		return f
	}
	t.Fatalf("no form with a #%s button on %s", buttonID, l)
	return nil
}

// has reports whether the form has a field named name.
func (f *form) has(name string) bool { _, ok := f.fields[name]; return ok }

// csrfField is the name of the form's hidden CSRF field.
func (f *form) csrfField(t testing.TB) string {
	t.Helper()
	for _, n := range f.hidden {
		if csrfRe.MatchString(n) {
			return n
		}
	}
	t.Fatalf("the form on %s has no hidden CSRF field (hidden fields: %v)", f.page.url.Path, f.hidden)
	return ""
}

// submit posts the form with values set over the scraped ones, with the
// Origin and Referer a browser sends for a same-origin submission
// (origin overrides Origin when not empty).
func (b *browser) submit(f *form, values map[string]string, origin string) landing {
	b.t.Helper()
	v := url.Values{}
	for k, vs := range f.fields {
		v[k] = append([]string(nil), vs...)
	}
	for k, val := range values {
		v.Set(k, val)
	}
	if origin == "" {
		origin = b.e.origin
	}
	var req *http.Request
	var err error
	if f.method == http.MethodGet {
		u := *f.action
		u.RawQuery = v.Encode()
		req, err = http.NewRequestWithContext(b.e.ctx, http.MethodGet, u.String(), nil)
	} else {
		req, err = http.NewRequestWithContext(b.e.ctx, http.MethodPost, f.action.String(), strings.NewReader(v.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Origin", origin)
	req.Header.Set("Referer", f.page.url.String())
	return b.do(req)
}

// signIn fills the login page's form and submits it.
func (b *browser) signIn(login landing, user, pw string) landing {
	b.t.Helper()
	f := login.form(b.t, "signin")
	for _, name := range []string{"username", "password"} {
		if !f.has(name) {
			b.t.Fatalf("login form has no %q input: %v", name, f.fields)
		}
	}
	return b.submit(f, map[string]string{"username": user, "password": pw}, "")
}

// sessionCookie is the browser's pool-session cookie for the server, if
// any.
func (b *browser) sessionCookie() *http.Cookie {
	u, _ := url.Parse(b.e.origin + "/oauth2/authorize")
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == "cognate_session_"+b.e.pool {
			return c
		}
	}
	return nil
}

// ---------------------------------------------------------------------------
// the code flow as a relying party runs it
// ---------------------------------------------------------------------------

// codeRequest is one authorization request's secrets.
type codeRequest struct {
	verifier, state, nonce string
	url                    string
}

func newCodeRequest(conf *oauth2.Config, extra ...oauth2.AuthCodeOption) codeRequest {
	r := codeRequest{verifier: oauth2.GenerateVerifier(), state: randomToken(), nonce: randomToken()}
	opts := append([]oauth2.AuthCodeOption{oauth2.S256ChallengeOption(r.verifier), oidc.Nonce(r.nonce)}, extra...)
	r.url = conf.AuthCodeURL(r.state, opts...)
	return r
}

// login runs an authorization request through the login page and
// returns the request and the code the callback got.
func (b *browser) login(conf *oauth2.Config, user, pw string, extra ...oauth2.AuthCodeOption) (codeRequest, string) {
	b.t.Helper()
	r := newCodeRequest(conf, extra...)
	page := b.get(r.url).wantPage(b.t, "/login")
	return r, b.signIn(page, user, pw).wantCode(b.t, r.state)
}

// exchange redeems a code with the request's verifier.
func (e *oauthEnv) exchange(conf *oauth2.Config, r codeRequest, code string) *oauth2.Token {
	e.t.Helper()
	tok, err := conf.Exchange(e.ctxRP(), code, oauth2.VerifierOption(r.verifier))
	if err != nil {
		e.t.Fatalf("Exchange: %v", err)
	}
	return tok
}

// idClaims are the id-token claims the tests read.
type idClaims struct {
	Sub             string `json:"sub"`
	TokenUse        string `json:"token_use"`
	CognitoUsername string `json:"cognito:username"`
	Email           string `json:"email"`
	EmailVerified   any    `json:"email_verified"`
	Name            string `json:"name"`
	AuthTime        int64  `json:"auth_time"`
	AtHash          string `json:"at_hash"`
	Nonce           string `json:"nonce"`
}

// verifyID verifies an id token as a relying party must (signature,
// issuer, audience, expiry), then its nonce and at_hash.
func (e *oauthEnv) verifyID(clientID, rawID, accessToken, nonce string) idClaims {
	e.t.Helper()
	if rawID == "" {
		e.t.Fatalf("no id_token")
	}
	idt, err := e.prov.Verifier(&oidc.Config{ClientID: clientID}).Verify(e.ctxRP(), rawID)
	if err != nil {
		e.t.Fatalf("id token does not verify: %v", err)
	}
	if idt.Nonce != nonce {
		e.t.Errorf("id token nonce %q, want %q", idt.Nonce, nonce)
	}
	if accessToken != "" {
		if err := idt.VerifyAccessToken(accessToken); err != nil {
			e.t.Errorf("at_hash: %v", err)
		}
	}
	var c idClaims
	if err := idt.Claims(&c); err != nil {
		e.t.Fatal(err)
	}
	if c.TokenUse != "id" {
		e.t.Errorf("id token token_use %q", c.TokenUse)
	}
	return c
}

// accessClaims are the access-token claims the tests read.
type accessClaims struct {
	Sub      string `json:"sub"`
	TokenUse string `json:"token_use"`
	Scope    string `json:"scope"`
	ClientID string `json:"client_id"`
	Username string `json:"username"`
	AuthTime int64  `json:"auth_time"`
	Aud      any    `json:"aud"`
	JTI      string `json:"jti"`
}

// verifyAccess checks an access token's signature and issuer against the
// discovered JWKS and returns its claims.
func (e *oauthEnv) verifyAccess(raw string) accessClaims {
	e.t.Helper()
	keys := oidc.NewRemoteKeySet(e.ctxRP(), e.disc.JwksURI)
	tok, err := oidc.NewVerifier(e.issuer, keys, &oidc.Config{SkipClientIDCheck: true}).Verify(e.ctxRP(), raw)
	if err != nil {
		e.t.Fatalf("access token does not verify: %v", err)
	}
	var c accessClaims
	if err := tok.Claims(&c); err != nil {
		e.t.Fatal(err)
	}
	if c.TokenUse != "access" {
		e.t.Errorf("access token token_use %q", c.TokenUse)
	}
	return c
}

// idToken is the id_token member of a token response.
func idToken(tok *oauth2.Token) string {
	s, _ := tok.Extra("id_token").(string)
	return s
}

// ---------------------------------------------------------------------------
// raw protocol calls
// ---------------------------------------------------------------------------

// tokenResult is a raw token-endpoint answer.
type tokenResult struct {
	status int
	header http.Header
	body   []byte
	json   map[string]any
}

func (r tokenResult) str(k string) string { s, _ := r.json[k].(string); return s }

func (r tokenResult) String() string { return fmt.Sprintf("%d %s", r.status, r.body) }

// postForm posts a form to endpoint as the relying party, with HTTP
// Basic credentials when user is not empty.
func (e *oauthEnv) postForm(endpoint string, form url.Values, user, pass string) tokenResult {
	e.t.Helper()
	req, err := http.NewRequestWithContext(e.ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if user != "" {
		req.SetBasicAuth(url.QueryEscape(user), url.QueryEscape(pass))
	}
	return e.send(req)
}

func (e *oauthEnv) send(req *http.Request) tokenResult {
	e.t.Helper()
	resp, err := e.rp.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", req.Method, clipURL(req.URL), err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	r := tokenResult{status: resp.StatusCode, header: resp.Header, body: body}
	_ = json.Unmarshal(body, &r.json)
	return r
}

// token posts to the token endpoint.
func (e *oauthEnv) token(form url.Values, user, pass string) tokenResult {
	e.t.Helper()
	return e.postForm(e.disc.TokenEndpoint, form, user, pass)
}

// wantOAuthError asserts an OAuth error answer: the status, a JSON body
// with error (and error_description, a string when present).
func wantOAuthError(t testing.TB, r tokenResult, status int, code string) {
	t.Helper()
	if r.status != status || r.str("error") != code {
		t.Fatalf("got %s, want %d error=%s", r, status, code)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("error Content-Type %q, want application/json", ct)
	}
	if d, ok := r.json["error_description"]; ok {
		if _, isStr := d.(string); !isStr {
			t.Errorf("error_description is %T", d)
		}
	}
	for _, k := range []string{"access_token", "id_token", "refresh_token"} {
		if _, ok := r.json[k]; ok {
			t.Errorf("error answer carries %s", k)
		}
	}
}

// userInfo calls the userinfo endpoint with a bearer token.
func (e *oauthEnv) userInfo(method, accessToken string) tokenResult {
	e.t.Helper()
	req, err := http.NewRequestWithContext(e.ctx, method, e.disc.UserinfoEndpoint, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	if accessToken != "" {
		req.Header.Set("Authorization", "Bearer "+accessToken)
	}
	return e.send(req)
}

// refreshRaw runs the refresh_token grant for a public client.
func (e *oauthEnv) refreshRaw(clientID, rt string) tokenResult {
	e.t.Helper()
	return e.token(url.Values{"grant_type": {"refresh_token"}, "client_id": {clientID}, "refresh_token": {rt}}, "", "")
}

func randomToken() string {
	return base64.RawURLEncoding.EncodeToString([]byte(oauth2.GenerateVerifier()[:24]))
}

// s256 is a PKCE S256 challenge.
func s256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// authParams are the query parameters of a code request with PKCE.
func authParams(clientID, state, verifier string, kv ...string) url.Values {
	v := url.Values{
		"response_type": {"code"}, "client_id": {clientID}, "redirect_uri": {rpCallback},
		"scope": {"openid email profile"}, "code_challenge": {s256(verifier)}, "code_challenge_method": {"S256"},
	}
	if state != "" {
		v.Set("state", state)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			v.Del(kv[i])
		} else {
			v.Set(kv[i], kv[i+1])
		}
	}
	return v
}

// scopeSet sorts a space-separated scope string for comparison.
func scopeSet(s string) string {
	f := strings.Fields(s)
	slices.Sort(f)
	return strings.Join(slices.Compact(f), " ")
}

// errorText is the text of the page's first element with class "error"
// that has any ("" when there is none).
var errorElemRe = regexp.MustCompile(`(?is)<([a-z0-9]+)\b[^>]*\bclass\s*=\s*["'][^"']*\berror\b[^"']*["'][^>]*>(.*?)</([a-z0-9]+)>`)
var tagRe = regexp.MustCompile(`(?s)<[^>]*>`)

func errorText(body string) string {
	for _, m := range errorElemRe.FindAllStringSubmatch(body, -1) {
		if txt := strings.TrimSpace(tagRe.ReplaceAllString(m[2], "")); txt != "" {
			return txt
		}
	}
	return ""
}
