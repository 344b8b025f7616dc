package server

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// discoveryGolden is the discovery document of the default pool as the
// server sent it before the document moved to package oauth, with the
// pool ID as {pool}: the move must not change a byte.
const discoveryGolden = `{"authorization_endpoint":"http://localhost:9229/oauth2/authorize",` +
	`"claims_supported":["sub","iss","aud","exp","iat","auth_time","token_use","cognito:username","cognito:groups","email","email_verified","phone_number","phone_number_verified","name"],` +
	`"code_challenge_methods_supported":["S256"],` +
	`"grant_types_supported":["authorization_code","implicit","refresh_token","client_credentials"],` +
	`"id_token_signing_alg_values_supported":["RS256"],` +
	`"issuer":"http://localhost:9229/{pool}",` +
	`"jwks_uri":"http://localhost:9229/{pool}/.well-known/jwks.json",` +
	`"response_types_supported":["code","token"],` +
	`"revocation_endpoint":"http://localhost:9229/oauth2/revoke",` +
	`"scopes_supported":["openid","email","phone","profile","aws.cognito.signin.user.admin"],` +
	`"subject_types_supported":["public"],` +
	`"token_endpoint":"http://localhost:9229/oauth2/token",` +
	`"token_endpoint_auth_methods_supported":["client_secret_basic","client_secret_post"],` +
	`"userinfo_endpoint":"http://localhost:9229/oauth2/userInfo"}` + "\n"

// wellKnownHeaders are the headers of a served discovery document or key
// set (Content-Length aside).
var wellKnownHeaders = http.Header{
	"Access-Control-Allow-Origin": {"*"},
	"Cache-Control":               {"public, max-age=300"},
	"Content-Type":                {"application/json"},
	"X-Content-Type-Options":      {"nosniff"},
}

// errorHeaders are the headers of a well-known route's JSON error.
var errorHeaders = http.Header{
	"Content-Type":           {"application/json"},
	"X-Content-Type-Options": {"nosniff"},
}

// wireResponse does one request over a real connection and returns the
// response with its body read and the headers that vary per request
// (Date, x-amzn-RequestId) dropped.
func wireResponse(t *testing.T, method, url string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	resp.Header.Del("Date")
	resp.Header.Del("X-Amzn-Requestid")
	return resp, string(body)
}

// withLength is h plus the Content-Length of body.
func withLength(h http.Header, body string) http.Header {
	h = h.Clone()
	h.Set("Content-Length", itoa(len(body)))
	return h
}

