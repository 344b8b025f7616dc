package gateway

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/cognate-auth/cognate/session"
)

// ALBKeyPath is where the public key of x-amzn-oidc-data is served:
// ALBKeyPath + <kid> answers the PEM, as ALB's
// https://public-keys.auth.elb.<region>.amazonaws.com/<kid> does, and
// ALBKeyPath + "jwks.json" the same key as a JWK set.
const ALBKeyPath = "/_gateway/alb/"

// albClaimsDropped are id-token claims that are about the token, not the
// user: x-amzn-oidc-data carries the user's claims (ALB takes them from
// the userinfo endpoint, which answers without these).
var albClaimsDropped = map[string]bool{
	"aud": true, "iat": true, "nbf": true, "auth_time": true, "token_use": true,
	"at_hash": true, "jti": true, "origin_jti": true, "event_id": true, "nonce": true,
}

// albSigner makes x-amzn-oidc-data as an AWS Application Load Balancer
// does: an ES256 JWT whose header carries kid, signer, iss, client and
// exp, and whose claims are the user's.
type albSigner struct {
	key                    *ecdsa.PrivateKey
	kid                    string
	signer, issuer, client string
	pem, jwks              []byte
}

// ParseALBKey reads a P-256 private key in PEM (PKCS #8 or SEC 1).
func ParseALBKey(data []byte) (*ecdsa.PrivateKey, error) {
	b, _ := pem.Decode(data)
	if b == nil {
		return nil, errors.New("no PEM block")
	}
	var key any
	var err error
	switch b.Type {
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(b.Bytes)
	default:
		key, err = x509.ParsePKCS8PrivateKey(b.Bytes)
	}
	if err != nil {
		return nil, err
	}
	k, ok := key.(*ecdsa.PrivateKey)
	if !ok || k.Curve != elliptic.P256() {
		return nil, errors.New("not a P-256 (ES256) key")
	}
	return k, nil
}

func newALBSigner(cfg *Config, sc session.Config) (*albSigner, error) {
	key := cfg.ALBKey
	if key == nil {
		var err error
		if key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
			return nil, err
		}
	}
	if key.Curve != elliptic.P256() {
		return nil, fmt.Errorf("%w: the ALB key must be P-256", ErrConfig)
	}
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(der)
	h := hex.EncodeToString(sum[:16])
	s := &albSigner{
		key: key, kid: h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:],
		signer: cfg.ALBSigner, issuer: sc.Issuer, client: sc.ClientID,
		pem: pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}),
	}
	if s.signer == "" {
		s.signer = "arn:aws:elasticloadbalancing:" + region(sc) + ":000000000000:loadbalancer/app/cognate-gateway/0000000000000000"
	}
	point, err := key.PublicKey.Bytes() // 0x04 || X || Y
	if err != nil {
		return nil, err
	}
	s.jwks, err = json.Marshal(map[string]any{"keys": []map[string]string{{
		"kty": "EC", "crv": "P-256", "use": "sig", "alg": "ES256", "kid": s.kid,
		"x": b64(point[1:33]), "y": b64(point[33:]),
	}}})
	return s, err
}

// region is the pool's region, for the default signer.
func region(sc session.Config) string {
	if sc.Region != "" {
		return sc.Region
	}
	if r, _, ok := strings.Cut(sc.UserPoolID, "_"); ok && r != "" {
		return r
	}
	return "us-east-1"
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// sign returns x-amzn-oidc-data for s ("" if it cannot be made). It
// expires with the access token.
func (a *albSigner) sign(s *session.Session) string {
	exp := s.ExpiresAt.Unix()
	head, err := json.Marshal(map[string]any{
		"typ": "JWT", "alg": "ES256", "kid": a.kid, "signer": a.signer,
		"iss": a.issuer, "client": a.client, "exp": exp,
	})
	if err != nil {
		return ""
	}
	claims := map[string]any{}
	for k, v := range s.Attributes {
		if !albClaimsDropped[k] && !strings.HasPrefix(k, "cognito:") {
			claims[k] = v
		}
	}
	claims["sub"], claims["username"], claims["exp"], claims["iss"] = s.Sub, s.Username, exp, a.issuer
	if s.Email != "" {
		claims["email"] = s.Email
	}
	body, err := json.Marshal(claims)
	if err != nil {
		return ""
	}
	input := b64(head) + "." + b64(body)
	digest := sha256.Sum256([]byte(input))
	r, sv, err := ecdsa.Sign(rand.Reader, a.key, digest[:])
	if err != nil {
		return ""
	}
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	sv.FillBytes(sig[32:])
	return input + "." + b64(sig)
}

// serveKey answers ALBKeyPath + kid (PEM) and ALBKeyPath + "jwks.json".
func (a *albSigner) serveKey(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(r.URL.Path, ALBKeyPath)
	w.Header().Set("Cache-Control", "public, max-age=3600")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	switch name {
	case a.kid:
		w.Header().Set("Content-Type", "application/x-pem-file")
		w.Write(a.pem)
	case "jwks.json":
		w.Header().Set("Content-Type", "application/json")
		w.Write(a.jwks)
	default:
		http.NotFound(w, r)
	}
}
