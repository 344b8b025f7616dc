package gateway

import (
	"net/netip"
	"strings"
	"testing"
)

type netipPrefix = netip.Prefix

func mustPrefix(s string) netip.Prefix { return netip.MustParsePrefix(s) }

func TestPolicyDecide(t *testing.T) {
	pub, _ := ParsePaths("/, /static/", Public)
	sess, _ := ParsePaths("/app", NeedSession)
	adm, err := ParseGroupRule("admin=/app/admin,/ops")
	if err != nil {
		t.Fatal(err)
	}
	p, err := newPolicy(append(append(pub, sess...), adm...))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path   string
		access Access
		group  string
	}{
		{"/", Public, ""}, {"/about", Public, ""}, {"/static/x.js", Public, ""},
		{"/app", NeedSession, ""}, {"/app/", NeedSession, ""}, {"/app/x", NeedSession, ""}, {"/apple", Public, ""},
		{"/app/admin", NeedGroup, "admin"}, {"/app/admin/x", NeedGroup, "admin"}, {"/ops", NeedGroup, "admin"},
	}
	for _, tt := range tests {
		if r := p.decide(tt.path); r.Access != tt.access || r.Group != tt.group {
			t.Errorf("decide(%q) = %+v, want %v %q", tt.path, r, tt.access, tt.group)
		}
	}
	if r := (&policy{}).decide("/x"); r.Access != NeedSession {
		t.Errorf("no rules: %+v, want NeedSession", r)
	}
	for _, bad := range []string{"admin", "=/x", "admin=/a/../b", "admin=x", " =/x"} {
		if _, err := ParseGroupRule(bad); err == nil {
			t.Errorf("ParseGroupRule(%q) accepted", bad)
		}
	}
	if _, err := newPolicy([]Rule{{Path: "/a", Access: Public}, {Path: "/a/", Access: NeedSession}}); err == nil {
		t.Error("two rules for one path accepted")
	}
}

func TestCanonicalPath(t *testing.T) {
	for p, want := range map[string]bool{
		"/": true, "/a/b": true, "/a/b/": true, "/a.b/c..d": true, "/100%": true,
		"": false, "a": false, "//a": false, "/a//b": false, "/a/./b": false, "/a/..": false, "/a/../b": false,
		`/a\b`: false, "/a\x00": false, "/%2e%2e/": false, "/a%2Fb": false,
	} {
		if got := canonicalPath(p); got != want {
			t.Errorf("canonicalPath(%q) = %v", p, got)
		}
	}
}

// FuzzPolicy: rule parsing never panics, accepted rules are canonical,
// and a decision only ever comes from a rule that covers the path.
func FuzzPolicy(f *testing.F) {
	f.Add("admin=/admin,/ops", "/admin/x")
	f.Add("a=b=/x", "/x")
	f.Add("g=/", "//")
	f.Add("g=/a/%2e", "/a/..")
	f.Fuzz(func(t *testing.T, rule, path string) {
		rules, err := ParseGroupRule(rule)
		if err != nil {
			return
		}
		for _, r := range rules {
			if !canonicalPath(r.Path) || r.Group == "" {
				t.Fatalf("accepted %+v", r)
			}
		}
		p, err := newPolicy(rules)
		if err != nil || !canonicalPath(path) {
			return
		}
		d := p.decide(path)
		if d.Access == NeedGroup && !(path == d.Path || strings.HasPrefix(path, d.Path+"/")) {
			t.Fatalf("rule %q decided %q", d.Path, path)
		}
	})
}
