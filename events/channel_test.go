package events_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/cognate-auth/cognate/events"
)

func TestParseChannel(t *testing.T) {
	seg50 := strings.Repeat("a", 50)
	tests := []struct {
		in, want string
		pattern  bool // ParsePattern instead of ParseChannel
		ok       bool
	}{
		{"/default/room", "/default/room", false, true},
		{"default/room", "/default/room", false, true},
		{"default/room/", "/default/room", false, true},
		{"/default", "/default", false, true},
		{"/a/b/c/d/e", "/a/b/c/d/e", false, true},
		{"/ns/" + seg50, "/ns/" + seg50, false, true},
		{"/ns/a-b-9", "/ns/a-b-9", false, true},
		{"/ns/" + seg50 + "a", "", false, false},
		{"/a/b/c/d/e/f", "", false, false},
		{"", "", false, false},
		{"/", "", false, false},
		{"//default/a", "", false, false},
		{"/default//a", "", false, false},
		{"/default/-a", "", false, false},
		{"/default/a-", "", false, false},
		{"/default/a_b", "", false, false},
		{"/default/a.b", "", false, false},
		{"/default/ä", "", false, false},
		{"/default/*", "", false, false},
		{"/default/*", "/default/*", true, true},
		{"default/a/*/", "/default/a/*", true, true},
		{"/a/b/c/d/*", "/a/b/c/d/*", true, true},
		{"/a/b/c/d/e/*", "", true, false},
		{"/*", "", true, false},
		{"/default/*/a", "", true, false},
		{"/default/a*", "", true, false},
		{"/default/**", "", true, false},
	}
	for _, tc := range tests {
		parse := events.ParseChannel
		if tc.pattern {
			parse = events.ParsePattern
		}
		c, err := parse(tc.in)
		if !tc.ok {
			if !errors.Is(err, events.ErrInvalidChannel) || !errors.Is(err, events.ErrBadRequest) {
				t.Errorf("parse(%q) = %v, %v; want ErrInvalidChannel", tc.in, c, err)
			}
			continue
		}
		if err != nil || c.String() != tc.want {
			t.Errorf("parse(%q) = %q, %v; want %q", tc.in, c, err, tc.want)
		}
	}
}

func TestChannelMatches(t *testing.T) {
	tests := []struct {
		pattern, channel string
		want             bool
	}{
		{"/default/a", "/default/a", true},
		{"/default/a", "/default/a/b", false},
		{"/default/*", "/default/a", true},
		{"/default/*", "/default/a/b/c/d", true},
		{"/default/*", "/default", false},
		{"/default/*", "/defaults/a", false},
		{"/default/a/*", "/default/ab/c", false},
		{"/default/a/*", "/default/a/c", true},
		{"/default/a/*", "/default/a", false},
	}
	for _, tc := range tests {
		p, err := events.ParsePattern(tc.pattern)
		if err != nil {
			t.Fatal(err)
		}
		c, err := events.ParseChannel(tc.channel)
		if err != nil {
			t.Fatal(err)
		}
		if got := p.Matches(c); got != tc.want {
			t.Errorf("%s matches %s = %v, want %v", tc.pattern, tc.channel, got, tc.want)
		}
	}
}
