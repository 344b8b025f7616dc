package gateway

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"crypto/sha256"

	"github.com/coder/websocket"
)

// spoofed are identity headers a client may send, in the spellings
// servers read as the same name.
var spoofed = []string{
	"X-Cognate-User", "mallory", "X-Cognate-Groups", "admin", "X_Cognate_Email", "m@evil.com",
	"x-cognate-sub", "forged", "X-Amzn-Oidc-Data", "forged.jwt.x", "X-Amzn-Oidc-Identity", "forged",
	"X_Amzn_Oidc_Accesstoken", "forged", "X-Forwarded-User", "mallory", "Remote-User", "mallory",
	"X-Auth-Request-Email", "m@evil.com", "X-Forwarded-For", "6.6.6.6", "X-Forwarded-Host", "evil.com",
}

// noForgery fails when any spoofed value reached the app.
func noForgery(t *testing.T, s seen) {
	t.Helper()
	for k, vs := range s.Header {
		for _, v := range vs {
			for i := 1; i < len(spoofed); i += 2 {
				if v == spoofed[i] || strings.Contains(v, "6.6.6.6") || v == "evil.com" {
					t.Errorf("spoofed header reached the app: %s: %s", k, v)
				}
			}
		}
	}
}

func TestSignedInRequestReachesTheApp(t *testing.T) {
	e := newEnv(t, envOpts{})
	e.pool.user(t, "gw-ann")
	b := newBrowser(t)
	e.signIn(b, "gw-ann", "/")
	access := e.cookie(b, ".accessToken")

	resp, s := b.seen(e.url+"/dashboard?x=1", spoofed...)
	if resp.StatusCode != http.StatusOK || s.Path != "/dashboard?x=1" {
		t.Fatalf("%d %s", resp.StatusCode, s.Path)
	}
	noForgery(t, s)
	h := s.Header
	if h.Get("X-Cognate-User") != "gw-ann" || h.Get("X-Cognate-Email") != "gw-ann@example.com" || h.Get("X-Cognate-Sub") == "" {
		t.Fatalf("identity headers: %v", h)
	}
	if h.Get("X-Cognate-Access-Token") != "" {
		t.Fatal("tokens passed without PassTokens")
	}
	if got := forwardedCookie(s.Cookies, ".accessToken"); got != access {
		t.Fatalf("forwarded access token differs from the browser's")
	}
	if h.Get("X-Forwarded-For") != "127.0.0.1" || h.Get("X-Real-Ip") != "127.0.0.1" || h.Get("X-Forwarded-Proto") != "http" {
		t.Fatalf("forwarding headers: XFF %q, real %q, proto %q", h.Get("X-Forwarded-For"), h.Get("X-Real-Ip"), h.Get("X-Forwarded-Proto"))
	}
	if s.Host != strings.TrimPrefix(e.url, "http://") || h.Get("X-Forwarded-Host") != s.Host {
		t.Fatalf("Host %q, X-Forwarded-Host %q", s.Host, h.Get("X-Forwarded-Host"))
	}

	// Signed out, on a public path: the app sees no identity at all.
	_, s = newBrowser(t).seen(e.url+"/public/x", spoofed...)
	noForgery(t, s)
	for k := range s.Header {
		if strings.HasPrefix(k, "X-Cognate-") && k != "X-Cognate-Csrf-Token" {
			t.Errorf("signed-out request carries %s", k)
		}
	}
}

func TestTrustedProxyForwarding(t *testing.T) {
	e := newEnv(t, envOpts{config: func(c *Config) {
		c.TrustedProxies = []netipPrefix{mustPrefix("127.0.0.0/8")}
	}})
	_, s := newBrowser(t).seen(e.url+"/public/x", "X-Forwarded-For", "198.51.100.7", "X-Forwarded-Proto", "https", "X-Forwarded-Host", "app.example.com")
	h := s.Header
	if h.Get("X-Forwarded-For") != "198.51.100.7, 127.0.0.1" || h.Get("X-Real-Ip") != "198.51.100.7" ||
		h.Get("X-Forwarded-Proto") != "https" || h.Get("X-Forwarded-Host") != "app.example.com" {
		t.Fatalf("through a trusted proxy: %v", h)
	}
}

