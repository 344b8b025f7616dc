package keys

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"unsafe"
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

// compact is a syntactically valid compact JWS whose header names RS256.
type compact struct {
	kid          string
	signingInput string // header and payload segments with their dot
	payload      string // payload segment, base64url
	sig          []byte
}

// base64URLByte marks the bytes of the base64url alphabet.
var base64URLByte = func() (t [256]bool) {
	for _, r := range "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_" {
		t[r] = true
	}
	return t
}()

// parseCompact splits a compact JWS and checks everything but the
// signature: three non-empty segments of unpadded base64url (the decoder
// alone would skip CR and LF), a JSON header with alg RS256, a kid and no
// critical extensions.
func parseCompact(token string) (compact, error) {
	dots := 0
	for i := 0; i < len(token); i++ {
		c := token[i]
		if c == '.' {
			dots++
			continue
		}
		if !base64URLByte[c] {
			return compact{}, fmt.Errorf("%w: byte %#x at %d is not base64url", ErrMalformed, c, i)
		}
	}
	if dots != 2 {
		return compact{}, fmt.Errorf("%w: %d segments, want 3", ErrMalformed, dots+1)
	}
	h, rest, _ := strings.Cut(token, ".")
	p, s, _ := strings.Cut(rest, ".")
	if h == "" || p == "" || s == "" {
		return compact{}, fmt.Errorf("%w: empty segment", ErrMalformed)
	}
	hdrJSON, err := b64.DecodeString(h)
	if err != nil {
		return compact{}, fmt.Errorf("%w: header: %w", ErrMalformed, err)
	}
	var hdr struct {
		Alg  string          `json:"alg"`
		Kid  string          `json:"kid"`
		Crit json.RawMessage `json:"crit"`
	}
	if err := json.Unmarshal(hdrJSON, &hdr); err != nil {
		return compact{}, fmt.Errorf("%w: header: %w", ErrMalformed, err)
	}
	if hdr.Alg != Algorithm {
		return compact{}, fmt.Errorf("%w: alg %q, only %s is accepted", ErrMalformed, hdr.Alg, Algorithm)
	}
	if hdr.Kid == "" {
		return compact{}, fmt.Errorf("%w: no kid", ErrMalformed)
	}
	if hdr.Crit != nil {
		return compact{}, fmt.Errorf("%w: critical header extensions are not supported", ErrMalformed)
	}
	sig, err := b64.DecodeString(s)
	if err != nil {
		return compact{}, fmt.Errorf("%w: signature: %w", ErrMalformed, err)
	}
	return compact{
		kid:          hdr.Kid,
		signingInput: token[:len(h)+1+len(p)],
		payload:      p,
		sig:          sig,
	}, nil
}

// verify checks t's signature with k and returns the decoded payload.
func (k *signingKey) verify(t compact) ([]byte, error) {
	digest := sum256(t.signingInput)
	if err := rsa.VerifyPKCS1v15(k.pub, crypto.SHA256, digest[:], t.sig); err != nil {
		return nil, fmt.Errorf("%w: kid %q: %w", ErrBadSignature, k.kid, err)
	}
	payload, err := b64.DecodeString(t.payload)
	if err != nil {
		return nil, fmt.Errorf("%w: payload: %w", ErrMalformed, err)
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
