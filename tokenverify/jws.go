package tokenverify

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
)

// maxTokenSize bounds the tokens Verify reads (Cognito's are 1–2 KiB).
const maxTokenSize = 16 << 10

// algorithm is the only signature algorithm accepted: Cognito and Cognate
// sign with it, and an allow-list of one leaves no room for alg
// confusion (none, HS256 keyed with the public key).
const algorithm = "RS256"

// b64 is the strict unpadded base64url of JWS.
var b64 = base64.RawURLEncoding.Strict()

// b64Byte marks the bytes of the base64url alphabet; the decoder alone
// would skip CR and LF.
var b64Byte = func() (t [256]bool) {
	for _, c := range "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_" {
		t[c] = true
	}
	return t
}()

// jws is a compact JWS whose header passed the allow-list, not yet
// verified.
type jws struct {
	kid          string
	signingInput string // header and payload segments with their dot
	payload      []byte // decoded, not parsed
	sig          []byte
}

// parseJWS splits and decodes a compact JWS: three non-empty base64url
// segments, a JSON header with alg RS256, a kid and no crit.
func parseJWS(raw string) (jws, error) {
	dots := 0
	for i := 0; i < len(raw); i++ {
		if c := raw[i]; c == '.' {
			dots++
		} else if !b64Byte[c] {
			return jws{}, fmt.Errorf("%w: byte %#x at %d is not base64url", ErrInvalid, c, i)
		}
	}
	if dots != 2 {
		return jws{}, fmt.Errorf("%w: %d segments, want 3", ErrInvalid, dots+1)
	}
	h, rest, _ := strings.Cut(raw, ".")
	p, s, _ := strings.Cut(rest, ".")
	if h == "" || p == "" || s == "" {
		return jws{}, fmt.Errorf("%w: empty segment", ErrInvalid)
	}
	hdrJSON, err := b64.DecodeString(h)
	if err != nil {
		return jws{}, fmt.Errorf("%w: header: %w", ErrInvalid, err)
	}
	var hdr struct {
		Alg  string          `json:"alg"`
		Kid  string          `json:"kid"`
		Crit json.RawMessage `json:"crit"`
	}
	if err := json.Unmarshal(hdrJSON, &hdr); err != nil {
		return jws{}, fmt.Errorf("%w: header: %w", ErrInvalid, err)
	}
	if hdr.Alg != algorithm {
		return jws{}, fmt.Errorf("%w: alg %.20q is not allowed, only %s", ErrInvalid, hdr.Alg, algorithm)
	}
	if hdr.Kid == "" {
		return jws{}, fmt.Errorf("%w: header has no kid", ErrInvalid)
	}
	if hdr.Crit != nil {
		return jws{}, fmt.Errorf("%w: critical header extensions are not supported", ErrInvalid)
	}
	sig, err := b64.DecodeString(s)
	if err != nil {
		return jws{}, fmt.Errorf("%w: signature: %w", ErrInvalid, err)
	}
	payload, err := b64.DecodeString(p)
	if err != nil {
		return jws{}, fmt.Errorf("%w: payload: %w", ErrInvalid, err)
	}
	return jws{kid: hdr.Kid, signingInput: raw[:len(h)+1+len(p)], payload: payload, sig: sig}, nil
}