// TestRefreshesBeforeTheApp: by default the gateway refreshes well before
// Amplify's 5 s margin, so that a token it lets through is not one the
// app's adapter then refreshes itself (with cookies the gateway drops).
func TestRefreshesBeforeTheApp(t *testing.T) {
	e := newEnv(t, envOpts{config: func(c *Config) { c.Session.RefreshBefore = 0 }})
	e.pool.user(t, "gw-margin")
	b := newBrowser(t)
	e.signIn(b, "gw-margin", "/")
	access := e.cookie(b, ".accessToken")
	cookie := e.cookieHeader(b)
	get := func() (appAccess string, refreshed bool) {
		before := e.pool.refreshes.Load()
		req, _ := http.NewRequest(http.MethodGet, e.url+"/cached", nil)
		req.Header.Set("Cookie", cookie)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var s seen
		json.NewDecoder(resp.Body).Decode(&s)
		return forwardedCookie(s.Cookies, ".accessToken"), e.pool.refreshes.Load() > before
	}
	for _, tc := range []struct {
		left    time.Duration
		refresh bool
	}{
		{DefaultRefreshBefore + 5*time.Second, false},
		{5*time.Second + time.Second, true}, // Amplify's margin not reached yet
	} {
		e.clockAtExp(access, -tc.left)
		got, refreshed := get()
		if refreshed != tc.refresh || (got == access) == tc.refresh {
			t.Errorf("%v before exp: refreshed %v, app got the old token %v; want a refresh %v", tc.left, refreshed, got == access, tc.refresh)
		}
	}
}

func TestOneRefreshForParallelRequests(t *testing.T) {
	e := newEnv(t, envOpts{})
	e.pool.user(t, "gw-bob")
	b := newBrowser(t)
	e.signIn(b, "gw-bob", "/")
	access, refresh := e.cookie(b, ".accessToken"), e.cookie(b, ".refreshToken")
	cookie := e.cookieHeader(b)
	e.expire(access)
	before := e.pool.refreshes.Load()

	const n = 20
	type result struct {
		status             int
		setAccess, setRT   string
		appAccess, appRT   string
		cacheControl, user string
	}
	results := make([]result, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			req, _ := http.NewRequest(http.MethodGet, e.url+"/cached", nil)
			req.Header.Set("Cookie", cookie)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			defer resp.Body.Close()
			var s seen
			json.NewDecoder(resp.Body).Decode(&s)
			r := result{status: resp.StatusCode, cacheControl: resp.Header.Get("Cache-Control"), user: s.Header.Get("X-Cognate-User"),
				appAccess: forwardedCookie(s.Cookies, ".accessToken"), appRT: forwardedCookie(s.Cookies, ".refreshToken")}
			for _, c := range resp.Cookies() {
				switch {
				case strings.HasSuffix(c.Name, ".accessToken") && c.MaxAge >= 0 && c.Value != "":
					r.setAccess = c.Value
				case strings.HasSuffix(c.Name, ".refreshToken") && c.MaxAge >= 0 && c.Value != "":
					r.setRT = c.Value
				}
			}
			results[i] = r
		})
	}
	close(start)
	wg.Wait()
	if got := e.pool.refreshes.Load() - before; got != 1 {
		t.Fatalf("%d refreshes at the pool for %d parallel requests, want 1", got, n)
	}
	first := results[0]
	if first.setAccess == "" || first.setAccess == access || first.setRT == "" || first.setRT == refresh {
		t.Fatalf("no rotated tokens for the browser: %+v", first)
	}
	for i, r := range results {
		if r.status != http.StatusOK || r.user != "gw-bob" {
			t.Fatalf("request %d: %d user %q", i, r.status, r.user)
		}
		if r.setAccess != first.setAccess || r.appAccess != first.setAccess || r.setRT != first.setRT || r.appRT != first.setRT {
			t.Fatalf("request %d: browser and app got other tokens than request 0", i)
		}
		if r.cacheControl != "private, no-store" {
			t.Fatalf("request %d: Cache-Control %q on a response that sets token cookies", i, r.cacheControl)
		}
	}
}

