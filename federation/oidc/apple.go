package oidc

import (
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"time"
)

// appleKey is Sign in with Apple's private key (private_key, a PKCS #8
// P-256 key in PEM): Apple takes, as the client secret, a short-lived
// ES256 JWT signed with it.
type appleKey struct{ key *ecdsa.PrivateKey }

func parseAppleKey(s string) (appleKey, error) {
	block, _ := pem.Decode([]byte(s))
	if block == nil {
		return appleKey{}, errors.New("not a PEM private key")
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return appleKey{}, errors.New("not a PKCS #8 private key")
	}
	ec, ok := k.(*ecdsa.PrivateKey)
	if !ok || ec.Curve.Params().BitSize != 256 {
		return appleKey{}, errors.New("not a P-256 key")
	}
	return appleKey{key: ec}, nil
}

// clientSecret signs the JWT Apple's token endpoint takes as the secret.
func (k appleKey) clientSecret(d map[string]string, now time.Time) (string, error) {
	header, err := json.Marshal(map[string]string{"alg": "ES256", "kid": d["key_id"]})
	if err != nil {
		return "", err
	}
	claims, err := json.Marshal(map[string]any{
		"iss": d["team_id"], "sub": d["client_id"], "aud": "https://appleid.apple.com",
		"iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(),
	})
	if err != nil {
		return "", err
	}
	input := base64.RawURLEncoding.EncodeToString(header) + "." + base64.RawURLEncoding.EncodeToString(claims)
	sum := sha256.Sum256([]byte(input))
	r, s, err := ecdsa.Sign(rand.Reader, k.key, sum[:])
	if err != nil {
		return "", err
	}
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return input + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}

// addAppleUser takes the name Apple posts (only on a user's first
// sign-in) in its "user" form value, when the id token has none.
func addAppleUser(raw string, attrs map[string]string) {
	if raw == "" || len(raw) > 4096 {
		return
	}
	var u struct {
		Name struct {
			FirstName string `json:"firstName"`
			LastName  string `json:"lastName"`
		} `json:"name"`
	}
	if json.Unmarshal([]byte(raw), &u) != nil {
		return
	}
	for k, v := range map[string]string{"firstName": u.Name.FirstName, "lastName": u.Name.LastName} {
		if _, ok := attrs[k]; !ok && v != "" {
			attrs[k] = v
		}
	}
}
