package keys

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
)

// FuzzVerify feeds arbitrary strings to Verify: it must not panic, must
// fail with one of its sentinel errors, and must accept nothing but the
// exact tokens the Manager signed.
func FuzzVerify(f *testing.F) {
	ctx := context.Background()
	fx := newFixture(f, Options{CacheSize: 8}, poolA)
	signed := map[string][]byte{}
	for _, use := range []string{UseAccess, UseID} {
		claims := sampleClaims(fx.clock.Now(), poolA)
		tok, err := fx.m.Sign(ctx, poolA, use, claims)
		if err != nil {
			f.Fatal(err)
		}
		_, payload := segments(f, tok)
		signed[tok] = payload
		parts := strings.Split(tok, ".")
		f.Add(tok)
		f.Add(parts[0] + "." + parts[1] + ".")
		f.Add(parts[0] + "." + parts[1] + "." + parts[2] + "." + parts[2])
		f.Add(parts[0] + "..." + parts[2])
		f.Add(forge(`{"kid":"`+kidOf(f, tok)+`","alg":"none"}`, `{}`, ""))
		f.Add(forge(`{"kid":"`+kidOf(f, tok)+`","alg":"HS256"}`, `{}`, parts[2]))
	}
	f.Add("")
	f.Add("..")
	f.Add("e30.e30.e30")
	f.Fuzz(func(t *testing.T, token string) {
		for _, use := range []string{UseAccess, UseID} {
			payload, err := fx.m.Verify(ctx, poolA, use, token)
			if err != nil {
				if payload != nil {
					t.Fatalf("error %v with a payload", err)
				}
				if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrUnknownKey) && !errors.Is(err, ErrBadSignature) {
					t.Fatalf("unexpected error kind: %v", err)
				}
				continue
			}
			want, ok := signed[token]
			if !ok {
				t.Fatalf("accepted a token it did not sign: %q", token)
			}
			if !bytes.Equal(payload, want) {
				t.Fatalf("payload %s, want %s", payload, want)
			}
		}
	})
}
