package cognitoapi

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestHasNUL(t *testing.T) {
	for _, tc := range []struct {
		body string
		want bool
	}{
		{`{"Username":"a\u0000b"}`, true},
		{`{"Username":"\u0000"}`, true},
		{`{"Username":"a\\\u0000"}`, true},   // an escaped backslash, then NUL
		{`{"Username":"a\\u0000"}`, false},   // a literal backslash and "u0000"
		{`{"Username":"a\\\\u0000"}`, false}, // two literal backslashes and "u0000"
		{`{"Username":"a\u00001"}`, true},
		{`{"Username":"a\u0001"}`, false},
		{`{}`, false},
	} {
		if got := hasNUL([]byte(tc.body)); got != tc.want {
			t.Errorf("hasNUL(%s) = %v, want %v", tc.body, got, tc.want)
		}
	}
}

func FuzzHasNUL(f *testing.F) {
	f.Add([]byte(`{"a":"\u0000"}`))
	f.Add([]byte(`\\\\\u0000`))
	f.Add([]byte(`{"a":["x","\u0000"],"\u0000":1}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		got := hasNUL(body)
		var v any
		if json.Unmarshal(body, &v) != nil {
			return // decoding refuses it anyway
		}
		if want := decodedNUL(v); got != want {
			t.Fatalf("hasNUL(%q) = %v, but the decoded document has a NUL: %v", body, got, want)
		}
	})
}

// decodedNUL is the slow reference: a NUL in any decoded key or string.
func decodedNUL(v any) bool {
	switch v := v.(type) {
	case string:
		return strings.ContainsRune(v, 0)
	case []any:
		for _, e := range v {
			if decodedNUL(e) {
				return true
			}
		}
	case map[string]any:
		for k, e := range v {
			if strings.ContainsRune(k, 0) || decodedNUL(e) {
				return true
			}
		}
	}
	return false
}
