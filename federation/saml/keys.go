package saml

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"time"
)

// keyPair is a service provider key and its self-signed certificate.
type keyPair struct {
	key  *rsa.PrivateKey
	cert *x509.Certificate
}

// storedKeyPair is a key pair as kept among the server's secrets.
type storedKeyPair struct {
	Key  []byte `json:"key"`  // PKCS #8 DER
	Cert []byte `json:"cert"` // DER
}

// certLifetime is Cognito's: a user pool's SAML certificates are valid for
// ten years.
const certLifetime = 10 * 365 * 24 * time.Hour

// signingKey is the pool's request-signing key pair (what Cognito's
// GetSigningCertificate returns the certificate of). Like Cognito, every
// SAML provider of a pool signs with it.
func (s *Service) signingKey(ctx context.Context, poolID string) (*keyPair, error) {
	return s.keyPair(ctx, "saml/signing/"+poolID, poolID)
}

// encryptionKey is the key pair a provider's IdP encrypts assertions to
// (Cognito's ActiveEncryptionCertificate): one per provider, as in
// Cognito.
func (s *Service) encryptionKey(ctx context.Context, poolID, provider string) (*keyPair, error) {
	return s.keyPair(ctx, "saml/encryption/"+poolID+"/"+provider, poolID)
}

// keyPair loads the named key pair, generating and storing it on first
// use: of nodes starting at once, one proposal is stored and every node
// reads it back.
func (s *Service) keyPair(ctx context.Context, name, poolID string) (*keyPair, error) {
	s.keyMu.Lock()
	kp, ok := s.keys[name]
	s.keyMu.Unlock()
	if ok {
		return kp, nil
	}
	raw, err := s.store.GetOrCreateSecret(ctx, name, func() ([]byte, error) { return newKeyPair(poolID, s.now()) })
	if err != nil {
		return nil, fmt.Errorf("saml key %s: %w", name, err)
	}
	kp, err = decodeKeyPair(raw)
	if err != nil {
		return nil, fmt.Errorf("saml key %s: %w", name, err)
	}
	s.keyMu.Lock()
	s.keys[name] = kp
	s.keyMu.Unlock()
	return kp, nil
}

func newKeyPair(poolID string, now time.Time) ([]byte, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: poolID},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(certLifetime),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
	}
	cert, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	return json.Marshal(storedKeyPair{Key: der, Cert: cert})
}

func decodeKeyPair(raw []byte) (*keyPair, error) {
	var st storedKeyPair
	if err := json.Unmarshal(raw, &st); err != nil {
		return nil, err
	}
	k, err := x509.ParsePKCS8PrivateKey(st.Key)
	if err != nil {
		return nil, err
	}
	key, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, errors.New("not an RSA key")
	}
	cert, err := x509.ParseCertificate(st.Cert)
	if err != nil {
		return nil, err
	}
	return &keyPair{key: key, cert: cert}, nil
}

// certificateText is a certificate as Cognito returns one: base64 DER, no
// PEM armour.
func certificateText(c *x509.Certificate) string {
	return base64.StdEncoding.EncodeToString(c.Raw)
}

// SigningCertificate is the certificate of the pool's request-signing key
// (the answer of Cognito's GetSigningCertificate).
func (s *Service) SigningCertificate(ctx context.Context, poolID string) (string, error) {
	kp, err := s.signingKey(ctx, poolID)
	if err != nil {
		return "", err
	}
	return certificateText(kp.cert), nil
}
