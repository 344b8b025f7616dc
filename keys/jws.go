package keys

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"math"
	"unsafe"

	"github.com/cognate-auth/cognate/internal/jws"
)

// sum256 is sha256.Sum256 of a string without copying it to a []byte
// (tokens are about a kilobyte). The slice is only read.
func sum256(s string) [sha256.Size]byte {
	return sha256.Sum256(unsafe.Slice(unsafe.StringData(s), len(s)))
}

// marshalClaims encodes claims as the JWT payload, which must be a JSON
// object.
func marshalClaims(claims any) ([]byte, error) {
	payload, err := json.Marshal(claims)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidClaims, err)
	}
	if len(payload) == 0 || payload[0] != '{' {
		return nil, fmt.Errorf("%w: got %.20q", ErrInvalidClaims, payload)
	}
	return payload, nil
}

// sign builds the compact JWS of payload: the precomputed header segment,
// the payload segment and an RSASSA-PKCS1-v1_5 SHA-256 signature.
func (k *signingKey) sign(payload []byte) (string, error) {
	sigLen := k.priv.Size()
	buf := make([]byte, 0, len(k.header)+b64.EncodedLen(len(payload))+1+b64.EncodedLen(sigLen))
	buf = append(buf, k.header...)
	buf = b64.AppendEncode(buf, payload)
	digest := sha256.Sum256(buf)
	sig, err := rsa.SignPKCS1v15(nil, k.priv, crypto.SHA256, digest[:])
	if err != nil {
		return "", fmt.Errorf("keys: sign: %w", err)
	}
	buf = append(buf, '.')
	buf = b64.AppendEncode(buf, sig)
	return string(buf), nil
}

// parse parses a compact JWS with the parser tokenverify shares, its
// errors wrapped in ErrMalformed.
func parse(token string) (jws.Token, error) {
	t, err := jws.Parse(token)
	if err != nil {
		return jws.Token{}, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return t, nil
}

// verify checks t's signature with k and returns the decoded payload,
// decoded only now: a forged token costs no decoding.
func (k *signingKey) verify(t jws.Token) ([]byte, error) {
	digest := sum256(t.SigningInput)
	if err := rsa.VerifyPKCS1v15(k.pub, crypto.SHA256, digest[:], t.Signature); err != nil {
		return nil, fmt.Errorf("%w: kid %q: %w", ErrBadSignature, k.kid, err)
	}
	payload, err := t.DecodePayload()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return payload, nil
}

// expiry reads the exp claim of a payload as Unix seconds, rounded down.
// ok is false when the payload has no numeric exp.
func expiry(payload []byte) (exp int64, ok bool) {
	var c struct {
		Exp *float64 `json:"exp"`
	}
	if err := json.Unmarshal(payload, &c); err != nil || c.Exp == nil {
		return 0, false
	}
	f := *c.Exp
	if f <= 0 || math.IsNaN(f) {
		return 0, false
	}
	if f >= 1<<62 {
		return 1 << 62, true
	}
	return int64(f), true
}
