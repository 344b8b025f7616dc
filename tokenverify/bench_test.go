package tokenverify

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// benchIssuer serves a JWKS for one fresh key and signs Cognito-shaped
// access tokens (about 1 KiB, like Cognito's) with it.
type benchIssuer struct {
	key    *rsa.PrivateKey
	issuer string
	jwks   string
}

func newBenchIssuer(b testing.TB) *benchIssuer {
	b.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		b.Fatal(err)
	}
	doc, _ := json.Marshal(map[string]any{"keys": []any{map[string]any{
		"kty": "RSA", "kid": "k1", "alg": "RS256", "use": "sig",
		"n": b64.EncodeToString(key.N.Bytes()), "e": b64.EncodeToString(big.NewInt(int64(key.E)).Bytes()),
	}}})
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Write(doc) }))
	b.Cleanup(ts.Close)
	return &benchIssuer{key: key, issuer: ts.URL + "/us-east-1_Bench", jwks: ts.URL + "/jwks"}
}

func (bi *benchIssuer) token(b testing.TB, n int) string {
	b.Helper()
	now := time.Now().Unix()
	sub := fmt.Sprintf("8f1d7c4e-0b7a-4d3e-9f59-%012d", n)
	claims, _ := json.Marshal(map[string]any{
		"sub": sub, "cognito:groups": []string{"admin"}, "iss": bi.issuer, "client_id": "4lnn3otbb1ndrcs0mfj1rpk1rd",
		"origin_jti": "0b2c8a5e-6f7d-4c1a-9e3b-2d4f6a8c0e1f", "event_id": "7a9c1e3b-5d7f-4a2c-8e0b-1d3f5a7c9e2b",
		"token_use": "access", "scope": "aws.cognito.signin.user.admin", "auth_time": now, "exp": now + 3600,
		"iat": now, "jti": "3c5e7a9b-1d3f-4b6d-8f0a-2c4e6a8b0d1f", "username": sub,
	})
	hdr := b64.EncodeToString([]byte(`{"kid":"k1","alg":"RS256"}`))
	input := hdr + "." + b64.EncodeToString(claims)
	digest := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPKCS1v15(nil, bi.key, crypto.SHA256, digest[:])
	if err != nil {
		b.Fatal(err)
	}
	return input + "." + b64.EncodeToString(sig)
}

func (bi *benchIssuer) verifier(b testing.TB) *Verifier {
	b.Helper()
	v, err := New(Config{Issuer: bi.issuer, JWKSURL: bi.jwks, ClientIDs: []string{"4lnn3otbb1ndrcs0mfj1rpk1rd"}, TokenUse: "access"})
	if err != nil {
		b.Fatal(err)
	}
	return v
}

// BenchmarkVerifyCached is the per-request cost of a token already seen:
// a hash of the token, a map lookup, a comparison and an expiry check.
func BenchmarkVerifyCached(b *testing.B) {
	bi := newBenchIssuer(b)
	v := bi.verifier(b)
	tok := bi.token(b, 0)
	ctx := context.Background()
	if _, err := v.Verify(ctx, tok); err != nil {
		b.Fatal(err)
	}
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := v.Verify(ctx, tok); err != nil {
				b.Fatal(err)
			}
		}
	})
	// Many sessions at once, as a busy server sees them.
	toks := make([]string, 64)
	for i := range toks {
		toks[i] = bi.token(b, i)
		if _, err := v.Verify(ctx, toks[i]); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				if _, err := v.Verify(ctx, toks[i%len(toks)]); err != nil {
					b.Error(err)
					return
				}
				i++
			}
		})
	})
}

// BenchmarkVerifyFirstSight is the cost of a token not in the cache (the
// JWKS already is): parsing, the RSA signature, the claims and the
// policy checks.
func BenchmarkVerifyFirstSight(b *testing.B) {
	bi := newBenchIssuer(b)
	v := bi.verifier(b)
	tok := bi.token(b, 0)
	ctx := context.Background()
	if _, err := v.Verify(ctx, tok); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.verify(ctx, tok, time.Now()); err != nil {
			b.Fatal(err)
		}
	}
}
