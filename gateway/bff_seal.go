package gateway

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"errors"

	"github.com/cognate-auth/cognate/gateway/bffstore"
)

// bffSealer encrypts stored sessions with AES-256-GCM. session's and
// userpool's sealers are private to their formats (a cookie, a sign-in
// state with a timestamp); this one binds a value to its store key, so a
// row copied under another session's key does not open.
type bffSealer struct{ aead cipher.AEAD }

var errBadSeal = errors.New("gateway: stored session does not open")

// newBFFSealer derives the key from secret under a label of its own, so
// it is not the key session derives from the same secret; nil means a
// random key (sessions then end with the process).
func newBFFSealer(secret []byte) (*bffSealer, error) {
	var key [32]byte
	if secret == nil {
		rand.Read(key[:])
	} else {
		key = sha256.Sum256(append([]byte("cognate-gateway-bff-v1\x00"), secret...))
	}
	block, err := aes.NewCipher(key[:])
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &bffSealer{aead: aead}, nil
}

func (s *bffSealer) seal(key bffstore.Key, plain []byte) []byte {
	n := s.aead.NonceSize()
	nonce := make([]byte, n, n+len(plain)+s.aead.Overhead())
	rand.Read(nonce)
	return s.aead.Seal(nonce, nonce, plain, key[:])
}

func (s *bffSealer) open(key bffstore.Key, sealed []byte) ([]byte, error) {
	n := s.aead.NonceSize()
	if len(sealed) < n+s.aead.Overhead() {
		return nil, errBadSeal
	}
	plain, err := s.aead.Open(nil, sealed[:n], sealed[n:], key[:])
	if err != nil {
		return nil, errBadSeal
	}
	return plain, nil
}
