package tokenverify

import (
	"fmt"

	"github.com/cognate-auth/cognate/internal/jws"
)

// maxTokenSize bounds the tokens Verify reads (Cognito's are 1–2 KiB).
const maxTokenSize = 16 << 10

// algorithm is the only signature algorithm accepted: Cognito and Cognate
// sign with it, and an allow-list of one leaves no room for alg
// confusion (none, HS256 keyed with the public key).
const algorithm = jws.Algorithm

// parseJWS parses a compact JWS with the parser keys shares, its errors
// wrapped in ErrInvalid, and decodes its payload. The payload is decoded
// before any key is fetched, so that a token that could never verify
// does not make Verify fetch the JWKS.
func parseJWS(raw string) (jws.Token, []byte, error) {
	t, err := jws.Parse(raw)
	if err != nil {
		return jws.Token{}, nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	payload, err := t.DecodePayload()
	if err != nil {
		return jws.Token{}, nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return t, payload, nil
}
