package session_test

// Benchmarks. BenchmarkBareHandler and BenchmarkMiddlewareValidSession
// serve the same handler for the same request (valid session cookies),
// without and with the Middleware, in parallel: their ratio is the cost
// of the session layer on a signed-in request. "http" runs over a
// loopback HTTP server with keep-alive (requests per second as a server
// sees them); "inproc" calls ServeHTTP directly (the bare overhead).
//
//	go test -run '^$' -bench . -benchtime 2s ./session/

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cognate-auth/cognate/issuerclient"
	"github.com/cognate-auth/cognate/session"
)

// benchEnv is a Manager and a signed-in Cookie header.
type benchEnv struct {
	p      *idp
	m      *session.Manager
	client string
	cfg    session.Config
	cookie string
	// warm is another session of the same user, to fetch the JWKS with.
	warm string
}

var (
	benchOnce sync.Once
	bench     *benchEnv
)

func newBenchEnv(b *testing.B) *benchEnv {
	b.Helper()
	benchOnce.Do(func() {
		p := newIDP(b)
		origin := "http://localhost:3999"
		client := p.client(b, origin, clientOpts{})
		p.user(b, "bench-user", false)
		cfg := session.Config{
			UserPoolID: p.pool, ClientID: client, Endpoint: p.url, OAuthDomain: p.url,
			Origin: origin, HTTPClient: session.InProcess(p.handler),
		}
		m, err := session.New(cfg)
		if err != nil {
			b.Fatal(err)
		}
		ic, err := issuerclient.New(issuerclient.Config{UserPoolID: p.pool, ClientID: client, Endpoint: p.url, HTTPClient: session.InProcess(p.handler)})
		if err != nil {
			b.Fatal(err)
		}
		var cookies [2]string
		for i := range cookies {
			res, err := ic.SignInSRP(context.Background(), "bench-user", password)
			if err != nil || res.Tokens == nil {
				b.Fatalf("SignInSRP: %v", err)
			}
			cookies[i] = cookieFor(client, "bench-user", res.Tokens)
		}
		bench = &benchEnv{p: p, m: m, client: client, cfg: cfg, cookie: cookies[0], warm: cookies[1]}
	})
	if bench == nil {
		b.Fatal("bench setup failed")
	}
	return bench
}

// cookieFor is the Cookie header of a session as Amplify names it.
func cookieFor(client, user string, t *issuerclient.Tokens) string {
	pre := "CognitoIdentityServiceProvider." + client + "."
	return strings.Join([]string{
		"theme=dark", "_ga=GA1.1.123456789.1700000000",
		pre + "LastAuthUser=" + user,
		pre + user + ".accessToken=" + t.AccessToken,
		pre + user + ".idToken=" + t.IDToken,
		pre + user + ".refreshToken=" + t.RefreshToken,
		pre + user + ".clockDrift=0",
	}, "; ")
}

// page is the handler both benchmarks serve: a small page naming the
// user when there is one.
var page = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	name := "guest"
	if s := session.FromContext(r.Context()); s != nil {
		name = s.Username
	}
	io.WriteString(w, "<!doctype html><title>Dashboard</title><p>Hello, ")
	io.WriteString(w, name)
})

// discard is a ResponseWriter that keeps nothing.
type discard struct{ h http.Header }

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(p []byte) (int, error) { return len(p), nil }
func (d *discard) WriteHeader(int)             {}

func runInProc(b *testing.B, h http.Handler, cookie string, check bool) {
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		req := httptest.NewRequest(http.MethodGet, "http://localhost:3999/dashboard", nil)
		req.Header.Set("Cookie", cookie)
		w := &discard{h: http.Header{}}
		for pb.Next() {
			clear(w.h)
			h.ServeHTTP(w, req)
		}
	})
	if check {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodGet, "http://localhost:3999/dashboard", nil)
		req.Header.Set("Cookie", cookie)
		h.ServeHTTP(rec, req)
		if !strings.Contains(rec.Body.String(), "Hello, bench-user") {
			b.Fatalf("the middleware did not see the session: %s", rec.Body)
		}
	}
}

