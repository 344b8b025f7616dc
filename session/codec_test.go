package session

import (
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"
)

// The expected strings below are what js-cookie v3 produces in a browser
// (encodeURIComponent plus its restore lists), worked out by hand.
func TestEncodeName(t *testing.T) {
	for in, want := range map[string]string{
		"ada@example.com":      "ada%40example.com",
		"ada+test@example.com": "ada+test%40example.com",
		"zoë":                  "zo%C3%AB",
		"o'brien(x)":           "o'brien%28x%29",
		"#$&+^`|":              "#$&+^`|",
		"-_.!~*'":              "-_.!~*'",
		"a b;c=d,e":            "a%20b%3Bc%3Dd%2Ce",
		`"\/:?[]{}<>@%`:        "%22%5C%2F%3A%3F%5B%5D%7B%7D%3C%3E%40%25",
		"名前":                   "%E5%90%8D%E5%89%8D",
	} {
		if got := encodeName(in); got != want {
			t.Errorf("encodeName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestEncodeValue(t *testing.T) {
	for in, want := range map[string]string{
		`{"loginId":"a@b.com","authFlowType":"USER_SRP_AUTH"}`: `{%22loginId%22:%22a@b.com%22%2C%22authFlowType%22:%22USER_SRP_AUTH%22}`,
		"eyJ.abc-_":          "eyJ.abc-_",
		"#$&+/:<=>?@[]^`{|}": "#$&+/:<=>?@[]^`{|}",
		"a b;c,d\"e\\f%g":    "a%20b%3Bc%2Cd%22e%5Cf%25g",
		"zoë":                "zo%C3%AB",
		"-12345":             "-12345",
		"()!*'~":             "()!*'~",
	} {
		if got := encodeValue(in); got != want {
			t.Errorf("encodeValue(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDecodeValue(t *testing.T) {
	for in, want := range map[string]struct {
		out string
		ok  bool
	}{
		`"quoted"`:    {"quoted", true},
		`"`:           {"", true},
		"a%40b":       {"a@b", true},
		"a%40%41b":    {"a@Ab", true},
		"zo%c3%ab":    {"zoë", true},
		"100%":        {"100%", true},
		"%zz%4":       {"%zz%4", true},
		"%FF":         {"", false},
		"%E2%82":      {"", false},
		"plain.jwt-_": {"plain.jwt-_", true},
		"%ED%A0%80":   {"", false}, // an encoded surrogate
		`"a%22b"`:     {`a"b`, true},
		`"unbalanced`: {"unbalance", true},
	} {
		got, ok := decodeValue(in)
		if ok != want.ok || (ok && got != want.out) {
			t.Errorf("decodeValue(%q) = %q, %v; want %q, %v", in, got, ok, want.out, want.ok)
		}
	}
}

func TestDecodeName(t *testing.T) {
	for in, want := range map[string]struct {
		out string
		ok  bool
	}{
		"a%40b.com": {"a@b.com", true},
		"plain":     {"plain", true},
		"100%":      {"", false},
		"%zz":       {"", false},
		"%C3":       {"", false},
		"%C3%AB":    {"ë", true},
	} {
		got, ok := decodeName(in)
		if ok != want.ok || got != want.out {
			t.Errorf("decodeName(%q) = %q, %v; want %q, %v", in, got, ok, want.out, want.ok)
		}
	}
}

func TestEachCookie(t *testing.T) {
	var got []string
	eachCookie([]string{" a=1; b = 2 ;a=3;;noeq; =x; c==d; e=\"q\"", "f=6"}, func(n, v string) {
		got = append(got, n+"|"+v)
	})
	want := "a|1,b|2,a|3,c|=d,e|\"q\",f|6"
	if strings.Join(got, ",") != want {
		t.Errorf("eachCookie: %s, want %s", strings.Join(got, ","), want)
	}
}

func TestSafePath(t *testing.T) {
	for in, want := range map[string]string{
		"/":                             "/",
		"/a/b?c=d#e":                    "/a/b?c=d#e",
		"//evil.example":                "",
		"/\\evil.example":               "",
		"/a\\b":                         "",
		"https://x.example":             "",
		"javascript:x":                  "",
		"":                              "",
		"a/b":                           "",
		"/a\nb":                         "",
		"/a\x7fb":                       "",
		"/%2F%2Fevil":                   "/%2F%2Fevil",
		"/" + strings.Repeat("a", 2048): "",
	} {
		if got := safePath(in); got != want {
			t.Errorf("safePath(%q) = %q, want %q", in, got, want)
		}
	}
}

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

func FuzzCookieHeader(f *testing.F) {
	f.Add("CognitoIdentityServiceProvider.client1.LastAuthUser=a%40b; CognitoIdentityServiceProvider.client1.a%40b.accessToken=x.y.z")
	f.Add("a=1;;b; =; c==; CognitoIdentityServiceProvider.client1.u.idToken=%chunks:2; CognitoIdentityServiceProvider.client1.u.idToken.1=b")
	f.Add("CognitoIdentityServiceProvider.client1.%ZZ.accessToken=%FF; \"=\"")
	m := testManager(ModeServer)
	f.Fuzz(func(t *testing.T, header string) {
		eachCookie([]string{header}, func(n, v string) {
			if n == "" || strings.ContainsRune(n, ';') || strings.ContainsRune(v, ';') {
				t.Fatalf("bad pair %q=%q", n, v)
			}
		})
		j := m.readJar(&http.Request{Header: http.Header{"Cookie": {header}}})
		if j == nil {
			return
		}
		for _, u := range append(j.users(), j.lastAuthUsers()...) {
			for _, k := range userKeys {
				vals, _ := j.values(u, k)
				if len(vals) > maxCandidates {
					t.Fatalf("%d candidates", len(vals))
				}
				for _, v := range vals {
					if !utf8.ValidString(v) {
						t.Fatalf("invalid UTF-8 value %q", v)
					}
				}
			}
		}
	})
}

func FuzzNameCodec(f *testing.F) {
	for _, s := range []string{"ada+test@example.com", "zoë", "o'brien(x)", "%41", "a b;c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		enc := encodeName(s)
		if !cookieHeaderSafe(enc) || strings.ContainsAny(enc, "=()") {
			t.Fatalf("encodeName(%q) = %q is not a safe cookie name", s, enc)
		}
		dec, ok := decodeName(enc)
		if utf8.ValidString(s) && (!ok || dec != s) {
			t.Fatalf("name %q → %q → %q, %v", s, enc, dec, ok)
		}
	})
}

func FuzzValueCodec(f *testing.F) {
	for _, s := range []string{`{"loginId":"a@b.com"}`, "eyJ.x-_", "zoë", "100%", `"q"`, "%41"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		enc := encodeValue(s)
		if !cookieHeaderSafe(enc) {
			t.Fatalf("encodeValue(%q) = %q is not a safe cookie value", s, enc)
		}
		dec, ok := decodeValue(enc)
		if utf8.ValidString(s) && (!ok || dec != s) {
			t.Fatalf("value %q → %q → %q, %v", s, enc, dec, ok)
		}
		decodeValue(s) // arbitrary input must not panic
	})
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
