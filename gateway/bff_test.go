package gateway

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/cognate-auth/cognate/gateway/bffstore"
	bffpostgres "github.com/cognate-auth/cognate/gateway/bffstore/postgres"
	bffredis "github.com/cognate-auth/cognate/gateway/bffstore/redis"
	bffsqlite "github.com/cognate-auth/cognate/gateway/bffstore/sqlite"
	"github.com/cognate-auth/cognate/internal/servicetest"
	"github.com/cognate-auth/cognate/session"
	"github.com/jackc/pgx/v5"
	goredis "github.com/redis/go-redis/v9"
)

var bffSecret = []byte("the BFF tests' --secret-key-file")

// countingStore counts the calls that reach a store.
type countingStore struct {
	bffstore.Store
	gets, puts, touches, deletes, locks atomic.Int64
}

func (c *countingStore) Get(ctx context.Context, k bffstore.Key) ([]byte, time.Time, error) {
	c.gets.Add(1)
	return c.Store.Get(ctx, k)
}

func (c *countingStore) Touch(ctx context.Context, k bffstore.Key, exp time.Time) error {
	c.touches.Add(1)
	return c.Store.Touch(ctx, k, exp)
}

func (c *countingStore) Put(ctx context.Context, k bffstore.Key, v []byte, exp time.Time) error {
	c.puts.Add(1)
	return c.Store.Put(ctx, k, v, exp)
}

func (c *countingStore) Delete(ctx context.Context, k bffstore.Key) error {
	c.deletes.Add(1)
	return c.Store.Delete(ctx, k)
}

func (c *countingStore) Lock(ctx context.Context, k bffstore.Key, ttl time.Duration) (func(context.Context) error, error) {
	c.locks.Add(1)
	return c.Store.Lock(ctx, k, ttl)
}

func (c *countingStore) total() int64 {
	return c.gets.Load() + c.puts.Load() + c.touches.Load() + c.deletes.Load() + c.locks.Load()
}

func openSQLite(t *testing.T, path string) *bffsqlite.Store {
	t.Helper()
	s, err := bffsqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// openRedis opens a node on the test Redis under prefix; without one
// the test is skipped, or fails with COGNATE_REQUIRE_SERVICES=1.
func openRedis(t *testing.T, prefix string) *bffredis.Store {
	t.Helper()
	servicetest.Need(t, "Redis", servicetest.RedisAddr)
	s, err := bffredis.Open("redis://127.0.0.1:6379/0", bffredis.Options{Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.Close()
		// The sessions would stay for their 30 days.
		c := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:6379"})
		defer c.Close()
		ctx := context.Background()
		for it := c.Scan(ctx, 0, prefix+"*", 100).Iterator(); it.Next(ctx); {
			c.Del(ctx, it.Val())
		}
	})
	return s
}

// openPostgres opens a node on the test PostgreSQL with its own table
// (dropped at the end); without one the test is skipped, or fails with
// COGNATE_REQUIRE_SERVICES=1.
func openPostgres(t *testing.T, table string) *bffpostgres.Store {
	t.Helper()
	servicetest.Need(t, "PostgreSQL", servicetest.PostgresAddr)
	u := servicetest.PostgresAdminURL()
	s, err := bffpostgres.Open(context.Background(), u, bffpostgres.Options{Table: table})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.Close()
		if c, err := pgx.Connect(context.Background(), u); err == nil {
			c.Exec(context.Background(), "DROP TABLE IF EXISTS "+table+", "+table+"_locks")
			c.Close(context.Background())
		}
	})
	return s
}

// newBFFEnv is a gateway in BFF mode on store.
func newBFFEnv(t *testing.T, store bffstore.Store, more func(*Config)) *env {
	return newEnv(t, envOpts{config: func(c *Config) {
		c.BFF.Store = store
		c.Session.SecretKey = bffSecret
		if more != nil {
			more(c)
		}
	}})
}

// twin is another gateway node like e's, on store, and its URL.
func (e *env) twin(t *testing.T, store bffstore.Store) string {
	cfg := e.gw.cfg
	cfg.Registry = nil
	cfg.BFF.Store = store
	gw, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(gw.Handler())
	t.Cleanup(ts.Close)
	return ts.URL
}

