package session

import (
	"strings"
	"testing"
)

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
