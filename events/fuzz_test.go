package events_test

import (
	"strings"
	"testing"

	"github.com/cognate-auth/cognate/events"
)

// FuzzParsePattern checks that whatever ParsePattern accepts is
// normalized (parsing it again gives itself), has at most MaxSegments
// valid segments with "*" only last, and matches itself when concrete;
// and that ParseChannel accepts exactly the non-wildcard subset.
func FuzzParsePattern(f *testing.F) {
	for _, s := range []string{"/default/a", "default/a/*", "/a/b/c/d/e", "/a/b/c/d/e/f", "//", "/*", "/d/*/x", "/d/a-", "/d/ä", "/d/" + strings.Repeat("z", 51)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := events.ParsePattern(s)
		ch, cerr := events.ParseChannel(s)
		if err != nil {
			if cerr == nil {
				t.Fatalf("ParseChannel accepted %q, ParsePattern refused it: %v", s, err)
			}
			return
		}
		again, err := events.ParsePattern(p.String())
		if err != nil || again.String() != p.String() {
			t.Fatalf("%q → %q → %q, %v", s, p, again, err)
		}
		segs := p.Segments()
		if len(segs) > events.MaxSegments || segs[0] != p.Namespace() {
			t.Fatalf("%q: segments %q", s, segs)
		}
		for i, seg := range segs {
			if seg == "*" && i == len(segs)-1 && i > 0 {
				continue
			}
			if !events.ValidSegment(seg) {
				t.Fatalf("%q: invalid segment %q accepted", s, seg)
			}
		}
		if p.Wildcard() != (cerr != nil) {
			t.Fatalf("%q: wildcard %v but ParseChannel error %v", s, p.Wildcard(), cerr)
		}
		if !p.Wildcard() && (!p.Matches(ch) || ch.String() != p.String()) {
			t.Fatalf("%q does not match itself", s)
		}
	})
}