func TestBadCookiesSignOut(t *testing.T) {
	e := newEnv(t, envOpts{})
	e.pool.user(t, "gw-cat")
	b := newBrowser(t)
	e.signIn(b, "gw-cat", "/")
	good := e.cookieHeader(b)
	access := e.cookie(b, ".accessToken")
	parts := strings.Split(access, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	foreign := strings.Replace(string(payload), `"iss":"`, `"iss":"https://evil.example.com/x`, 1)
	cases := map[string]string{
		"bad signature":  parts[0] + "." + parts[1] + "." + strings.Repeat("A", len(parts[2])),
		"foreign issuer": parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(foreign)) + "." + parts[2],
		"alg none":       base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","kid":"x"}`)) + "." + parts[1] + ".",
	}
	for name, forged := range cases {
		t.Run(name, func(t *testing.T) {
			// Expired by the clock too: a bad signature must not be refreshed.
			cookie := strings.Replace(good, access, forged, 1)
			req, _ := http.NewRequest(http.MethodGet, e.url+"/public/page", nil)
			req.Header.Set("Cookie", cookie)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var s seen
			json.NewDecoder(resp.Body).Decode(&s)
			if s.Header.Get("X-Cognate-User") != "" || strings.Contains(s.Cookies, "accessToken") || strings.Contains(s.Cookies, "refreshToken") {
				t.Fatalf("forged session reached the app: %v %s", s.Header.Get("X-Cognate-User"), s.Cookies)
			}
			deleted := false
			for _, c := range resp.Cookies() {
				if strings.HasSuffix(c.Name, ".accessToken") && c.MaxAge < 0 {
					deleted = true
				}
			}
			if !deleted || resp.Header.Get("Cache-Control") != "private, no-store" {
				t.Fatalf("forged cookies not expired (%v) or cacheable (%q)", resp.Header.Values("Set-Cookie"), resp.Header.Get("Cache-Control"))
			}
		})
	}
}

func TestPolicy(t *testing.T) {
	e := newEnv(t, envOpts{})
	e.pool.user(t, "gw-dan")
	e.pool.user(t, "gw-eve", "admin")
	dan, eve, anon := newBrowser(t), newBrowser(t), newBrowser(t)
	e.signIn(dan, "gw-dan", "/")
	e.signIn(eve, "gw-eve", "/")
	page := []string{"Accept", "text/html", "Sec-Fetch-Mode", "navigate"}
	fetch := []string{"Accept", "*/*", "Sec-Fetch-Mode", "cors"}
	tests := []struct {
		name    string
		b       *browser
		path    string
		headers []string
		status  int
		want    string // in Location or body
	}{
		{"public signed out", anon, "/public/a", page, 200, `"path":"/public/a"`},
		{"session page signed out", anon, "/app/x?y=1", page, 303, "/api/auth/sign-in?redirect=%2Fapp%2Fx%3Fy%3D1"},
		{"session fetch signed out", anon, "/app/x", fetch, 401, `"error":"signed_out"`},
		{"websocket signed out", anon, "/app/ws", []string{"Sec-Fetch-Mode", "websocket"}, 401, `"error":"signed_out"`},
		{"session signed in", dan, "/app/x", page, 200, `"path":"/app/x"`},
		{"group non-member page", dan, "/admin/users", page, 403, "admin"},
		{"group non-member fetch", dan, "/admin/users", fetch, 403, `"error":"forbidden"`},
		{"group member", eve, "/admin/users", page, 200, `"path":"/admin/users"`},
		{"rule is per segment", anon, "/publicity", page, 303, "sign-in"},
		{"dot segments refused", anon, "/public/../admin", page, 400, "clean path"},
		{"encoded dot segments refused", anon, "/public/%2e%2e/admin", fetch, 400, "bad_path"},
		{"encoded slash decoded before matching", anon, "/admin%2Fusers", fetch, 401, "signed_out"},
		{"double slash refused", anon, "//admin", fetch, 400, "bad_path"},
		{"double encoding refused", anon, "/public/%252e%252e/admin", fetch, 400, "bad_path"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := tt.b.do(http.MethodGet, e.url+tt.path, nil, tt.headers...)
			if resp.StatusCode != tt.status || !strings.Contains(resp.Header.Get("Location")+body, tt.want) {
				t.Fatalf("%d %s %s", resp.StatusCode, resp.Header.Get("Location"), body)
			}
		})
	}
}

