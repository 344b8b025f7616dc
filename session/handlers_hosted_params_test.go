package session

import (
	"regexp"
	"strings"
	"testing"
)

// The regexps the hosted routes' parameter checks replaced: each check
// must accept exactly their language.
var hostedParamRes = map[string]struct {
	check func(string) bool
	re    *regexp.Regexp
}{
	"provider": {validProvider, regexp.MustCompile(`^[A-Za-z0-9_.:-]{1,64}$`)},
	"lang":     {validLang, regexp.MustCompile(`^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8}){0,3}$`)},
	"flow id":  {validFlowID, regexp.MustCompile(`^[A-Za-z0-9_-]{22}$`)},
}

func TestHostedParams(t *testing.T) {
	for _, tc := range []struct {
		param, in string
		want      bool
	}{
		{"provider", "Google", true},
		{"provider", "My.OIDC_provider:x-1", true},
		{"provider", "a", true},
		{"provider", strings.Repeat("p", 64), true},
		{"provider", strings.Repeat("p", 65), false},
		{"provider", "", false},
		{"provider", "<script>", false},
		{"provider", "a b", false},
		{"provider", "a/b", false},
		{"provider", "Google\n", false},
		{"provider", "zoë", false},
		{"provider", "\xff", false},
		{"lang", "fr", true},
		{"lang", "fil", true},
		{"lang", "en-US", true},
		{"lang", "zh-Hant-TW", true},
		{"lang", "sl-rozaj-biske-1994", true},
		{"lang", "de-12345678", true},
		{"lang", "de-123456789", false},
		{"lang", "sl-rozaj-biske-1994-x", false},
		{"lang", "f", false},
		{"lang", "fren", false},
		{"lang", "f1", false},
		{"lang", "12", false},
		{"lang", "en-", false},
		{"lang", "en--US", false},
		{"lang", "en_US", false},
		{"lang", "-en", false},
		{"lang", "", false},
		{"lang", "en\n", false},
		{"lang", `"><x`, false},
		{"flow id", "AAAAAAAAAAAAAAAAAAAAAA", true},
		{"flow id", "abc-_DEF0123456789xyzQ", true},
		{"flow id", "AAAAAAAAAAAAAAAAAAAAA", false},
		{"flow id", "AAAAAAAAAAAAAAAAAAAAAAA", false},
		{"flow id", "AAAAAAAAAAAAAAAAAAAA+/", false},
		{"flow id", "AAAAAAAAAAAAAAAAAAAAA=", false},
		{"flow id", "AAAAAAAAAAAAAAAAAAAAAA\n", false},
		{"flow id", "", false},
	} {
		p := hostedParamRes[tc.param]
		if got := p.check(tc.in); got != tc.want {
			t.Errorf("%s %q: %v, want %v", tc.param, tc.in, got, tc.want)
		}
		if re := p.re.MatchString(tc.in); re != tc.want {
			t.Errorf("%s %q: the regexp says %v, the table %v", tc.param, tc.in, re, tc.want)
		}
	}
}

func FuzzHostedParams(f *testing.F) {
	for _, s := range []string{"Google", "en-US", "zh-Hant-TW-x", "AAAAAAAAAAAAAAAAAAAAAA", "a-b-c-d", "de-123456789", "\xffa", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for name, p := range hostedParamRes {
			if got, want := p.check(s), p.re.MatchString(s); got != want {
				t.Fatalf("%s %q: %v, the regexp %v", name, s, got, want)
			}
		}
	})
}