// TestWellKnownWire: the discovery document and key set of the default
// pool, a pool that does not exist and a method the routes refuse, byte
// for byte and header for header as the server sent them before the
// routes moved to package oauth.
func TestWellKnownWire(t *testing.T) {
	s := newTestServer(t, Config{})
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()
	jwks, err := s.Service().Keys().JWKS(t.Context(), s.Pool.ID)
	if err != nil {
		t.Fatal(err)
	}
	disc := strings.ReplaceAll(discoveryGolden, "{pool}", s.Pool.ID)
	discPath := "/" + s.Pool.ID + "/.well-known/openid-configuration"
	jwksPath := "/" + s.Pool.ID + "/.well-known/jwks.json"
	for _, tt := range []struct {
		name, method, path string
		status             int
		header             http.Header
		body               string
	}{
		{"discovery", "GET", discPath, 200, withLength(wellKnownHeaders, disc), disc},
		{"discovery HEAD", "HEAD", discPath, 200, withLength(wellKnownHeaders, disc), ""},
		{"jwks", "GET", jwksPath, 200, withLength(wellKnownHeaders, string(jwks)), string(jwks)},
		{"discovery of a missing pool", "GET", "/us-east-1_missing/.well-known/openid-configuration", 404,
			withLength(errorHeaders, `{"message":"User pool us-east-1_missing does not exist."}`+"\n"),
			`{"message":"User pool us-east-1_missing does not exist."}` + "\n"},
		{"jwks of a missing pool", "GET", "/us-east-1_missing/.well-known/jwks.json", 404,
			withLength(errorHeaders, `{"message":"User pool us-east-1_missing does not exist."}`+"\n"),
			`{"message":"User pool us-east-1_missing does not exist."}` + "\n"},
		// The pool ID is the client's; it comes back JSON- and HTML-escaped.
		{"missing pool named with markup", "GET", "/us-east-1_%3Cx%3E/.well-known/jwks.json", 404,
			withLength(errorHeaders, `{"message":"User pool us-east-1_\u003cx\u003e does not exist."}`+"\n"),
			`{"message":"User pool us-east-1_\u003cx\u003e does not exist."}` + "\n"},
		{"POST", "POST", jwksPath, 405, http.Header{
			"Allow": {"GET, HEAD"}, "Content-Type": {"text/plain; charset=utf-8"},
			"X-Content-Type-Options": {"nosniff"}, "Content-Length": {"19"},
		}, "Method Not Allowed\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := wireResponse(t, tt.method, ts.URL+tt.path)
			if resp.StatusCode != tt.status || body != tt.body {
				t.Errorf("%d %q\nwant %d %q", resp.StatusCode, body, tt.status, tt.body)
			}
			if !equalHeaders(resp.Header, tt.header) {
				t.Errorf("headers %v\nwant %v", resp.Header, tt.header)
			}
		})
	}
}

func equalHeaders(a, b http.Header) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if !slices.Equal(v, b[k]) {
			return false
		}
	}
	return true
}

// TestWellKnownStorageFailure: when the pool cannot be read, both routes
// answer 500 with a message that gives nothing away.
func TestWellKnownStorageFailure(t *testing.T) {
	s := newTestServer(t, Config{})
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()
	// The well-known routes were served once, so that what is cached is in
	// the cache: a failing store must fail them even so.
	for _, p := range []string{"/.well-known/openid-configuration", "/.well-known/jwks.json"} {
		if resp, body := wireResponse(t, "GET", ts.URL+"/"+s.Pool.ID+p); resp.StatusCode != 200 {
			t.Fatalf("GET %s: %d %s", p, resp.StatusCode, body)
		}
	}
	s.store.Close()
	const want = `{"message":"Internal server error."}` + "\n"
	for _, p := range []string{"/.well-known/openid-configuration", "/.well-known/jwks.json"} {
		resp, body := wireResponse(t, "GET", ts.URL+"/"+s.Pool.ID+p)
		if resp.StatusCode != 500 || body != want || !equalHeaders(resp.Header, withLength(errorHeaders, want)) {
			t.Errorf("GET %s with storage closed: %d %v %q", p, resp.StatusCode, resp.Header, body)
		}
	}
}

// TestJWKSAfterRotate: a rotated key is in the key set served at once,
// beside the keys it replaced.
func TestJWKSAfterRotate(t *testing.T) {
	s := newTestServer(t, Config{})
	kids := func() []string {
		t.Helper()
		w := serve(t, s, "GET", "/"+s.Pool.ID+"/.well-known/jwks.json", "127.0.0.1:1")
		var set struct{ Keys []struct{ Kid string } }
		if err := json.Unmarshal(w.Body.Bytes(), &set); w.Code != 200 || err != nil {
			t.Fatalf("jwks %d %v %s", w.Code, err, w.Body)
		}
		var ks []string
		for _, k := range set.Keys {
			ks = append(ks, k.Kid)
		}
		return ks
	}
	before := kids()
	if err := s.Service().Keys().Rotate(t.Context(), s.Pool.ID, "access"); err != nil {
		t.Fatal(err)
	}
	after := kids()
	if len(after) != len(before)+1 {
		t.Fatalf("kids %v after rotating, %v before", after, before)
	}
	for _, k := range before {
		if !slices.Contains(after, k) {
			t.Errorf("kid %s left the key set on rotation: %v", k, after)
		}
	}
}

