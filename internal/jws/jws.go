// Package jws parses the compact JWS of RS256 tokens for keys (which
// verifies Cognate's own tokens) and tokenverify (which verifies any
// issuer's), so that both accept and refuse exactly the same shapes.
//
// Parse checks everything but the signature and leaves the payload
// encoded: keys decodes it only once the signature verified, tokenverify
// before it fetches a key. It is written by hand rather than with a JOSE
// library because it runs on every token not already cached (see
// keys.BenchmarkVerifyOverRaw, which compares it with go-jose).
package jws

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Algorithm is the only algorithm Parse accepts. An allow-list of one
// leaves no room for algorithm confusion (none, HS256 keyed with the
// public key).
const Algorithm = "RS256"

// b64 is the strict unpadded base64url of JWS.
var b64 = base64.RawURLEncoding.Strict()

// alphabet marks the bytes of base64url: the decoder alone would skip CR
// and LF inside a segment.
var alphabet = func() (t [256]bool) {
	for _, c := range "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_" {
		t[c] = true
	}
	return t
}()

// Token is a compact JWS whose header passed the allow-list. Its
// signature is not verified.
type Token struct {
	// KID is the header's kid, never empty.
	KID string
	// SigningInput is the header and payload segments with the dot
	// between them: what the signature covers.
	SigningInput string
	// Payload is the payload segment, still base64url: DecodePayload
	// decodes it.
	Payload string
	// Signature is the decoded signature.
	Signature []byte
}

// Parse splits a compact JWS and checks everything but the signature:
// three non-empty segments of unpadded base64url, a JSON header with alg
// RS256, a kid and no critical extensions, and a signature that decodes.
// Its errors say what is wrong and wrap no sentinel: every one of them
// means the token is malformed, and callers wrap them in their own
// sentinel.
func Parse(token string) (Token, error) {
	dots := 0
	for i := 0; i < len(token); i++ {
		if c := token[i]; c == '.' {
			dots++
		} else if !alphabet[c] {
			return Token{}, fmt.Errorf("byte %#x at %d is not base64url", c, i)
		}
	}
	if dots != 2 {
		return Token{}, fmt.Errorf("%d segments, want 3", dots+1)
	}
	h, rest, _ := strings.Cut(token, ".")
	p, s, _ := strings.Cut(rest, ".")
	if h == "" || p == "" || s == "" {
		return Token{}, errors.New("empty segment")
	}
	hdrJSON, err := b64.DecodeString(h)
	if err != nil {
		return Token{}, fmt.Errorf("header: %w", err)
	}
	var hdr struct {
		Alg  string          `json:"alg"`
		Kid  string          `json:"kid"`
		Crit json.RawMessage `json:"crit"`
	}
	if err := json.Unmarshal(hdrJSON, &hdr); err != nil {
		return Token{}, fmt.Errorf("header: %w", err)
	}
	if hdr.Alg != Algorithm {
		// %.20q: the alg is the sender's, and ends up in logs.
		return Token{}, fmt.Errorf("alg %.20q is not allowed, only %s", hdr.Alg, Algorithm)
	}
	if hdr.Kid == "" {
		return Token{}, errors.New("header has no kid")
	}
	if hdr.Crit != nil {
		return Token{}, errors.New("critical header extensions are not supported")
	}
	sig, err := b64.DecodeString(s)
	if err != nil {
		return Token{}, fmt.Errorf("signature: %w", err)
	}
	return Token{KID: hdr.Kid, SigningInput: token[:len(h)+1+len(p)], Payload: p, Signature: sig}, nil
}

// DecodePayload decodes the payload segment. Parse checked its alphabet
// but not its length or trailing bits, so this can still fail.
func (t Token) DecodePayload() ([]byte, error) {
	payload, err := b64.DecodeString(t.Payload)
	if err != nil {
		return nil, fmt.Errorf("payload: %w", err)
	}
	return payload, nil
}
