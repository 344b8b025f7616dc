package events

import (
	"fmt"
	"strings"
)

// Channel limits (AppSync's).
const (
	// MaxSegments is the most segments a channel path has, namespace and
	// a trailing "*" included.
	MaxSegments = 5
	// MaxSegmentLen is the longest segment.
	MaxSegmentLen = 50
)

// ErrInvalidChannel is wrapped by every channel parsing error (which are
// also ErrBadRequest).
var ErrInvalidChannel = fmt.Errorf("%w: invalid channel", ErrBadRequest)

// Channel is a validated channel path, or, when Wildcard, a subscription
// pattern ending in "*" that matches every channel that extends its
// prefix by one or more segments ("/default/*" matches "/default/a" and
// "/default/a/b", not "/default"). The zero Channel is invalid.
type Channel struct {
	path     string // "/ns/a/b" or "/ns/a/*"
	segments int
	wildcard bool
}

// ParseChannel parses a channel to publish to: a leading and a trailing
// slash are optional, every segment matches
// [A-Za-z0-9](?:[A-Za-z0-9-]{0,48}[A-Za-z0-9])?, at most MaxSegments, no
// wildcard.
func ParseChannel(s string) (Channel, error) {
	c, err := parse(s)
	if err == nil && c.wildcard {
		return Channel{}, fmt.Errorf("%w %q: a wildcard is only allowed to subscribe", ErrInvalidChannel, s)
	}
	return c, err
}

// ParsePattern parses a channel to subscribe to: ParseChannel's rules,
// plus "*" as the last segment after at least the namespace.
func ParsePattern(s string) (Channel, error) { return parse(s) }

func parse(s string) (Channel, error) {
	p := strings.TrimPrefix(s, "/")
	p = strings.TrimSuffix(p, "/")
	if p == "" {
		return Channel{}, fmt.Errorf("%w %q: empty", ErrInvalidChannel, s)
	}
	c := Channel{}
	rest := p
	for {
		seg, more, found := strings.Cut(rest, "/")
		c.segments++
		if c.segments > MaxSegments {
			return Channel{}, fmt.Errorf("%w %q: more than %d segments", ErrInvalidChannel, s, MaxSegments)
		}
		if seg == "*" {
			if found {
				return Channel{}, fmt.Errorf("%w %q: \"*\" must be the last segment", ErrInvalidChannel, s)
			}
			if c.segments == 1 {
				return Channel{}, fmt.Errorf("%w %q: the namespace cannot be a wildcard", ErrInvalidChannel, s)
			}
			c.wildcard = true
		} else if !ValidSegment(seg) {
			return Channel{}, fmt.Errorf("%w %q: segment %q must be 1-%d letters, digits or inner dashes", ErrInvalidChannel, s, trunc(seg), MaxSegmentLen)
		}
		if !found {
			break
		}
		rest = more
	}
	if len(s) == len(p)+1 && s[0] == '/' {
		c.path = s // already normalized: no allocation on the delivery path
	} else {
		c.path = "/" + p
	}
	return c, nil
}

// trunc keeps error messages short when the input is huge.
func trunc(s string) string {
	if len(s) > 60 {
		return s[:60] + "…"
	}
	return s
}

// ValidSegment reports whether s is a valid namespace or channel segment:
// 1-50 ASCII letters, digits or dashes, not starting or ending with a dash.
func ValidSegment(s string) bool {
	if len(s) == 0 || len(s) > MaxSegmentLen || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		b := s[i]
		if !(b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '-') {
			return false
		}
	}
	return true
}

// String is the normalized path: "/ns/a/b" or "/ns/a/*".
func (c Channel) String() string { return c.path }

// Wildcard reports whether c is a pattern ending in "*".
func (c Channel) Wildcard() bool { return c.wildcard }

// Namespace is the first segment.
func (c Channel) Namespace() string {
	ns, _, _ := strings.Cut(c.path[1:], "/")
	return ns
}

// Segments returns the segments, the namespace first (and "*" last for a
// pattern).
func (c Channel) Segments() []string { return strings.Split(c.path[1:], "/") }

// prefix is a pattern's path without the trailing "/*".
func (c Channel) prefix() string { return c.path[:len(c.path)-2] }

// Matches reports whether the channel ch is delivered to a subscription
// to c: equal paths, or, for a pattern, ch extends c's prefix by at least
// one segment.
func (c Channel) Matches(ch Channel) bool {
	if ch.wildcard || ch.path == "" {
		return false
	}
	if !c.wildcard {
		return c.path == ch.path
	}
	p := c.prefix()
	return len(ch.path) > len(p)+1 && ch.path[len(p)] == '/' && strings.HasPrefix(ch.path, p)
}