// browserCookies are the browser's cookies for the gateway.
func (e *env) browserCookies(b *browser) []*http.Cookie {
	u, _ := url.Parse(e.url)
	return b.c.Jar.Cookies(u)
}

func storeKey(t *testing.T, id string) bffstore.Key {
	t.Helper()
	k, ok := parseSessionID(id)
	if !ok {
		t.Fatalf("not a session id: %q", id)
	}
	return k
}

// get sends a request with a Cookie header (no jar) and decodes what
// the app saw, if it saw anything.
func get(t *testing.T, u, cookie string, headers ...string) (*http.Response, seen) {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, u, nil)
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	c := &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var s seen
	json.NewDecoder(resp.Body).Decode(&s)
	return resp, s
}

func TestBFFSignInKeepsTokensServerSide(t *testing.T) {
	store := &countingStore{Store: openSQLite(t, filepath.Join(t.TempDir(), "gateway-sessions.db"))}
	e := newBFFEnv(t, store, nil)
	e.pool.user(t, "bff-ann")
	b := newBrowser(t)
	resp := e.signIn(b, "bff-ann", "/")

	// The browser got one session cookie and not one token.
	var sessionLine string
	for _, line := range resp.Header.Values("Set-Cookie") {
		if strings.Contains(line, "CognitoIdentityServiceProvider") || strings.Contains(line, "eyJ") {
			t.Fatalf("a token reached the browser: %s", line)
		}
		if strings.HasPrefix(line, BFFCookie+"=") {
			sessionLine = line
		}
	}
	for _, attr := range []string{"; Path=/", "; HttpOnly", "; SameSite=Lax", fmt.Sprintf("; Max-Age=%d", int(DefaultBFFMaxAge/time.Second))} {
		if !strings.Contains(sessionLine, attr) {
			t.Fatalf("session cookie %q lacks %q", sessionLine, attr)
		}
	}
	var sessions int
	for _, c := range e.browserCookies(b) {
		switch {
		case c.Name == BFFCookie:
			sessions++
		case strings.HasPrefix(c.Name, "CognitoIdentityServiceProvider"):
			t.Fatalf("the browser holds a token cookie: %s", c.Name)
		case c.Name != "cognate.csrf":
			t.Fatalf("unexpected cookie %s", c.Name)
		}
	}
	id := e.cookie(b, BFFCookie)
	if sessions != 1 || len(id) != 43 {
		t.Fatalf("%d session cookies, id %q", sessions, id)
	}

	// The app gets the Amplify cookies and the identity headers, never
	// the session id.
	resp, s := b.seen(e.url+"/dashboard", spoofed...)
	if resp.StatusCode != http.StatusOK || s.Header.Get("X-Cognate-User") != "bff-ann" || s.Header.Get("X-Cognate-Email") != "bff-ann@example.com" {
		t.Fatalf("%d %v", resp.StatusCode, s.Header)
	}
	noForgery(t, s)
	access := forwardedCookie(s.Cookies, ".accessToken")
	if access == "" || forwardedCookie(s.Cookies, ".idToken") == "" || forwardedCookie(s.Cookies, ".refreshToken") == "" || forwardedCookie(s.Cookies, ".LastAuthUser") != "bff-ann" {
		t.Fatalf("the app's Cookie header: %s", s.Cookies)
	}
	if strings.Contains(s.Cookies, BFFCookie) || strings.Contains(s.Cookies, id) {
		t.Fatal("the session id reached the app")
	}
	if len(resp.Header.Values("Set-Cookie")) != 0 {
		t.Fatalf("a plain request set cookies: %v", resp.Header.Values("Set-Cookie"))
	}

	// At rest: under the id's hash, sealed.
	sealed, _, err := store.Get(t.Context(), storeKey(t, id))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(sealed), access[:20]) || strings.Contains(string(sealed), "bff-ann") || strings.Contains(string(sealed), "Cognito") {
		t.Fatal("the stored session is not encrypted")
	}

	// Same-origin scripts still get the access token.
	resp, body := b.do(http.MethodGet, e.url+"/api/auth/token", nil, session.TokenHeader, "1", "Origin", e.url)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, access) {
		t.Fatalf("token endpoint: %d %s", resp.StatusCode, body)
	}

	// WebSockets pass with the session.
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(e.url, "http")+"/ws", &websocket.DialOptions{HTTPHeader: http.Header{"Cookie": {e.cookieHeader(b)}}})
	if err != nil {
		t.Fatal(err)
	}
	ws.Write(ctx, websocket.MessageText, []byte("hi"))
	if _, got, err := ws.Read(ctx); err != nil || string(got) != "bff-ann:hi" {
		t.Fatalf("websocket echo %q, %v", got, err)
	}
	ws.Close(websocket.StatusNormalClosure, "")

	// Signing in again gives a new id; the old one is dead.
	e.signIn(b, "bff-ann", "/")
	id2 := e.cookie(b, BFFCookie)
	if id2 == id || len(id2) != 43 {
		t.Fatalf("sign-in kept the session id")
	}
	if _, _, err := store.Get(t.Context(), storeKey(t, id)); !errors.Is(err, bffstore.ErrNotFound) {
		t.Fatalf("the old session's row: %v", err)
	}
	if _, s := get(t, e.url+"/public/x", BFFCookie+"="+id); s.Header.Get("X-Cognate-User") != "" {
		t.Fatal("the old session id still signs in")
	}

	// Sign-out removes the row and the cookie, under the session's lock.
	locks := store.locks.Load()
	resp, _ = b.do(http.MethodGet, e.url+"/api/auth/sign-out", nil, "Sec-Fetch-Site", "same-origin")
	if resp.StatusCode/100 != 3 || store.locks.Load() != locks+1 {
		t.Fatalf("sign-out: %d, %d locks", resp.StatusCode, store.locks.Load()-locks)
	}
	for _, line := range resp.Header.Values("Set-Cookie") {
		if strings.Contains(line, "CognitoIdentityServiceProvider") {
			t.Fatalf("sign-out wrote a token cookie: %s", line)
		}
	}
	if _, _, err := store.Get(t.Context(), storeKey(t, id2)); !errors.Is(err, bffstore.ErrNotFound) {
		t.Fatalf("the signed-out session's row: %v", err)
	}
	if c := e.cookie(b, BFFCookie); c != "" {
		t.Fatalf("the browser kept the session cookie %q", c)
	}
	if resp, _ := b.do(http.MethodGet, e.url+"/dashboard", nil, "Accept", "text/html"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("signed out, /dashboard: %d", resp.StatusCode)
	}
}

