package srp

import (
	"encoding/base64"
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