// TestRequestMetricLabels: cognate_http_requests_total is labelled with
// the pattern the server's mux matched, also when a mux inside the
// matched handler answers (405 from oauth's), when the pattern's handler
// answers 404, and when the mux redirects to the canonical path; requests
// no pattern matches are "unmatched". The labels are those the server
// used before it took them from the request instead of a second lookup.
func TestRequestMetricLabels(t *testing.T) {
	s := newTestServer(t, Config{})
	for _, r := range []struct{ method, path string }{
		{"GET", "/"},
		{"GET", "/healthz"},
		{"POST", "/healthz"},
		{"GET", "/" + s.Pool.ID + "/.well-known/openid-configuration"},
		{"GET", "/" + s.Pool.ID + "/.well-known/jwks.json"},
		{"GET", "/us-east-1_missing/.well-known/jwks.json"},
		{"GET", "/us-east-1_missing/.well-known/openid-configuration"},
		{"POST", "/" + s.Pool.ID + "/.well-known/jwks.json"},
		{"GET", "/oauth2/authorize"},
		{"POST", "/oauth2/authorize"},
		{"POST", "/oauth2/token"},
		{"GET", "/_cognate/assets"},
		{"GET", "/oauth2/../healthz"},
		{"GET", "/nope/x"},
		{"GET", "/nope/y"},
	} {
		serve(t, s, r.method, r.path, "127.0.0.1:1")
	}
	want := []string{
		`cognate_http_requests_total{code="200",route="GET /healthz"} 1`,
		`cognate_http_requests_total{code="200",route="GET /{$}"} 1`,
		`cognate_http_requests_total{code="200",route="GET /{pool}/.well-known/jwks.json"} 1`,
		`cognate_http_requests_total{code="200",route="GET /{pool}/.well-known/openid-configuration"} 1`,
		`cognate_http_requests_total{code="307",route="/_cognate/assets/"} 1`,
		`cognate_http_requests_total{code="307",route="GET /healthz"} 1`,
		`cognate_http_requests_total{code="400",route="/oauth2/authorize"} 1`,
		`cognate_http_requests_total{code="400",route="/oauth2/token"} 1`,
		`cognate_http_requests_total{code="404",route="GET /{pool}/.well-known/jwks.json"} 1`,
		`cognate_http_requests_total{code="404",route="GET /{pool}/.well-known/openid-configuration"} 1`,
		`cognate_http_requests_total{code="404",route="unmatched"} 2`,
		`cognate_http_requests_total{code="405",route="/oauth2/authorize"} 1`,
		`cognate_http_requests_total{code="405",route="unmatched"} 2`,
	}
	w := httptest.NewRecorder()
	s.MetricsHandler().ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
	var got []string
	for l := range strings.Lines(w.Body.String()) {
		if strings.HasPrefix(l, "cognate_http_requests_total{") {
			got = append(got, strings.TrimSuffix(l, "\n"))
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("request metrics:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// BenchmarkMiddleware is the cost of the request middleware (request id,
// log line, metric) and the server's mux around handlers that do nothing,
// for a route, a route answered by a mux inside its handler, and an
// unmatched path.
func BenchmarkMiddleware(b *testing.B) {
	s := &Server{log: slog.New(slog.DiscardHandler)}
	nop := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	h := s.routes(nop, nop, nop, prometheus.NewRegistry())
	for _, bb := range []struct{ name, method, path string }{
		{"api", "POST", "/"},
		{"oauth", "POST", "/oauth2/token"},
		{"unmatched", "GET", "/nope/x"},
	} {
		b.Run(bb.name, func(b *testing.B) {
			r := httptest.NewRequest(bb.method, bb.path, nil)
			w := httptest.NewRecorder()
			b.ReportAllocs()
			for b.Loop() {
				h.ServeHTTP(w, r)
			}
		})
	}
}
