// Package totp is RFC 4226 HOTP and RFC 6238 TOTP as authenticator apps
// and Cognito use them: HMAC-SHA-1, six digits, 30-second steps, and
// secrets shown as unpadded base32.
package totp

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base32"
	"encoding/binary"
	"time"
)

// Step is the length of one TOTP time step.
const Step = 30 * time.Second

// Digits is the length of a code.
const Digits = 6

// SecretSize is the size of a generated secret: 160 bits, RFC 4226's
// recommendation, which base32 encodes to 32 characters without padding.
const SecretSize = 20

// Encoding is the base32 form of secrets authenticator apps read from an
// otpauth:// URI: standard alphabet, no padding.
var Encoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// HOTP returns the 6-digit code of counter under secret (RFC 4226,
// dynamic truncation), as a number below 10^6.
func HOTP(secret []byte, counter uint64) uint32 {
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], counter)
	m := hmac.New(sha1.New, secret)
	m.Write(msg[:])
	var sum [sha1.Size]byte
	h := m.Sum(sum[:0])
	off := h[len(h)-1] & 0x0f
	bin := binary.BigEndian.Uint32(h[off:off+4]) & 0x7fffffff
	return bin % 1_000_000
}

// Counter is the time step t falls in.
func Counter(t time.Time) uint64 {
	return uint64(t.Unix()) / uint64(Step/time.Second)
}

// Code is the code of t under secret, zero-padded to six digits.
func Code(secret []byte, t time.Time) string {
	return format(HOTP(secret, Counter(t)))
}

func format(n uint32) string {
	var b [Digits]byte
	for i := Digits - 1; i >= 0; i-- {
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[:])
}

// parse reads exactly six ASCII digits.
func parse(code string) (uint32, bool) {
	if len(code) != Digits {
		return 0, false
	}
	var n uint32
	for i := 0; i < Digits; i++ {
		c := code[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint32(c-'0')
	}
	return n, true
}

// Check reports whether code is the code of the step t falls in, or of
// the step before or after it (clock drift), of a step later than last,
// the step last accepted (0 for none): a code is never accepted twice,
// nor one older than a code already accepted. It returns the step the
// code matched, which the caller stores as the new last. Every step of
// the window is computed and compared in constant time, so the time
// taken tells nothing about which step matched, or how nearly.
func Check(secret []byte, code string, t time.Time, last uint64) (uint64, bool) {
	want, ok := parse(code)
	now := Counter(t)
	var matched uint64
	found := 0
	for _, c := range [3]uint64{now - 1, now, now + 1} {
		eq := subtle.ConstantTimeEq(int32(HOTP(secret, c)), int32(want))
		fresh := subtle.ConstantTimeLessOrEq(int(last)+1, int(c)) // c > last
		if eq&fresh == 1 && found == 0 {
			matched, found = c, 1
		}
	}
	return matched, ok && found == 1
}
