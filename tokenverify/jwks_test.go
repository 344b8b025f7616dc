package tokenverify_test

import (
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cognate-auth/cognate/tokenverify"
)

func wantUnavailable(t *testing.T, c *tokenverify.Claims, err error) {
	t.Helper()
	if !errors.Is(err, tokenverify.ErrUnavailable) {
		t.Fatalf("Verify error %v, want ErrUnavailable", err)
	}
	if errors.Is(err, tokenverify.ErrInvalid) || errors.Is(err, tokenverify.ErrExpired) {
		t.Fatalf("Verify error %v also matches ErrInvalid or ErrExpired", err)
	}
	if c != nil {
		t.Fatalf("claims %+v with an unavailable JWKS", c)
	}
}

// TestJWKSUnusable serves JWKS answers from which no key can be taken:
// the token cannot be judged, so ErrUnavailable (never ErrInvalid, which
// would end a session). Once the JWKS is fixed, the token verifies.
func TestJWKSUnusable(t *testing.T) {
	l := newLocal(t)
	good := jwkOf(l.kid, &l.key.PublicKey)
	with := func(k, v string) map[string]any {
		m := jwkOf(l.kid, &l.key.PublicKey)
		m[k] = v
		return m
	}
	short := jwkOf(l.kid, &l.key.PublicKey)
	short["n"] = b64.EncodeToString(l.key.N.Bytes()[:128]) // 1024 bits
	cases := []struct {
		name   string
		status int
		doc    []byte
	}{
		{"500", 500, []byte(`{"message":"oops"}`)},
		{"404", 404, []byte(`not found`)},
		{"HTML", 200, []byte(`<html>maintenance</html>`)},
		{"oversized", 200, []byte(`{"keys":[],"pad":"` + strings.Repeat("x", 300<<10) + `"}`)},
		{"no keys", 200, []byte(`{"keys":[]}`)},
		{"keys not a list", 200, []byte(`{"keys":{}}`)},
		{"EC key", 200, jwksDoc(with("kty", "EC"))},
		{"HS256 key", 200, jwksDoc(with("alg", "HS256"))},
		{"encryption key", 200, jwksDoc(with("use", "enc"))},
		{"1024-bit key", 200, jwksDoc(short)},
		{"even exponent", 200, jwksDoc(with("e", "AQAC"))},
		{"bad modulus", 200, jwksDoc(with("n", "!!"))},
		{"duplicate kid", 200, jwksDoc(good, jwkOf(l.kid, &testKeys()[1].PublicKey))},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l.serve(tc.status, tc.doc)
			clk := &clock{}
			v := l.verifier(t, func(c *tokenverify.Config) { c.Now = clk.Now })
			tok := l.sign(t, l.claims())
			c, err := v.Verify(t.Context(), tok)
			wantUnavailable(t, c, err)
			// Right after a failure, no new fetch: the same answer.
			before := l.fetches.Load()
			c, err = v.Verify(t.Context(), tok)
			wantUnavailable(t, c, err)
			if l.fetches.Load() != before {
				t.Fatal("refetched immediately after a failure")
			}
			l.serve(200, jwksDoc(good))
			clk.advance(2 * time.Second)
			if _, err := v.Verify(t.Context(), tok); err != nil {
				t.Fatalf("after the JWKS was fixed: %v", err)
			}
		})
	}
}

func TestJWKSUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String()
	ln.Close()
	l := newLocal(t)
	v, err := tokenverify.New(tokenverify.Config{Issuer: l.issuer, JWKSURL: url + "/jwks.json"})
	if err != nil {
		t.Fatal(err)
	}
	c, err := v.Verify(t.Context(), l.sign(t, l.claims()))
	wantUnavailable(t, c, err)
	if _, err := tokenverify.Discover(t.Context(), nil, url+"/pool"); !errors.Is(err, tokenverify.ErrUnavailable) {
		t.Fatalf("Discover of an unreachable issuer: %v", err)
	}
}

// TestStaleKeys: after an hour the key set is refetched on use; if the
// issuer is down the old keys go on serving, and a key the issuer has
// withdrawn stops verifying.
func TestStaleKeys(t *testing.T) {
	l := newLocal(t)
	clk := &clock{}
	v := l.verifier(t, func(c *tokenverify.Config) { c.Now = clk.Now })
	if _, err := v.Verify(t.Context(), l.sign(t, l.claims())); err != nil {
		t.Fatal(err)
	}
	clk.advance(2 * time.Hour)
	l.serve(503, []byte("down"))
	fresh := func() string {
		now := clk.Now().Unix()
		return l.sign(t, l.with(map[string]any{"iat": now, "auth_time": now, "exp": now + 3600}))
	}
	if _, err := v.Verify(t.Context(), fresh()); err != nil {
		t.Fatalf("stale key with the issuer down: %v", err)
	}
	other := testKeys()[1]
	l.serve(200, jwksDoc(jwkOf("k2", &other.PublicKey)))
	clk.advance(2 * time.Second)
	c, err := v.Verify(t.Context(), fresh())
	wantInvalid(t, c, err)
}

func TestDiscoverRefuses(t *testing.T) {
	var doc string
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/.well-known/openid-configuration" {
			http.NotFound(w, r)
			return
		}
		w.Write([]byte(doc))
	}))
	defer ts.Close()
	cases := []struct {
		name        string
		doc         string
		ok          bool
		unavailable bool
	}{
		{"good", `{"issuer":"` + ts.URL + `","jwks_uri":"https://keys.example/jwks"}`, true, false},
		{"other issuer", `{"issuer":"https://evil.example","jwks_uri":"https://keys.example/jwks"}`, false, false},
		{"no jwks_uri", `{"issuer":"` + ts.URL + `"}`, false, false},
		{"jwks_uri not http", `{"issuer":"` + ts.URL + `","jwks_uri":"file:///etc/passwd"}`, false, false},
		{"not JSON", `<html>`, false, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			doc = tc.doc
			got, err := tokenverify.Discover(t.Context(), ts.Client(), ts.URL)
			if tc.ok {
				if err != nil || got != "https://keys.example/jwks" {
					t.Fatalf("Discover = %q, %v", got, err)
				}
				return
			}
			if err == nil || errors.Is(err, tokenverify.ErrUnavailable) != tc.unavailable {
				t.Fatalf("Discover = %q, %v; want an error, unavailable %v", got, err, tc.unavailable)
			}
		})
	}
}

func TestNew(t *testing.T) {
	cases := []struct {
		name string
		cfg  tokenverify.Config
		ok   bool
	}{
		{"minimal", tokenverify.Config{Issuer: "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_x"}, true},
		{"no issuer", tokenverify.Config{}, false},
		{"issuer not a URL", tokenverify.Config{Issuer: "us-east-1_x"}, false},
		{"bad JWKS URL", tokenverify.Config{Issuer: "https://i.example", JWKSURL: "ftp://x"}, false},
		{"bad token use", tokenverify.Config{Issuer: "https://i.example", TokenUse: "refresh"}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tokenverify.New(tc.cfg)
			if (err == nil) != tc.ok {
				t.Fatalf("New(%+v) error %v", tc.cfg, err)
			}
		})
	}
}
