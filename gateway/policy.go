package gateway

import (
	"fmt"
	"net/http"
	"strings"
)

// Access is what a path needs.
type Access int

const (
	// NeedSession: a signed-in user (the default for paths no rule matches).
	NeedSession Access = iota
	// Public: anyone; the session is still resolved and refreshed, and
	// identity headers are sent when there is one.
	Public
	// NeedGroup: a signed-in member of Rule.Group.
	NeedGroup
)

// Rule applies Access to a path and everything under it: "/admin" (or
// "/admin/") covers /admin and /admin/…, not /administrator; "/" covers
// every path. Matching is on the decoded path, case-sensitive, and the
// longest matching rule wins.
type Rule struct {
	Path   string
	Access Access
	Group  string // NeedGroup only
}

// ParsePaths reads a comma-separated list of rule paths with access a.
func ParsePaths(list string, a Access) ([]Rule, error) {
	var out []Rule
	for _, p := range strings.Split(list, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		if !canonicalPath(p) {
			return nil, fmt.Errorf("%w: rule path %q must be a clean absolute path (no //, . or .. segments, backslashes or escapes)", ErrConfig, p)
		}
		out = append(out, Rule{Path: p, Access: a})
	}
	return out, nil
}

// ParseGroupRule reads "group=/path[,/path…]": the paths need membership
// of group.
func ParseGroupRule(s string) ([]Rule, error) {
	i := strings.Index(s, "=/")
	if i <= 0 {
		return nil, fmt.Errorf("%w: group rule %q must be group=/path[,/path…]", ErrConfig, s)
	}
	group := strings.TrimSpace(s[:i])
	if group == "" || strings.ContainsFunc(group, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return nil, fmt.Errorf("%w: group rule %q has no valid group name", ErrConfig, s)
	}
	rules, err := ParsePaths(s[i+1:], NeedGroup)
	if err != nil {
		return nil, err
	}
	for i := range rules {
		rules[i].Group = group
	}
	return rules, nil
}

// policy picks the rule of a path.
type policy struct{ rules []Rule }

func newPolicy(rules []Rule) (*policy, error) {
	seen := map[string]bool{}
	out := make([]Rule, 0, len(rules))
	for _, r := range rules {
		if !canonicalPath(r.Path) {
			return nil, fmt.Errorf("%w: rule path %q is not a clean absolute path", ErrConfig, r.Path)
		}
		if r.Access == NeedGroup && r.Group == "" {
			return nil, fmt.Errorf("%w: group rule for %q names no group", ErrConfig, r.Path)
		}
		r.Path = ruleKey(r.Path)
		if seen[r.Path] {
			return nil, fmt.Errorf("%w: more than one rule for %q", ErrConfig, r.Path+"/")
		}
		seen[r.Path] = true
		out = append(out, r)
	}
	return &policy{rules: out}, nil
}

// ruleKey is a rule's path without its trailing slash ("" for "/").
func ruleKey(p string) string { return strings.TrimSuffix(p, "/") }

// decide returns the rule for a canonical path; the zero Rule
// (NeedSession) when none matches.
func (p *policy) decide(path string) Rule {
	best, bestLen := Rule{}, -1
	for _, r := range p.rules {
		if len(r.Path) > bestLen && (path == r.Path || strings.HasPrefix(path, r.Path+"/")) {
			best, bestLen = r, len(r.Path)
		}
	}
	return best
}

// canonicalPath reports whether p is a path that every app reads the way
// the policy does: absolute, no empty, "." or ".." segment (but a
// trailing slash), no backslash (some servers read it as a slash), no
// control character, and no percent escape left after decoding (an app
// that decodes twice would see another path).
func canonicalPath(p string) bool {
	if p == "" || p[0] != '/' {
		return false
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c < 0x20 || c == 0x7f || c == '\\' {
			return false
		}
		if c == '%' && i+2 < len(p) && isHex(p[i+1]) && isHex(p[i+2]) {
			return false
		}
	}
	for seg := range strings.SplitSeq(p[1:], "/") {
		if seg == "." || seg == ".." {
			return false
		}
	}
	return !strings.Contains(p, "//")
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// badPath answers a request whose path is not canonical.
func badPath(w http.ResponseWriter, r *http.Request) {
	writeError(w, r, http.StatusBadRequest, "bad_path", "Bad request", "This address is not a clean path (it holds //, . or .. segments, a backslash or an escaped character).")
}
