package srp

import (
	"crypto/rand"
	"fmt"
	"math/big"
)

// ParseA parses SRP_A as the client sent it: hex of any case, without
// padding, at most MaxAHexLen digits. It rejects A ≡ 0 (mod N), which
// would let a client force S = 0 without knowing the password. Errors wrap
// ErrInvalidA.
func ParseA(hexA string) (*big.Int, error) {
	switch {
	case hexA == "":
		return nil, fmt.Errorf("%w: empty", ErrInvalidA)
	case len(hexA) > MaxAHexLen:
		// Checked first so that a huge SRP_A costs nothing.
		return nil, fmt.Errorf("%w: %d hex digits, more than %d", ErrInvalidA, len(hexA), MaxAHexLen)
	}
	A, ok := parseHex(hexA)
	if !ok {
		return nil, fmt.Errorf("%w: not hex", ErrInvalidA)
	}
	if isZeroModN(A) {
		return nil, fmt.Errorf("%w: A mod N is 0", ErrInvalidA)
	}
	return A, nil
}

// ServerSession is the server's half of one sign-in attempt: the user's
// verifier v, the random secret b and the public B derived from them. It is
// immutable, so it may be used from several goroutines.
//
// Real Cognito keeps no server-side session for USER_SRP_AUTH; the state
// travels in SECRET_BLOCK. Since A is already known when the challenge is
// issued, the cheapest stateless design calls [ServerSession.Key] right
// away and seals only the 16-byte key (with the user, client and time) into
// SECRET_BLOCK; the answer then needs no big-number work at all. A caller
// that would rather seal the secret can use [ServerSession.Secret] and
// [RestoreServerSession], at the cost of one more exponentiation and of
// keeping A too.
type ServerSession struct {
	v, b, B *big.Int
}

// NewServerSession starts a sign-in attempt against a verifier made by
// [Verifier], with a fresh random secret.
func NewServerSession(verifier []byte) (*ServerSession, error) {
	v, err := parseVerifier(verifier)
	if err != nil {
		return nil, err
	}
	for {
		var secret [SecretSize]byte
		rand.Read(secret[:]) // never fails since Go 1.24: it crashes the program instead
		// newSession fails only for b = 0 or B = 0, each with probability
		// about 2^-256; draw again rather than return an error nobody can act on.
		if s, err := newSession(v, new(big.Int).SetBytes(secret[:])); err == nil {
			return s, nil
		}
	}
}

// RestoreServerSession rebuilds a session from the verifier and the bytes
// [ServerSession.Secret] returned. Those bytes let anyone who also sees A
// compute the session key, so keep them sealed (encrypted and
// authenticated) while they travel. Errors wrap ErrInvalidVerifier or
// ErrInvalidSecret.
func RestoreServerSession(verifier, secret []byte) (*ServerSession, error) {
	v, err := parseVerifier(verifier)
	if err != nil {
		return nil, err
	}
	if len(secret) != SecretSize {
		return nil, fmt.Errorf("%w: %d bytes, want %d", ErrInvalidSecret, len(secret), SecretSize)
	}
	return newSession(v, new(big.Int).SetBytes(secret))
}

// CheckVerifier reports whether verifier, as a client delivered it (a
// device's PasswordVerifier), can be used: a big-endian integer in
// [1, N), leading zero bytes allowed. Errors wrap ErrInvalidVerifier.
func CheckVerifier(verifier []byte) error {
	if len(verifier) > 2*len(nHex) {
		// Far longer than any padding of a number below N.
		return fmt.Errorf("%w: %d bytes", ErrInvalidVerifier, len(verifier))
	}
	_, err := parseVerifier(verifier)
	return err
}

func parseVerifier(verifier []byte) (*big.Int, error) {
	v := new(big.Int).SetBytes(verifier)
	// v = 0 would make S = 0 for every A: a password-free sign-in.
	if v.Sign() == 0 || v.Cmp(groupN) >= 0 {
		return nil, fmt.Errorf("%w: not in [1, N)", ErrInvalidVerifier)
	}
	return v, nil
}

// newSession computes B = (k*v + g^b) mod N.
func newSession(v, b *big.Int) (*ServerSession, error) {
	if b.Sign() == 0 {
		return nil, fmt.Errorf("%w: zero", ErrInvalidSecret)
	}
	B := new(big.Int).Mul(groupK, v)
	B.Add(B, gPow.exp(b)) // g^b mod N
	B.Mod(B, groupN)
	if B.Sign() == 0 {
		// Clients reject B ≡ 0; so do we.
		return nil, fmt.Errorf("%w: B is 0", ErrInvalidSecret)
	}
	return &ServerSession{v: v, b: b, B: B}, nil
}

// BHex returns B for SRP_B: lowercase hex without padding, which is what
// clients parse (they read it as an integer, so padding would not matter).
func (s *ServerSession) BHex() string {
	return s.B.Text(16)
}

// Secret returns the server secret b as SecretSize big-endian bytes, for a
// caller that seals it into SECRET_BLOCK and later calls
// [RestoreServerSession].
func (s *ServerSession) Secret() []byte {
	return s.b.FillBytes(make([]byte, SecretSize))
}

// Key returns the KeySize-byte session key K for the client's A, normally
// from [ParseA]. Errors wrap ErrInvalidA (A ≤ 0 or A ≡ 0 mod N) or
// ErrZeroU. A wrong password is not an error here: it shows up as a
// signature that does not verify.
func (s *ServerSession) Key(A *big.Int) ([]byte, error) {
	if A == nil || A.Sign() <= 0 || isZeroModN(A) {
		return nil, fmt.Errorf("%w: A mod N is 0 or A is not positive", ErrInvalidA)
	}
	u, err := computeU(A, s.B)
	if err != nil {
		return nil, err
	}
	// S = (A * v^u)^b mod N
	S := new(big.Int).Exp(s.v, u, groupN)
	S.Mul(S, A)
	S.Mod(S, groupN)
	S.Exp(S, s.b, groupN)
	return deriveKey(u, S), nil
}
