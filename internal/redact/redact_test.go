package redact

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestRedactURL(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"postgres://cognate:pw@db:5432/cognate?sslmode=require&password=pw2", "postgres://cognate@db:5432/cognate"},
		{"redis://:pw@cache:6379/0", "redis://@cache:6379/0"},
		{"nats://nats:4222", "nats://nats:4222"},
		{"host=db password=pw", Unparseable},
		{"postgres://u:p w%zz@db/x", Unparseable},
	} {
		if got := URL(tc.in); got != tc.want {
			t.Errorf("URL(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestError(t *testing.T) {
	raw := "postgres://cognate:s3cr%40t@db/cognate?password=other-secret"
	inner := errors.New("boom")
	err := Error(fmt.Errorf("cannot parse %q: s3cr@t, other-secret: %w", raw, inner), "--storage", raw)
	for _, secret := range []string{"s3cr", "other-secret"} {
		if strings.Contains(err.Error(), secret) {
			t.Fatalf("%q shows %s", err, secret)
		}
	}
	if !strings.HasPrefix(err.Error(), "--storage: ") || !errors.Is(err, inner) {
		t.Fatalf("%q: want the flag's name and the wrapped error", err)
	}
}
