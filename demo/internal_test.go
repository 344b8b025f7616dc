package demo

import (
	"encoding/base64"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestSafeRedirect(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", "/dashboard"},
		{"/session", "/session"},
		{"/session?attributes=1#x", "/session?attributes=1#x"},
		{"//evil.example", "/dashboard"},
		{"/\\evil.example", "/dashboard"},
		{"https://evil.example/", "/dashboard"},
		{"javascript:alert(1)", "/dashboard"},
		{"/a\nb", "/dashboard"},
		{"/a\\b", "/dashboard"},
		{"/sign-in", "/dashboard"},
		{"/sign-in/challenge", "/dashboard"},
		{"/sign-inside", "/sign-inside"},
		{"/" + strings.Repeat("a", 3000), "/dashboard"},
	}
	for _, tt := range tests {
		if got := safeRedirect(tt.in); got != tt.want {
			t.Errorf("safeRedirect(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzSafeRedirect(f *testing.F) {
	for _, s := range []string{"/", "/dashboard", "//x", "/\\x", "http://x", "/%2f%2fx", "/\x00", "/sign-in/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got := safeRedirect(in)
		if got == "/dashboard" {
			return
		}
		if got != in || !strings.HasPrefix(got, "/") || strings.HasPrefix(got, "//") || strings.ContainsAny(got, "\\\r\n\t") {
			t.Fatalf("safeRedirect(%q) = %q", in, got)
		}
		u, err := url.Parse(got)
		if err != nil || u.Host != "" || u.Scheme != "" {
			t.Fatalf("safeRedirect(%q) = %q leaves the site", in, got)
		}
	})
}

func jwt(payload string) string {
	return "eyJhbGciOiJSUzI1NiJ9." + base64.RawURLEncoding.EncodeToString([]byte(payload)) + ".c2ln"
}

func TestTokenClaims(t *testing.T) {
	got := tokenClaims(jwt(`{"sub":"s-1","exp":1700000000,"cognito:groups":["admin","ops"],"n":1.5,"o":{"a":1},"b":true}`))
	want := []claim{
		{Name: "b", Value: "true"},
		{Name: "cognito:groups", Value: "admin, ops"},
		{Name: "exp", Value: "1700000000", Note: "2023-11-14 22:13:20 UTC"},
		{Name: "n", Value: "1.5"},
		{Name: "o", Value: `{"a":1}`},
		{Name: "sub", Value: "s-1"},
	}
	if len(got) != len(want) {
		t.Fatalf("tokenClaims = %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("claim %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	for _, bad := range []string{"", "a.b", "a.!!!.c", jwt(`[1]`), jwt(`{"a":1} {}`), jwt(`null`), "a." + strings.Repeat("A", maxTokenSize) + ".c"} {
		if c := tokenClaims(bad); c != nil {
			t.Errorf("tokenClaims(%.40q) = %+v, want nil", bad, c)
		}
	}
}

func FuzzDecodeClaims(f *testing.F) {
	for _, s := range []string{jwt(`{"sub":"x"}`), jwt(`{"exp":1e400}`), "..", "a.eyJ9.b", jwt(`{"a":[{"b":null}]}`)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		m, err := decodeClaims(raw)
		if (m == nil) != (err != nil) {
			t.Fatalf("decodeClaims(%q) = %v, %v", raw, m, err)
		}
		claims := tokenClaims(raw)
		if (claims == nil) != (err != nil) || len(claims) != len(m) {
			t.Fatalf("tokenClaims(%q) = %d claims, decodeClaims %d (%v)", raw, len(claims), len(m), err)
		}
	})
}

func TestUntil(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		d    time.Duration
		want string
	}{
		{-time.Second, "expired"},
		{0, "expired"},
		{42 * time.Second, "in 42s"},
		{4*time.Minute + 12*time.Second, "in 4m 12s"},
		{2*time.Hour + 5*time.Minute, "in 2h 5m"},
	}
	for _, tt := range tests {
		if got := until(now.Add(tt.d), now); got != tt.want {
			t.Errorf("until(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

func TestPagesParse(t *testing.T) {
	for name, tmpl := range pages() {
		if tmpl.Lookup("layout") == nil || tmpl.Lookup("content") == nil {
			t.Errorf("page %s lacks layout or content", name)
		}
	}
}
