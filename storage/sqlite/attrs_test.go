package sqlite

import (
	"encoding/json"
	"maps"
	"testing"
)

// mapSamples are attribute maps that the plain paths handle, or must hand
// over to encoding/json.
var mapSamples = []map[string]string{
	nil,
	{},
	{"email": "alice@example.com"},
	{"sub": "7d9a1c2e", "email": "alice@example.com", "email_verified": "true", "": ""},
	{"name": "Zoë Ångström", "custom:note": "日本語, with: commas}{"},
	{"quote": `say "hi"`},
	{"backslash": `C:\dir`},
	{"html": "<b>&amp;</b>"},
	{"newline": "a\nb", "tab": "\t"},
	{"del": "\x7f"},
	{"separators": "a\u2028b\u2029c"},
	{"invalid": "\xff\xfe"},
	{"emoji": "🙂"},
}

// textSamples are stored texts beyond what encodeMap writes: encoding/json
// decides what they mean, or that they are errors.
var textSamples = []string{
	`{}`, `{"a":"b"}`, `{"a":"b","a":"c"}`, `{"a":"b",}`, `{,}`, `{"a"}`, `{"a":}`, `{"a":"b"`,
	`{"a":"b"}x`, ` {"a":"b"}`, `{ "a" : "b" }`, `{"a":1}`, `{"a":null}`, `null`, `[]`, `""`, ``, `{`, `}`,
	`{"a":"\u00e9"}`, `{"a":"\"}`, "{\"a\":\"\x01\"}", "{\"a\":\"\xff\"}", `{"a":"b" ,"c":"d"}`, `{"a""b"}`,
	`{"a":"b"}}`, `{{"a":"b"}`, `{"a":"b":"c"}`,
}

func TestEncodeMapMatchesJSON(t *testing.T) {
	for _, m := range mapSamples {
		checkEncodeMap(t, m)
	}
}

func TestDecodeMapMatchesJSON(t *testing.T) {
	for _, m := range mapSamples {
		b, err := json.Marshal(m)
		mustDo(t, err)
		checkDecodeMap(t, string(b))
	}
	for _, s := range textSamples {
		checkDecodeMap(t, s)
	}
}

func FuzzEncodeMap(f *testing.F) {
	f.Add("email", "alice@example.com", "name", "Alice")
	f.Add("a", "<", "b", "\u2028")
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2 string) {
		checkEncodeMap(t, map[string]string{k1: v1, k2: v2})
	})
}

func FuzzDecodeMap(f *testing.F) {
	for _, s := range textSamples {
		f.Add(s)
	}
	f.Fuzz(checkDecodeMap)
}

// checkEncodeMap checks that encodeMap writes what json.Marshal does, nil
// aside, and that decodeMap reads it back.
func checkEncodeMap(t *testing.T, m map[string]string) {
	t.Helper()
	got, err := encodeMap(m)
	mustDo(t, err)
	want := "{}"
	if m != nil {
		b, err := json.Marshal(m)
		mustDo(t, err)
		want = string(b)
	}
	if got != want {
		t.Fatalf("encodeMap(%q) = %s, want %s", m, got, want)
	}
	checkDecodeMap(t, got)
}

// checkDecodeMap checks that decodeMap reads s as json.Unmarshal does into
// a new map, error or not.
func checkDecodeMap(t *testing.T, s string) {
	t.Helper()
	want := map[string]string{}
	wantErr := json.Unmarshal([]byte(s), &want)
	got, err := decodeMap(s)
	if (err != nil) != (wantErr != nil) {
		t.Fatalf("decodeMap(%q): err = %v, want %v", s, err, wantErr)
	}
	if err != nil {
		return
	}
	if got == nil && want != nil {
		t.Fatalf("decodeMap(%q) = nil, want a map", s)
	}
	if !maps.Equal(got, want) {
		t.Fatalf("decodeMap(%q) = %q, want %q", s, got, want)
	}
}