// An id token far over a cookie's 4 KB goes through whole.
func TestBFFBigToken(t *testing.T) {
	e := newBFFEnv(t, openSQLite(t, filepath.Join(t.TempDir(), "s.db")), nil)
	groups := make([]string, 60)
	for i := range groups {
		groups[i] = fmt.Sprintf("bff-group-%02d-%s", i, strings.Repeat("x", 50))
	}
	e.pool.user(t, "bff-big", groups...)
	b := newBrowser(t)
	e.signIn(b, "bff-big", "/")
	_, s := b.seen(e.url + "/dashboard")
	id := forwardedCookie(s.Cookies, ".idToken")
	if len(id) <= 4096 || s.Header.Get("X-Cognate-User") != "bff-big" || !strings.Contains(s.Header.Get("X-Cognate-Groups"), groups[59]) {
		t.Fatalf("id token of %d bytes, user %q", len(id), s.Header.Get("X-Cognate-User"))
	}
	for _, c := range e.browserCookies(b) {
		if len(c.Value) > 100 {
			t.Fatalf("cookie %s holds %d bytes", c.Name, len(c.Value))
		}
	}
	// And through a refresh.
	e.expire(forwardedCookie(s.Cookies, ".accessToken"))
	before := e.pool.refreshes.Load()
	_, s = b.seen(e.url + "/dashboard")
	if e.pool.refreshes.Load() != before+1 || len(forwardedCookie(s.Cookies, ".idToken")) <= 4096 || s.Header.Get("X-Cognate-User") != "bff-big" {
		t.Fatalf("after refresh: user %q", s.Header.Get("X-Cognate-User"))
	}
}

