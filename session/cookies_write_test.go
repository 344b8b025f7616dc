package session

import (
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"
)

// testManager is a Manager with only what the cookie code needs.
func testManager(mode Mode) *Manager {
	cfg := Config{ClientID: "client1", Origin: "https://app.example", Mode: mode}
	pol, err := resolvePolicy(cfg)
	if err != nil {
		panic(err)
	}
	return &Manager{cfg: cfg, pol: pol, prefix: "CognitoIdentityServiceProvider.client1.", log: slog.New(slog.DiscardHandler)}
}

// roundTrip writes value as user's token through a batch and reads it
// back from the Cookie header a browser would send.
func roundTrip(m *Manager, user, value string) ([]string, []string) {
	b := m.newBatch(nil)
	b.setToken(user, keyID, value)
	h := http.Header{}
	b.flush(h)
	var pairs []string
	for _, l := range h.Values("Set-Cookie") {
		nv, _, _ := strings.Cut(l, ";")
		if !strings.Contains(l, "Max-Age=0") {
			pairs = append(pairs, nv)
		}
	}
	r := &http.Request{Header: http.Header{"Cookie": {strings.Join(pairs, "; ")}}}
	j := m.readJar(r)
	if j == nil {
		return nil, pairs
	}
	vals, _ := j.values(user, keyID)
	return vals, pairs
}

func TestChunks(t *testing.T) {
	m := testManager(ModeServer)
	big := strings.Repeat("eyJhbGciOiJSUzI1NiJ9.", 700) // 15 400 bytes
	vals, pairs := roundTrip(m, "zoë@example.com", big)
	if len(vals) != 1 || vals[0] != big {
		t.Fatalf("chunked token did not round-trip (%d values)", len(vals))
	}
	if len(pairs) != 1+4 {
		t.Errorf("%d cookies for a 15 kB token, want a marker and 4 chunks", len(pairs))
	}
	for _, p := range pairs {
		if len(p) > chunkLimit {
			t.Errorf("cookie of %d bytes", len(p))
		}
	}
	// Missing chunk: nothing; stale extra chunk: ignored.
	header := strings.Join(pairs[:len(pairs)-1], "; ")
	j := m.readJar(&http.Request{Header: http.Header{"Cookie": {header}}})
	if v, _ := j.values("zoë@example.com", keyID); len(v) != 0 {
		t.Errorf("a token with a missing chunk read as %d values", len(v))
	}
	header = strings.Join(pairs, "; ") + "; " + encodeName(m.prefix+"zoë@example.com.idToken.7") + "=junk"
	j = m.readJar(&http.Request{Header: http.Header{"Cookie": {header}}})
	if v, _ := j.values("zoë@example.com", keyID); len(v) != 1 || v[0] != big {
		t.Errorf("a stale chunk changed the token")
	}
	// ModeClient never chunks (Amplify could not read it).
	if _, pairs := roundTrip(testManager(ModeClient), "u", big); len(pairs) != 1 {
		t.Errorf("ModeClient wrote %d cookies", len(pairs))
	}
}

func FuzzChunkJoin(f *testing.F) {
	f.Add("user", strings.Repeat("x", 9000))
	f.Add("zoë@example.com", strings.Repeat("é", 3000))
	f.Add("a", "short")
	m := testManager(ModeServer)
	f.Fuzz(func(t *testing.T, user, value string) {
		if user == "" || value == "" || !utf8.ValidString(user) || !utf8.ValidString(value) ||
			len(encodeValue(value)) > 12*chunkLimit {
			return
		}
		vals, _ := roundTrip(m, user, value)
		if len(vals) != 1 || vals[0] != value {
			t.Fatalf("%d-byte value for %q did not round-trip (%d values)", len(value), user, len(vals))
		}
	})
}

// TestSetCookieLine pins the bytes of each attribute: the order, the
// delete's Expires, and a negative Max-Age meaning a browser-session
// cookie.
func TestSetCookieLine(t *testing.T) {
	for _, tc := range []struct {
		name string
		a    cookieAttrs
		want string
	}{
		{"host-only", cookieAttrs{path: "/", maxAge: 60}, "n=v; Path=/; Max-Age=60"},
		{"every attribute", cookieAttrs{domain: "example.com", path: "/app", maxAge: 31536000, httpOnly: true, secure: true, sameSite: "Strict"},
			"n=v; Path=/app; Domain=example.com; Max-Age=31536000; HttpOnly; Secure; SameSite=Strict"},
		{"delete", cookieAttrs{path: "/", httpOnly: true, sameSite: "Lax"},
			"n=v; Path=/; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; SameSite=Lax"},
		{"browser session", cookieAttrs{path: "/", maxAge: -1, secure: true, sameSite: "None"}, "n=v; Path=/; Secure; SameSite=None"},
	} {
		if got := setCookieLine("n", "v", tc.a); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}
