package session

import (
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
