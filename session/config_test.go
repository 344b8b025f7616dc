package session

import (
	"net/http"
	"strings"
	"testing"
)

func TestNewRejects(t *testing.T) {
	base := Config{UserPoolID: "us-east-1_abc", ClientID: "client1", Origin: "https://app.example"}
	for name, mut := range map[string]func(*Config){
		"no client":          func(c *Config) { c.ClientID = "" },
		"client with dots":   func(c *Config) { c.ClientID = "a.b" },
		"no origin":          func(c *Config) { c.Origin = "" },
		"origin with path":   func(c *Config) { c.Origin = "https://app.example/app" },
		"origin not http":    func(c *Config) { c.Origin = "ftp://app.example" },
		"unsafe AfterSignIn": func(c *Config) { c.AfterSignIn = "//evil.example" },
		"unsafe challenge":   func(c *Config) { c.ChallengePath = "https://evil.example" },
		"OIDC, no issuer":    func(c *Config) { c.UserPoolID = ""; c.OAuthDomain = "https://auth.example" },
		"None, not Secure": func(c *Config) {
			c.Origin, c.Cookies.SameSite = "http://localhost:3000", http.SameSiteNoneMode
		},
		"bad cookie path":   func(c *Config) { c.Cookies.Path = "app" },
		"bad legacy domain": func(c *Config) { c.Cookies.LegacyDomains = []string{"a;b"} },
	} {
		cfg := base
		mut(&cfg)
		if _, err := New(cfg); err == nil {
			t.Errorf("%s: New accepted it", name)
		}
	}
	m, err := New(base)
	if err != nil {
		t.Fatal(err)
	}
	if c := m.Config(); c.MountPath != "/api/auth/" || c.AfterSignIn != "/" || c.Issuer != "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_abc" {
		t.Errorf("defaults: %+v", c)
	}
}

// TestPolicy: the attributes each configuration writes and deletes with.
func TestPolicy(t *testing.T) {
	yes, no := true, false
	for _, tc := range []struct {
		name   string
		cfg    Config
		write  string // expected Set-Cookie attributes of a write
		delete int    // Set-Cookie lines of one delete
	}{
		{"server, https", Config{Origin: "https://app.example"}, "Path=/; Max-Age=31536000; HttpOnly; Secure; SameSite=Strict", 1},
		{"server, http", Config{Origin: "http://localhost:3000"}, "Path=/; Max-Age=31536000; HttpOnly; SameSite=Strict", 1},
		{"client", Config{Origin: "https://app.example", Mode: ModeClient}, "Path=/; Max-Age=31536000; Secure; SameSite=Lax", 1},
		{"Secure forced on", Config{Origin: "http://localhost:3000", Cookies: CookiePolicy{Secure: &yes}}, "Path=/; Max-Age=31536000; HttpOnly; Secure; SameSite=Strict", 1},
		{"Secure forced off", Config{Origin: "https://app.example", Cookies: CookiePolicy{Secure: &no}}, "Path=/; Max-Age=31536000; HttpOnly; SameSite=Strict", 1},
		{"domain and legacy", Config{Origin: "https://app.example", Cookies: CookiePolicy{
			Domain: ".Example.com", Path: "/", MaxAge: 3600e9, SameSite: http.SameSiteLaxMode,
			LegacyDomains: []string{"app.example"}, LegacyPaths: []string{"/", "/app"},
		}}, "Path=/; Domain=example.com; Max-Age=3600; HttpOnly; Secure; SameSite=Lax", 3 * 2},
	} {
		tc.cfg.ClientID = "client1"
		if err := normalize(&tc.cfg); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		p, err := resolvePolicy(tc.cfg)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		m := &Manager{pol: p, prefix: "p."}
		h := http.Header{}
		b := m.newBatch(nil)
		b.set("p.x", "v")
		b.flush(h)
		lines := h.Values("Set-Cookie")
		if last := lines[len(lines)-1]; last != "p.x=v; "+tc.write {
			t.Errorf("%s: write %q, want %q", tc.name, last, "p.x=v; "+tc.write)
		}
		if len(lines)-1 != tc.delete-1 {
			t.Errorf("%s: a write expired %d other variants, want %d", tc.name, len(lines)-1, tc.delete-1)
		}
		h = http.Header{}
		b.del("p.x")
		b.flush(h)
		if n := len(h.Values("Set-Cookie")); n != tc.delete {
			t.Errorf("%s: a delete wrote %d lines, want %d", tc.name, n, tc.delete)
		}
		for _, l := range h.Values("Set-Cookie") {
			if !strings.Contains(l, "Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT") {
				t.Errorf("%s: delete %q", tc.name, l)
			}
		}
		if h.Get("Cache-Control") != "private, no-store" {
			t.Errorf("%s: Cache-Control %q", tc.name, h.Get("Cache-Control"))
		}
	}
}
