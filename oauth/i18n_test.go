package oauth

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"testing"
)

var placeholderRE = regexp.MustCompile(`\{[a-z_]+\}`)

// Every catalog has every English message, with the same placeholders,
// and nothing English lacks (a typo'd key would silently fall back).
func TestCatalogsComplete(t *testing.T) {
	en := locales[defaultLang]
	for key, l := range locales {
		if l.name == "" || l.tag == "" {
			t.Errorf("%s: meta.name and meta.tag are required", key)
		}
		for k, msg := range en.msgs {
			got, ok := l.msgs[k]
			if !ok {
				t.Errorf("%s lacks %s", key, k)
				continue
			}
			want, have := placeholderRE.FindAllString(msg, -1), placeholderRE.FindAllString(got, -1)
			slices.Sort(want)
			slices.Sort(have)
			if !slices.Equal(want, have) {
				t.Errorf("%s %s: placeholders %v, English has %v", key, k, have, want)
			}
		}
		for k := range l.msgs {
			if _, ok := en.msgs[k]; !ok {
				t.Errorf("%s has %s, which English lacks", key, k)
			}
		}
	}
}

// Every key the code names exists in English.
func TestCatalogKeysUsed(t *testing.T) {
	files, _ := filepath.Glob("*.go")
	keyRE := regexp.MustCompile(`"((?:err|error|notice|policy|field|login|signup|confirm|code|forgot|reset|newpw|back|footer)\.[a-z_]*[a-z])"`)
	keys := []string{}
	for _, f := range files {
		if filepath.Ext(f) != ".go" || regexp.MustCompile(`_test\.go$`).MatchString(f) {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range keyRE.FindAllStringSubmatch(string(src), -1) {
			keys = append(keys, m[1])
		}
	}
	// Keys built at run time.
	for n := range notices {
		keys = append(keys, "notice."+n)
	}
	for _, k := range []string{"required_email", "required_username", "required_password", "required_code"} {
		keys = append(keys, "err."+k)
	}
	for _, r := range []string{"length", "upper", "lower", "number", "symbol", "spaces"} {
		keys = append(keys, "policy."+r)
	}
	for _, c := range []string{"invalid_client", "redirect_mismatch", "invalid_request", "csrf", "logout", "generic"} {
		keys = append(keys, "error."+c)
	}
	if len(keys) < 50 {
		t.Fatalf("found only %d keys; is the pattern stale?", len(keys))
	}
	for _, k := range keys {
		if _, ok := locales[defaultLang].msgs[k]; !ok {
			t.Errorf("key %s is used but not in en.json", k)
		}
	}
}

func TestPickLocale(t *testing.T) {
	for _, c := range []struct{ lang, accept, want string }{
		{"fr", "zh", "fr"},
		{"FR-ca", "", "fr"},
		{"zh_CN", "", "zh"},
		{"", "de, zh-TW;q=0.8, fr;q=0.9", "fr"},
		{"", "fr;q=0, zh;q=0.1", "zh"},
		{"xx", "", "en"},
		{"", "", "en"},
	} {
		if got := pickLocale(c.lang, c.accept).key; got != c.want {
			t.Errorf("pickLocale(%q, %q) = %s, want %s", c.lang, c.accept, got, c.want)
		}
	}
}
