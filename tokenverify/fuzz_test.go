package tokenverify_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/cognate-auth/cognate/tokenverify"
)

// FuzzVerify feeds the parser and checks arbitrary input against a local
// issuer's JWKS. Whatever comes in: no panic, and exactly one outcome —
// claims with no error, claims with ErrExpired, or no claims with
// ErrInvalid. Nothing but the genuine seeds can verify.
func FuzzVerify(f *testing.F) {
	l := newLocal(f)
	genuine := l.sign(f, l.claims())
	expired := l.sign(f, l.with(map[string]any{"exp": time.Now().Add(-time.Hour).Unix(), "iat": time.Now().Add(-2 * time.Hour).Unix()}))
	h, p, s := segments(genuine)
	for _, seed := range []string{
		genuine, expired, "", ".", "..", "a.b.c", h + "." + p + ".", h + "." + p,
		b64.EncodeToString([]byte(`{"alg":"none","kid":"k1"}`)) + "." + p + ".",
		b64.EncodeToString([]byte(`{"alg":"HS256","kid":"k1"}`)) + "." + p + "." + s,
		b64.EncodeToString([]byte(`{"alg":"RS256","kid":"k1","crit":["b64"]}`)) + "." + p + "." + s,
		b64.EncodeToString([]byte(`{"alg":"RS256"}`)) + "." + p + "." + s,
		h + "." + b64.EncodeToString([]byte(`{"exp":1e999}`)) + "." + s,
		genuine + "=", strings.Repeat("A", 100) + "." + p + "." + s,
	} {
		f.Add(seed)
	}
	v := l.verifier(f, nil)
	ctx := context.Background()
	if _, err := v.Verify(ctx, genuine); err != nil {
		f.Fatalf("genuine seed: %v", err)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		c, err := v.Verify(ctx, raw)
		switch {
		case err == nil:
			if c == nil || c.Raw["iss"] != l.issuer {
				t.Fatalf("accepted %q with claims %+v", raw, c)
			}
			if raw != genuine {
				t.Fatalf("accepted a token that is not the genuine seed: %q", raw)
			}
		case errors.Is(err, tokenverify.ErrExpired):
			if c == nil || errors.Is(err, tokenverify.ErrInvalid) || raw != expired {
				t.Fatalf("expired %q: claims %+v, error %v", raw, c, err)
			}
		case errors.Is(err, tokenverify.ErrInvalid):
			if c != nil || errors.Is(err, tokenverify.ErrUnavailable) {
				t.Fatalf("invalid %q: claims %+v, error %v", raw, c, err)
			}
		default:
			t.Fatalf("Verify(%q): unexpected error %v", raw, err)
		}
	})
}