// A `redirect` that leaves the origin lands on the default page instead.
func TestNoOpenRedirect(t *testing.T) {
	e := newEnv(t, envOpts{})
	e.pool.user(t, "gw-fay")
	for _, target := range []string{"//evil.com", `/\evil.com`, "https://evil.com", "javascript:alert(1)", "https:/evil.com", "/\tevil", "/ok/path?x=1"} {
		resp := e.signIn(newBrowser(t), "gw-fay", target)
		loc := resp.Header.Get("Location")
		want := "/"
		if target == "/ok/path?x=1" {
			want = target
		}
		if loc != want {
			t.Errorf("redirect=%q → Location %q, want %q", target, loc, want)
		}
	}
	resp, _ := newBrowser(t).do(http.MethodGet, e.url+"/api/auth/sign-in?redirect=//evil.com", nil)
	if loc := resp.Header.Get("Location"); resp.StatusCode/100 != 3 || strings.Contains(loc, "evil.com") && !strings.HasPrefix(loc, e.pool.url) {
		t.Fatalf("sign-in: %d %s", resp.StatusCode, loc)
	}
}

func TestWebSocketThroughTheGateway(t *testing.T) {
	e := newEnv(t, envOpts{})
	e.pool.user(t, "gw-gus")
	b := newBrowser(t)
	e.signIn(b, "gw-gus", "/")
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(e.url, "http")+"/ws", &websocket.DialOptions{
		HTTPHeader: http.Header{"Cookie": {e.cookieHeader(b)}, "X-Cognate-User": {"mallory"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	for _, msg := range []string{"one", "two"} {
		if err := c.Write(ctx, websocket.MessageText, []byte(msg)); err != nil {
			t.Fatal(err)
		}
		_, got, err := c.Read(ctx)
		if err != nil || string(got) != "gw-gus:"+msg {
			t.Fatalf("echo %q, %v", got, err)
		}
	}
	c.Close(websocket.StatusNormalClosure, "")
}

func TestStreamingIsNotBuffered(t *testing.T) {
	e := newEnv(t, envOpts{})
	resp, err := http.Get(e.url + "/sse")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	r := bufio.NewReader(resp.Body)
	got := make(chan string, 1)
	go func() {
		line, _ := r.ReadString('\n')
		got <- line
	}()
	select {
	case line := <-got:
		if line != "data: first\n" {
			t.Fatalf("first line %q", line)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the first event did not arrive before the app finished")
	}
	close(e.app.release)
	rest, _ := io.ReadAll(r)
	if !strings.Contains(string(rest), "data: second") {
		t.Fatalf("rest %q", rest)
	}
}

func TestUpstreamDown(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	down := "http://" + ln.Addr().String()
	ln.Close()
	e := newEnv(t, envOpts{config: func(c *Config) { c.Upstream = down }})
	for _, tt := range []struct {
		accept, ctype, want string
	}{
		{"text/html", "text/html", "The app is not answering"},
		{"application/json", "application/json", `"error":"bad_gateway"`},
	} {
		start := time.Now()
		resp, body := newBrowser(t).do(http.MethodGet, e.url+"/public/x", nil, "Accept", tt.accept)
		if resp.StatusCode != http.StatusBadGateway || !strings.HasPrefix(resp.Header.Get("Content-Type"), tt.ctype) || !strings.Contains(body, tt.want) {
			t.Fatalf("%d %s %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("502 took %v", d)
		}
		if resp.Header.Get("Cache-Control") != "private, no-store" {
			t.Fatalf("Cache-Control %q", resp.Header.Get("Cache-Control"))
		}
	}
}

func TestBounds(t *testing.T) {
	e := newEnv(t, envOpts{config: func(c *Config) { c.MaxBodyBytes = 1000; c.MaxHeaderBytes = 8 << 10 }})
	b := newBrowser(t)
	resp, _ := b.do(http.MethodPost, e.url+"/public/up", strings.NewReader(strings.Repeat("x", 1001)), "Accept", "application/json")
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("declared oversized body: %d", resp.StatusCode)
	}
	// No Content-Length: the bound holds while the body streams.
	resp, _ = b.do(http.MethodPost, e.url+"/public/up", io.MultiReader(strings.NewReader(strings.Repeat("x", 5000))), "Accept", "application/json")
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("streamed oversized body: %d", resp.StatusCode)
	}
	resp, body := b.do(http.MethodPost, e.url+"/public/up", strings.NewReader(strings.Repeat("x", 1000)))
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `"body":1000`) {
		t.Fatalf("body within the bound: %d %s", resp.StatusCode, body)
	}
	resp, _ = b.do(http.MethodGet, e.url+"/public/x", nil, "X-Big", strings.Repeat("y", 16<<10))
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("oversized header: %d", resp.StatusCode)
	}
}

func TestCacheControl(t *testing.T) {
	e := newEnv(t, envOpts{})
	e.pool.user(t, "gw-hal")
	b := newBrowser(t)
	e.signIn(b, "gw-hal", "/")

	// Nothing set: the app's caching stands.
	resp, _ := b.do(http.MethodGet, e.url+"/cached", nil)
	if resp.Header.Get("Cache-Control") != "public, max-age=3600" || len(resp.Header.Values("Set-Cookie")) != 0 {
		t.Fatalf("plain response: %q %v", resp.Header.Get("Cache-Control"), resp.Header.Values("Set-Cookie"))
	}
	// The app writing token cookies: dropped, and not cacheable.
	resp, _ = b.do(http.MethodGet, e.url+"/sets-token", nil)
	sets := strings.Join(resp.Header.Values("Set-Cookie"), "\n")
	if strings.Contains(sets, "accessToken") || !strings.Contains(sets, "theme=dark") || resp.Header.Get("Cache-Control") != "private, no-store" {
		t.Fatalf("app-written token cookie: %q %s", resp.Header.Get("Cache-Control"), sets)
	}
	// A refresh: the gateway's Set-Cookie makes the app's public page private.
	e.expire(e.cookie(b, ".accessToken"))
	resp, _ = b.do(http.MethodGet, e.url+"/cached", nil)
	if resp.Header.Get("Cache-Control") != "private, no-store" || resp.Header.Get("Expires") != "" || len(resp.Header.Values("Set-Cookie")) == 0 {
		t.Fatalf("refreshed response: %q %q %v", resp.Header.Get("Cache-Control"), resp.Header.Get("Expires"), resp.Header.Values("Set-Cookie"))
	}
}

func TestALBHeaders(t *testing.T) {
	e := newEnv(t, envOpts{config: func(c *Config) { c.ALBHeaders = true; c.PassTokens = true }})
	e.pool.user(t, "gw-ida")
	b := newBrowser(t)
	e.signIn(b, "gw-ida", "/")
	_, s := b.seen(e.url+"/app", spoofed...)
	data := s.Header.Get("X-Amzn-Oidc-Data")
	if s.Header.Get("X-Amzn-Oidc-Accesstoken") != e.cookie(b, ".accessToken") || s.Header.Get("X-Cognate-Access-Token") != e.cookie(b, ".accessToken") || s.Header.Get("X-Cognate-Id-Token") == "" {
		t.Fatal("tokens not passed")
	}
	head, _ := base64.RawURLEncoding.DecodeString(strings.Split(data, ".")[0])
	var h map[string]any
	json.Unmarshal(head, &h)
	kid, _ := h["kid"].(string)
	resp, pemBody := b.do(http.MethodGet, e.url+ALBKeyPath+kid, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("key: %d", resp.StatusCode)
	}
	blk, _ := pem.Decode([]byte(pemBody))
	pub, err := x509.ParsePKIXPublicKey(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	header, claims, err := verifyALB(data, pub.(*ecdsa.PublicKey))
	if err != nil {
		t.Fatalf("x-amzn-oidc-data does not verify with the served key: %v", err)
	}
	iss := e.pool.url + "/" + e.pool.id
	if header["alg"] != "ES256" || header["iss"] != iss || header["client"] != e.client || !strings.HasPrefix(header["signer"].(string), "arn:aws:elasticloadbalancing:") || header["exp"] == nil {
		t.Fatalf("header %v", header)
	}
	if claims["sub"] != s.Header.Get("X-Amzn-Oidc-Identity") || claims["email"] != "gw-ida@example.com" || claims["username"] != "gw-ida" || claims["token_use"] != nil {
		t.Fatalf("claims %v", claims)
	}
	_, jwks := b.do(http.MethodGet, e.url+ALBKeyPath+"jwks.json", nil)
	var set struct {
		Keys []struct{ Kid, Crv, X, Y string }
	}
	if json.Unmarshal([]byte(jwks), &set); len(set.Keys) != 1 || set.Keys[0].Kid != kid || set.Keys[0].Crv != "P-256" || len(set.Keys[0].X) != 43 {
		t.Fatalf("jwks %s", jwks)
	}
	// A token signed by anyone else does not verify.
	other := strings.Split(data, ".")
	other[1] = base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"mallory"}`))
	if _, _, err := verifyALB(strings.Join(other, "."), pub.(*ecdsa.PublicKey)); err == nil {
		t.Fatal("tampered data token verified")
	}
}

func TestHealthAndReady(t *testing.T) {
	e := newEnv(t, envOpts{})
	for path, want := range map[string]int{"/_gateway/health": 200, "/_gateway/ready": 200, "/_gateway/nope": 404} {
		resp, body := newBrowser(t).do(http.MethodGet, e.url+path, nil)
		if resp.StatusCode != want {
			t.Errorf("%s: %d %s", path, resp.StatusCode, body)
		}
	}
	rec := httptest.NewRecorder()
	e.gw.MetricsHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if !strings.Contains(rec.Body.String(), "cognate_gateway_requests_total") {
		t.Fatalf("metrics listener: %s", rec.Body.String())
	}
	if _, body := newBrowser(t).do(http.MethodGet, e.url+"/metrics", nil); strings.Contains(body, "cognate_gateway_") {
		t.Fatal("metrics served on the gateway's listener")
	}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := "http://" + ln.Addr().String()
	ln.Close()
	bad := newEnv(t, envOpts{config: func(c *Config) { c.Session.JWKSURL = dead + "/jwks.json" }})
	if resp, _ := newBrowser(t).do(http.MethodGet, bad.url+"/_gateway/ready", nil); resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("ready without JWKS: %d", resp.StatusCode)
	}
}

// verifyALB checks an x-amzn-oidc-data token against pub, as an app
// behind an ALB does.
func verifyALB(token string, pub *ecdsa.PublicKey) (header, claims map[string]any, err error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, nil, errFmt("not a JWT")
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || len(sig) != 64 {
		return nil, nil, errFmt("bad signature encoding")
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if !ecdsa.Verify(pub, digest[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
		return nil, nil, errFmt("bad signature")
	}
	for i, out := range []*map[string]any{&header, &claims} {
		raw, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			return nil, nil, err
		}
		if err := json.Unmarshal(raw, out); err != nil {
			return nil, nil, err
		}
	}
	return header, claims, nil
}

type errFmt string

func (e errFmt) Error() string { return string(e) }