// Forged, unknown, malformed and moved session ids sign out, cost at
// most one store read, and are expired in the browser; token cookies
// sent by the browser are not believed.
func TestBFFForgedSession(t *testing.T) {
	store := &countingStore{Store: openSQLite(t, filepath.Join(t.TempDir(), "s.db"))}
	e := newBFFEnv(t, store, nil)
	e.pool.user(t, "bff-cat")
	b := newBrowser(t)
	e.signIn(b, "bff-cat", "/")
	id := e.cookie(b, BFFCookie)
	_, s := b.seen(e.url + "/dashboard")
	tokens := s.Cookies

	unknown := make([]byte, 32)
	rand.Read(unknown)
	unknownID := base64.RawURLEncoding.EncodeToString(unknown)
	moved := strings.Repeat("A", 43)
	sealed, _, _ := store.Get(t.Context(), storeKey(t, id))
	if err := store.Put(t.Context(), storeKey(t, moved), sealed, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}

	for _, tt := range []struct {
		name, cookie string
		storeCalls   int64
	}{
		{"malformed", BFFCookie + "=" + id[:42], 0},
		{"too long", BFFCookie + "=" + strings.Repeat("a", 5000), 0},
		{"not base64url", BFFCookie + "=" + strings.Repeat("*", 43), 0},
		{"unknown", BFFCookie + "=" + unknownID, 1},
		{"another session's row", BFFCookie + "=" + moved, 2}, // read, then the row that does not open is deleted
		{"browser-sent tokens", tokens, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before := store.total()
			resp, s := get(t, e.url+"/public/x", tt.cookie)
			if resp.StatusCode != http.StatusOK || s.Header.Get("X-Cognate-User") != "" || strings.Contains(s.Cookies, "accessToken") {
				t.Fatalf("%d: the app saw user %q, cookies %s", resp.StatusCode, s.Header.Get("X-Cognate-User"), s.Cookies)
			}
			if got := store.total() - before; got != tt.storeCalls {
				t.Fatalf("%d store calls, want %d", got, tt.storeCalls)
			}
			expired := false
			for _, c := range resp.Cookies() {
				if (c.Name == BFFCookie || strings.HasPrefix(c.Name, "CognitoIdentityServiceProvider")) && c.MaxAge < 0 {
					expired = true
				}
			}
			if !expired || resp.Header.Get("Cache-Control") != "private, no-store" {
				t.Fatalf("cookie not expired: %v (%q)", resp.Header.Values("Set-Cookie"), resp.Header.Get("Cache-Control"))
			}
		})
	}
	if _, _, err := store.Get(t.Context(), storeKey(t, moved)); !errors.Is(err, bffstore.ErrNotFound) {
		t.Fatalf("the moved row: %v", err)
	}
	// The genuine session is untouched.
	if _, s := b.seen(e.url + "/dashboard"); s.Header.Get("X-Cognate-User") != "bff-cat" {
		t.Fatal("the genuine session was lost")
	}
}