func runHTTP(b *testing.B, h http.Handler, cookie string) {
	srv := httptest.NewServer(h)
	defer srv.Close()
	tr := &http.Transport{MaxIdleConnsPerHost: 256}
	defer tr.CloseIdleConnections()
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req, _ := http.NewRequest(http.MethodGet, srv.URL+"/dashboard", nil)
			req.Header.Set("Cookie", cookie)
			resp, err := tr.RoundTrip(req)
			if err != nil {
				b.Error(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	})
}

func BenchmarkBareHandler(b *testing.B) {
	e := newBenchEnv(b)
	b.Run("inproc", func(b *testing.B) { runInProc(b, page, e.cookie, false) })
	b.Run("http", func(b *testing.B) { runHTTP(b, page, e.cookie) })
}

func BenchmarkMiddlewareValidSession(b *testing.B) {
	e := newBenchEnv(b)
	h := e.m.Middleware(page)
	b.Run("inproc", func(b *testing.B) { runInProc(b, h, e.cookie, true) })
	b.Run("http", func(b *testing.B) { runHTTP(b, h, e.cookie) })
}

// BenchmarkMiddlewareRatio alternates the two over loopback HTTP, one
// request each per iteration, so that load on the machine hits both
// alike; rps-ratio is requests per second with the Middleware over
// requests per second without it.
func BenchmarkMiddlewareRatio(b *testing.B) {
	e := newBenchEnv(b)
	bare, mw := httptest.NewServer(page), httptest.NewServer(e.m.Middleware(page))
	defer bare.Close()
	defer mw.Close()
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	get := func(url string) time.Duration {
		start := time.Now()
		req, _ := http.NewRequest(http.MethodGet, url+"/dashboard", nil)
		req.Header.Set("Cookie", e.cookie)
		resp, err := tr.RoundTrip(req)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return time.Since(start)
	}
	get(bare.URL)
	get(mw.URL)
	var tBare, tMW time.Duration
	for b.Loop() {
		tBare += get(bare.URL)
		tMW += get(mw.URL)
	}
	b.ReportMetric(float64(tBare)/float64(tMW), "rps-ratio")
	b.ReportMetric(float64(tBare.Nanoseconds())/float64(b.N), "bare-ns/req")
	b.ReportMetric(float64(tMW.Nanoseconds())/float64(b.N), "mw-ns/req")
}

// BenchmarkFirstSight is a request whose tokens this process has never
// verified: both signatures checked, claims parsed, session built (the
// JWKS is already fetched).
func BenchmarkFirstSight(b *testing.B) {
	e := newBenchEnv(b)
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		m, err := session.New(e.cfg)
		if err != nil {
			b.Fatal(err)
		}
		h := m.Middleware(page)
		// Fetch the JWKS with the other session, so that only the
		// verification is timed.
		req := httptest.NewRequest(http.MethodGet, "http://localhost:3999/", nil)
		req.Header.Set("Cookie", e.warm)
		h.ServeHTTP(&discard{h: http.Header{}}, req)
		req = httptest.NewRequest(http.MethodGet, "http://localhost:3999/dashboard", nil)
		req.Header.Set("Cookie", e.cookie)
		w := &discard{h: http.Header{}}
		b.StartTimer()
		h.ServeHTTP(w, req)
	}
}

// BenchmarkRefresh is Manager.Refresh against the in-process Cognate:
// GetTokensFromRefreshToken, verification of the new tokens, and the
// cookies written.
func BenchmarkRefresh(b *testing.B) {
	e := newBenchEnv(b)
	h := e.m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := e.m.Refresh(w, r); err != nil {
			b.Error(err)
		}
	}))
	req := httptest.NewRequest(http.MethodGet, "http://localhost:3999/", nil)
	req.Header.Set("Cookie", e.cookie)
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(&discard{h: http.Header{}}, req)
	}
}
