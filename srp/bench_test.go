package srp

import (
	"crypto/rand"
	"encoding/base64"
	"math/big"
	"testing"
	"time"
)

// benchSetup returns a stored verifier and a client's SRP_A.
func benchSetup(b *testing.B) (verifier []byte, aHex string) {
	b.Helper()
	c, err := NewClient("us-east-1_bench")
	if err != nil {
		b.Fatal(err)
	}
	// Build the g^b table now: a server pays for it once, on its first
	// sign-in (see BenchmarkGExpBuild), not on every one.
	gPow.once.Do(gPow.build)
	return Verifier("bench", "user", "password", NewSalt()), c.AHex()
}

// BenchmarkServerSignIn is the server's whole share of one sign-in when it
// derives the key as soon as SRP_A arrives: parse A, make b and B, derive
// K, check the signature.
func BenchmarkServerSignIn(b *testing.B) {
	verifier, aHex := benchSetup(b)
	block := make([]byte, 512)
	ts := FormatTimestamp(time.Now())
	claim := base64.StdEncoding.EncodeToString(make([]byte, 32))
	b.ReportAllocs()
	for b.Loop() {
		A, err := ParseA(aHex)
		if err != nil {
			b.Fatal(err)
		}
		s, err := NewServerSession(verifier)
		if err != nil {
			b.Fatal(err)
		}
		key, err := s.Key(A)
		if err != nil {
			b.Fatal(err)
		}
		VerifySignature(key, "bench", "user", block, ts, claim)
	}
}

// BenchmarkServerSignInVsExp runs the sign-in of BenchmarkServerSignIn
// alternately as it is and with g^b computed by big.Int.Exp, as it was
// before the fixed-base table, so that a noisy machine slows both alike.
// It reports each one's time per sign-in and their ratio.
func BenchmarkServerSignInVsExp(b *testing.B) {
	verifier, aHex := benchSetup(b)
	block := make([]byte, 512)
	ts := FormatTimestamp(time.Now())
	claim := base64.StdEncoding.EncodeToString(make([]byte, 32))
	// newSessionExp is newSession with g^b by big.Int.Exp.
	newSessionExp := func() *ServerSession {
		v, err := parseVerifier(verifier)
		if err != nil {
			b.Fatal(err)
		}
		var secret [SecretSize]byte
		rand.Read(secret[:])
		sb := new(big.Int).SetBytes(secret[:])
		B := new(big.Int).Mul(groupK, v)
		B.Add(B, new(big.Int).Exp(groupG, sb, groupN))
		B.Mod(B, groupN)
		return &ServerSession{v: v, b: sb, B: B}
	}
	signIn := func(withExp bool) {
		A, err := ParseA(aHex)
		if err != nil {
			b.Fatal(err)
		}
		var s *ServerSession
		if withExp {
			s = newSessionExp()
		} else if s, err = NewServerSession(verifier); err != nil {
			b.Fatal(err)
		}
		key, err := s.Key(A)
		if err != nil {
			b.Fatal(err)
		}
		VerifySignature(key, "bench", "user", block, ts, claim)
	}
	var tExp, tTable time.Duration
	n := 0
	for b.Loop() {
		t0 := time.Now()
		signIn(true)
		t1 := time.Now()
		signIn(false)
		t2 := time.Now()
		tExp += t1.Sub(t0)
		tTable += t2.Sub(t1)
		n++
	}
	b.ReportMetric(float64(tExp.Nanoseconds())/float64(n), "exp-ns/signin")
	b.ReportMetric(float64(tTable.Nanoseconds())/float64(n), "table-ns/signin")
	b.ReportMetric(float64(tTable)/float64(tExp), "table/exp")
}

// BenchmarkServerSignInRestored is the same with the secret carried between
// the two requests and the session rebuilt, which costs one more
// exponentiation.
func BenchmarkServerSignInRestored(b *testing.B) {
	verifier, aHex := benchSetup(b)
	block := make([]byte, 512)
	ts := FormatTimestamp(time.Now())
	claim := base64.StdEncoding.EncodeToString(make([]byte, 32))
	b.ReportAllocs()
	for b.Loop() {
		A, err := ParseA(aHex)
		if err != nil {
			b.Fatal(err)
		}
		s, err := NewServerSession(verifier)
		if err != nil {
			b.Fatal(err)
		}
		r, err := RestoreServerSession(verifier, s.Secret())
		if err != nil {
			b.Fatal(err)
		}
		key, err := r.Key(A)
		if err != nil {
			b.Fatal(err)
		}
		VerifySignature(key, "bench", "user", block, ts, claim)
	}
}

func BenchmarkVerifier(b *testing.B) {
	salt := NewSalt()
	b.ReportAllocs()
	for b.Loop() {
		Verifier("bench", "user", "password", salt)
	}
}

// BenchmarkClientRespond is the client's (Amplify's) work, for comparison:
// its exponents are 1024 and ~3328 bits.
func BenchmarkClientRespond(b *testing.B) {
	c, err := NewClient("us-east-1_bench")
	if err != nil {
		b.Fatal(err)
	}
	s, err := NewServerSession(Verifier("bench", "user", "password", []byte{1, 2, 3}))
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := c.Respond("user", "password", "010203", s.BHex(), "AAAA", now); err != nil {
			b.Fatal(err)
		}
	}
}
