package keys

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"slices"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// benchSetup returns a Manager with poolA's keys, a signed access token,
// and the access key.
func benchSetup(b *testing.B, opts Options) (*Manager, string, *signingKey) {
	b.Helper()
	ctx := context.Background()
	f := newFixture(b, opts, poolA)
	token, err := f.m.Sign(ctx, poolA, UseAccess, sampleClaims(f.clock.Now(), poolA))
	if err != nil {
		b.Fatal(err)
	}
	return f.m, token, f.m.cached(poolA).current[0]
}

func BenchmarkSignRS256(b *testing.B) {
	m, _, _ := benchSetup(b, Options{})
	ctx := context.Background()
	claims := sampleClaims(m.now(), poolA)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.Sign(ctx, poolA, UseAccess, claims); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRawRSASign is the floor for Sign: the RSA operation alone.
func BenchmarkRawRSASign(b *testing.B) {
	_, _, k := benchSetup(b, Options{})
	digest := sha256.Sum256([]byte("cognate"))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := rsa.SignPKCS1v15(nil, k.priv, crypto.SHA256, digest[:]); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyUncached(b *testing.B) {
	m, token, _ := benchSetup(b, Options{CacheSize: -1})
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.Verify(ctx, poolA, UseAccess, token); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyCached(b *testing.B) {
	m, token, _ := benchSetup(b, Options{})
	ctx := context.Background()
	if _, err := m.Verify(ctx, poolA, UseAccess, token); err != nil {
		b.Fatal(err)
	}
	before := m.rsaVerifies.Load()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.Verify(ctx, poolA, UseAccess, token); err != nil {
			b.Fatal(err)
		}
	}
	if n := m.rsaVerifies.Load() - before; n != 0 {
		b.Fatalf("cached verifications ran RSA %d times", n)
	}
}

func BenchmarkVerifyCachedParallel(b *testing.B) {
	m, token, _ := benchSetup(b, Options{})
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := m.Verify(ctx, poolA, UseAccess, token); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkRawRSAVerify is the floor for an uncached Verify.
func BenchmarkRawRSAVerify(b *testing.B) {
	_, _, k := benchSetup(b, Options{})
	digest := sha256.Sum256([]byte("cognate"))
	sig, err := rsa.SignPKCS1v15(nil, k.priv, crypto.SHA256, digest[:])
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := rsa.VerifyPKCS1v15(k.pub, crypto.SHA256, digest[:], sig); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyGoJose is the alternative to the hand-rolled parser:
// go-jose's ParseSigned and Verify, for comparison with VerifyUncached.
func BenchmarkVerifyGoJose(b *testing.B) {
	_, token, k := benchSetup(b, Options{})
	algs := []jose.SignatureAlgorithm{jose.RS256}
	b.ReportAllocs()
	for b.Loop() {
		jws, err := jose.ParseSignedCompact(token, algs)
		if err != nil {
			b.Fatal(err)
		}
		if jws.Signatures[0].Header.KeyID != k.kid {
			b.Fatal("kid")
		}
		if _, err := jws.Verify(k.pub); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSignOverRaw alternates Sign and a raw RSA signature in one loop
// and reports the median of each and their ratio, which stays meaningful
// on a busy machine where separate benchmarks drift apart.
func BenchmarkSignOverRaw(b *testing.B) {
	m, _, k := benchSetup(b, Options{})
	ctx := context.Background()
	claims := sampleClaims(m.now(), poolA)
	digest := sha256.Sum256([]byte("cognate"))
	var signs, raws []time.Duration
	for b.Loop() {
		t0 := time.Now()
		if _, err := m.Sign(ctx, poolA, UseAccess, claims); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		if _, err := rsa.SignPKCS1v15(nil, k.priv, crypto.SHA256, digest[:]); err != nil {
			b.Fatal(err)
		}
		t2 := time.Now()
		signs, raws = append(signs, t1.Sub(t0)), append(raws, t2.Sub(t1))
	}
	sign, raw := median(signs), median(raws)
	b.ReportMetric(float64(sign.Nanoseconds()), "sign-ns")
	b.ReportMetric(float64(raw.Nanoseconds()), "raw-ns")
	b.ReportMetric(float64(sign)/float64(raw), "sign/raw")
}

// BenchmarkVerifyOverRaw does the same for an uncached Verify, go-jose's
// parse and verify, and a raw RSA verification.
func BenchmarkVerifyOverRaw(b *testing.B) {
	m, token, k := benchSetup(b, Options{CacheSize: -1})
	ctx := context.Background()
	digest := sha256.Sum256([]byte("cognate"))
	sig, err := rsa.SignPKCS1v15(nil, k.priv, crypto.SHA256, digest[:])
	if err != nil {
		b.Fatal(err)
	}
	algs := []jose.SignatureAlgorithm{jose.RS256}
	var ours, joses, raws []time.Duration
	for b.Loop() {
		t0 := time.Now()
		if _, err := m.Verify(ctx, poolA, UseAccess, token); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		jws, err := jose.ParseSignedCompact(token, algs)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := jws.Verify(k.pub); err != nil {
			b.Fatal(err)
		}
		t2 := time.Now()
		if err := rsa.VerifyPKCS1v15(k.pub, crypto.SHA256, digest[:], sig); err != nil {
			b.Fatal(err)
		}
		t3 := time.Now()
		ours, joses, raws = append(ours, t1.Sub(t0)), append(joses, t2.Sub(t1)), append(raws, t3.Sub(t2))
	}
	b.ReportMetric(float64(median(ours).Nanoseconds()), "verify-ns")
	b.ReportMetric(float64(median(joses).Nanoseconds()), "gojose-ns")
	b.ReportMetric(float64(median(raws).Nanoseconds()), "raw-ns")
}

func median(d []time.Duration) time.Duration {
	if len(d) == 0 {
		return 0
	}
	slices.Sort(d)
	return d[len(d)/2]
}