// TestBFFOneRefreshAcrossNodes: two gateway nodes on one store; 20
// parallel requests of one expired session, split across both, make
// exactly one refresh at the pool (rotation on, so a second would be
// refused and sign the user out).
func TestBFFOneRefreshAcrossNodes(t *testing.T) {
	for _, tc := range []struct {
		name string
		open func(t *testing.T) (bffstore.Store, bffstore.Store)
	}{
		{"sqlite", func(t *testing.T) (bffstore.Store, bffstore.Store) {
			path := filepath.Join(t.TempDir(), "shared.db")
			return openSQLite(t, path), openSQLite(t, path)
		}},
		{"redis", func(t *testing.T) (bffstore.Store, bffstore.Store) {
			prefix := "cognate-test:" + rand.Text() + ":"
			return openRedis(t, prefix), openRedis(t, prefix)
		}},
		{"postgres", func(t *testing.T) (bffstore.Store, bffstore.Store) {
			table := "bff_gw_" + strings.ToLower(rand.Text())
			return openPostgres(t, table), openPostgres(t, table)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s1, s2 := tc.open(t)
			e := newBFFEnv(t, s1, nil)
			second := e.twin(t, s2)
			e.pool.user(t, "bff-bob")
			b := newBrowser(t)
			e.signIn(b, "bff-bob", "/")
			cookie := BFFCookie + "=" + e.cookie(b, BFFCookie)
			_, s := b.seen(e.url + "/dashboard")
			old := forwardedCookie(s.Cookies, ".accessToken")
			oldRT := forwardedCookie(s.Cookies, ".refreshToken")
			e.expire(old)
			before := e.pool.refreshes.Load()

			const n = 20
			type result struct {
				status     int
				user       string
				access, rt string
				sets       []string
			}
			results := make([]result, n)
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i := range n {
				node := e.url
				if i%2 == 1 {
					node = second
				}
				wg.Go(func() {
					<-start
					resp, s := get(t, node+"/dashboard", cookie)
					results[i] = result{resp.StatusCode, s.Header.Get("X-Cognate-User"), forwardedCookie(s.Cookies, ".accessToken"),
						forwardedCookie(s.Cookies, ".refreshToken"), resp.Header.Values("Set-Cookie")}
				})
			}
			close(start)
			wg.Wait()
			if got := e.pool.refreshes.Load() - before; got != 1 {
				t.Fatalf("%d refreshes at the pool for %d parallel requests on two nodes, want 1", got, n)
			}
			first := results[0]
			if first.access == old || first.rt == oldRT || first.rt == "" {
				t.Fatal("the app did not get rotated tokens")
			}
			for i, r := range results {
				if r.status != http.StatusOK || r.user != "bff-bob" || r.access != first.access || r.rt != first.rt {
					t.Fatalf("request %d: %d user %q, same tokens as request 0: %v", i, r.status, r.user, r.access == first.access && r.rt == first.rt)
				}
				if len(r.sets) != 0 {
					t.Fatalf("request %d set cookies: %v", i, r.sets)
				}
			}
			// Settled: no more refreshes, on either node.
			for _, node := range []string{e.url, second} {
				if _, s := get(t, node+"/dashboard", cookie); s.Header.Get("X-Cognate-User") != "bff-bob" || forwardedCookie(s.Cookies, ".accessToken") != first.access {
					t.Fatalf("%s after the refresh: %q", node, s.Header.Get("X-Cognate-User"))
				}
			}
			if got := e.pool.refreshes.Load() - before; got != 1 {
				t.Fatalf("%d refreshes after settling", got)
			}
		})
	}
}

