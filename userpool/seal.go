package userpool

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
)

// maxSealed bounds a sealed value before decoding: sign-in state is small,
// so anything bigger is garbage or an attack.
const maxSealed = 4096

var errBadSeal = errors.New("sealed value invalid or expired")

// sealer makes the server-side state of multi-step sign-ins (the SRP
// SECRET_BLOCK, challenge Sessions) stateless: the state travels with the
// client, encrypted and authenticated with AES-256-GCM. The additional
// data binds it to its purpose, pool and client, so a block issued to one
// client cannot be answered through another.
type sealer struct{ aead cipher.AEAD }

func newSealer(key []byte) (*sealer, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("session key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("session key: %w", err)
	}
	return &sealer{aead: aead}, nil
}

func (s *sealer) seal(purpose, bind string, now time.Time, v any) (string, error) {
	body, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	plain := binary.BigEndian.AppendUint64(make([]byte, 0, 8+len(body)), uint64(now.UnixMilli()))
	plain = append(plain, body...)
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(plain)+s.aead.Overhead())
	if _, err := io.ReadFull(rand.Reader, nonce); err != nil {
		return "", err
	}
	out := s.aead.Seal(nonce, nonce, plain, []byte(purpose+"\x00"+bind))
	return base64.StdEncoding.EncodeToString(out), nil
}

// open authenticates and decodes a sealed value no older than maxAge.
func (s *sealer) open(purpose, bind, sealed string, maxAge time.Duration, now time.Time, v any) error {
	if len(sealed) > maxSealed {
		return errBadSeal
	}
	raw, err := base64.StdEncoding.DecodeString(sealed)
	if err != nil || len(raw) < s.aead.NonceSize()+s.aead.Overhead()+8 {
		return errBadSeal
	}
	n := s.aead.NonceSize()
	plain, err := s.aead.Open(nil, raw[:n], raw[n:], []byte(purpose+"\x00"+bind))
	if err != nil {
		return errBadSeal
	}
	issued := time.UnixMilli(int64(binary.BigEndian.Uint64(plain[:8])))
	if now.Sub(issued) > maxAge || issued.Sub(now) > time.Minute {
		return errBadSeal
	}
	if err := json.Unmarshal(plain[8:], v); err != nil {
		return errBadSeal
	}
	return nil
}
