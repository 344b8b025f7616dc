package session

import (
	"net/http"
	"strings"
	"testing"
)

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