// TestBFFStoreDown: with the store unreachable, requests that need it
// get a 503 page or JSON at once; the rest still work.
func TestBFFStoreDown(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := ln.Addr().String()
	ln.Close()
	store, err := bffredis.Open("redis://"+dead, bffredis.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	e := newBFFEnv(t, store, nil)
	e.pool.user(t, "bff-dan")
	id := strings.Repeat("B", 43)
	for _, tt := range []struct{ accept, ctype, want string }{
		{"text/html", "text/html", "Sessions are unavailable"},
		{"application/json", "application/json", `"error":"session_store_unavailable"`},
	} {
		start := time.Now()
		resp, body := newBrowser(t).do(http.MethodGet, e.url+"/dashboard", nil, "Accept", tt.accept, "Cookie", BFFCookie+"="+id)
		if resp.StatusCode != http.StatusServiceUnavailable || !strings.HasPrefix(resp.Header.Get("Content-Type"), tt.ctype) || !strings.Contains(body, tt.want) {
			t.Fatalf("%d %s %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Fatalf("503 took %v", d)
		}
	}
	// No session cookie: nothing to read.
	if resp, _ := newBrowser(t).do(http.MethodGet, e.url+"/public/x", nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("public page without a session: %d", resp.StatusCode)
	}
	// A sign-in cannot be stored: 503, and no cookie at all.
	b := newBrowser(t)
	_, s := b.seen(e.url+"/public/login", "Accept", "text/html")
	form := url.Values{"username": {"bff-dan"}, "password": {password}, "csrf": {s.Header.Get("X-Cognate-Csrf-Token")}}
	resp, body := b.do(http.MethodPost, e.url+"/api/auth/password", strings.NewReader(form.Encode()),
		"Content-Type", "application/x-www-form-urlencoded", "Origin", e.url, "Accept", "text/html")
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, "Sessions are unavailable") || resp.Header.Get("Location") != "" {
		t.Fatalf("sign-in with the store down: %d %s", resp.StatusCode, body)
	}
	if len(resp.Header.Values("Set-Cookie")) != 0 {
		t.Fatalf("cookies set: %v", resp.Header.Values("Set-Cookie"))
	}
}

func TestBFFIdleTimeout(t *testing.T) {
	e := newBFFEnv(t, openSQLite(t, filepath.Join(t.TempDir(), "s.db")), func(c *Config) { c.BFF.IdleTimeout = time.Second })
	e.pool.user(t, "bff-eve")
	b := newBrowser(t)
	e.signIn(b, "bff-eve", "/")
	// Used every 300 ms, the session outlives the idle timeout.
	for range 5 {
		time.Sleep(300 * time.Millisecond)
		if _, s := b.seen(e.url + "/dashboard"); s.Header.Get("X-Cognate-User") != "bff-eve" {
			t.Fatal("an active session timed out")
		}
	}
	time.Sleep(1200 * time.Millisecond)
	if resp, _ := b.do(http.MethodGet, e.url+"/dashboard", nil, "Accept", "text/html"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("an idle session: %d", resp.StatusCode)
	}
}

func TestBFFConfig(t *testing.T) {
	p := newPool(t)
	base := Config{Upstream: "http://127.0.0.1:1", Session: session.Config{UserPoolID: p.id, ClientID: "x", Origin: "https://app.example.com"}}
	store := openSQLite(t, filepath.Join(t.TempDir(), "s.db"))
	for name, mod := range map[string]func(*Config){
		"client mode":  func(c *Config) { c.Session.Mode = session.ModeClient },
		"negative age": func(c *Config) { c.BFF.MaxAge = -time.Second },
		"negative idle": func(c *Config) {
			c.BFF.IdleTimeout = -time.Second
		},
	} {
		cfg := base
		cfg.BFF.Store = store
		mod(&cfg)
		if _, err := New(cfg); !errors.Is(err, ErrConfig) {
			t.Errorf("%s: %v", name, err)
		}
	}
	cfg := base
	cfg.BFF.Store = store
	g, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	// https: the __Host- name, Secure.
	req := httptest.NewRequest(http.MethodGet, "https://app.example.com/public", nil)
	req.Header.Set("Cookie", "__Host-"+BFFCookie+"=short")
	rec := httptest.NewRecorder()
	g.Handler().ServeHTTP(rec, req)
	if line := rec.Header().Get("Set-Cookie"); !strings.HasPrefix(line, "__Host-"+BFFCookie+"=;") || !strings.Contains(line, "; Secure") {
		t.Fatalf("https session cookie: %q", line)
	}
}

// FuzzBFFCookieHeader: whatever the browser sends, the session id is
// taken only from the session cookie, neither spelling of it nor a
// token cookie of this client reaches the app as sent, and an id is
// looked up only when it can be one.
func FuzzBFFCookieHeader(f *testing.F) {
	for _, seed := range []string{
		"cognate.session=" + strings.Repeat("A", 43),
		"a=1; cognate.session=x; __Host-cognate.session=y; b=2",
		"CognitoIdentityServiceProvider.client.LastAuthUser=u; CognitoIdentityServiceProvider%2Eclient.u.accessToken=t",
		";;=;cognate.session;  cognate.session =z",
	} {
		f.Add(seed)
	}
	g := &Gateway{cookiePrefix: "CognitoIdentityServiceProvider.client."}
	b := &bff{g: g, cookie: BFFCookie}
	f.Fuzz(func(t *testing.T, header string) {
		id, others, stale := b.splitCookies([]string{header})
		for _, o := range others {
			name, _, _ := strings.Cut(o, "=")
			if name == BFFCookie || name == "__Host-"+BFFCookie || g.tokenCookie(name) {
				t.Fatalf("%q passed to the app", o)
			}
		}
		for _, n := range stale {
			if !g.tokenCookie(n) {
				t.Fatalf("%q taken for a token cookie", n)
			}
		}
		if _, ok := parseSessionID(id); ok && len(id) != 43 {
			t.Fatalf("id %q accepted", id)
		}
	})
}
