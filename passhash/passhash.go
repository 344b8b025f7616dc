// Package passhash checks passwords against hashes imported from other
// systems (`cognate admin import-users`): bcrypt, scrypt, Firebase's
// modified scrypt, PBKDF2 and Argon2id, each in one self-describing
// string.
//
// # Formats
//
//	bcrypt           $2a$10$…, $2b$…, $2y$… (the modular crypt form bcrypt writes)
//	argon2id         $argon2id$v=19$m=65536,t=3,p=4$<salt>$<hash>   (PHC)
//	scrypt           $scrypt$ln=15,r=8,p=1$<salt>$<hash>            (PHC, N = 2^ln)
//	pbkdf2           $pbkdf2-sha256$i=600000$<salt>$<hash>          (also -sha1, -sha512)
//	Firebase scrypt  $firebase-scrypt$r=8,m=14$<signer key>$<salt separator>$<salt>$<hash>
//
// Salts, keys and hashes of the PHC forms are base64 (standard alphabet,
// with or without padding); Firebase's values are written as Firebase
// exports them (standard base64).
//
// Parse rejects anything else with an error that names what is wrong,
// and bounds every cost parameter, so that a hash in the file cannot make
// each sign-in attempt cost seconds of CPU or gigabytes of memory.
package passhash

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
	"golang.org/x/crypto/scrypt"
)

// Kinds of hash, as Hash.Kind names them.
const (
	KindBcrypt         = "bcrypt"
	KindArgon2id       = "argon2id"
	KindScrypt         = "scrypt"
	KindFirebaseScrypt = "firebase-scrypt"
	KindPBKDF2SHA1     = "pbkdf2-sha1"
	KindPBKDF2SHA256   = "pbkdf2-sha256"
	KindPBKDF2SHA512   = "pbkdf2-sha512"
)

// ErrUnknownFormat is returned for a string that is none of the formats.
var ErrUnknownFormat = errors.New("passhash: unknown hash format")

// ErrMalformed is returned for a string of a known format whose fields
// are wrong or out of bounds; the wrapping error says which.
var ErrMalformed = errors.New("passhash: malformed hash")

// Bounds of the cost parameters Parse accepts.
const (
	maxBcryptCost       = 16
	maxArgonMemoryKiB   = 256 * 1024
	maxArgonTime        = 16
	maxArgonThreads     = 16
	maxScryptLogN       = 20
	maxScryptR          = 32
	maxScryptP          = 16
	maxScryptMemory     = 256 << 20 // 128·N·r bytes
	maxFirebaseRounds   = 8
	maxFirebaseMemCost  = 16
	maxPBKDF2Iterations = 2_000_000
	minSaltLen          = 4
	maxFieldLen         = 256
	minHashLen          = 16
	maxLen              = 1024
)

// Hash is a parsed imported password hash.
type Hash struct {
	kind string
	// raw is the bcrypt string, which bcrypt parses itself.
	raw []byte
	// The parameters of the other kinds.
	salt, sum    []byte
	signer, sep  []byte
	iterations   int
	memory, time uint32
	threads      uint8
	n, r, p      int
	newHash      func() hash.Hash
}

// Kind names the hash's algorithm (one of the Kind constants).
func (h Hash) Kind() string { return h.kind }

func malformed(kind, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrMalformed, kind, fmt.Sprintf(format, args...))
}

// Parse parses and validates an imported hash string.
func Parse(s string) (Hash, error) {
	if len(s) > maxLen {
		return Hash{}, fmt.Errorf("%w: longer than %d bytes", ErrMalformed, maxLen)
	}
	if !strings.HasPrefix(s, "$") {
		return Hash{}, fmt.Errorf("%w: does not start with $<algorithm>$", ErrUnknownFormat)
	}
	parts := strings.Split(s[1:], "$")
	switch id := parts[0]; id {
	case "2a", "2b", "2y":
		return parseBcrypt(s)
	case KindArgon2id:
		return parseArgon2id(parts)
	case KindScrypt:
		return parseScrypt(parts)
	case KindFirebaseScrypt:
		return parseFirebase(parts)
	case KindPBKDF2SHA1, KindPBKDF2SHA256, KindPBKDF2SHA512:
		return parsePBKDF2(id, parts)
	default:
		if len(id) > 32 {
			id = id[:32]
		}
		return Hash{}, fmt.Errorf("%w: algorithm %q (want 2a, 2b, 2y, argon2id, scrypt, firebase-scrypt, pbkdf2-sha1, pbkdf2-sha256 or pbkdf2-sha512)", ErrUnknownFormat, id)
	}
}

func parseBcrypt(s string) (Hash, error) {
	cost, err := bcrypt.Cost([]byte(s))
	if err != nil {
		return Hash{}, malformed(KindBcrypt, "%v", err)
	}
	// bcrypt.Cost reads only the prefix: the whole string is 60 bytes
	// of the bcrypt alphabet.
	if len(s) != 60 {
		return Hash{}, malformed(KindBcrypt, "length %d, want 60", len(s))
	}
	for _, c := range s[7:] {
		if !isBcryptChar(c) {
			return Hash{}, malformed(KindBcrypt, "character %q outside bcrypt's base64 alphabet", c)
		}
	}
	if cost > maxBcryptCost {
		return Hash{}, malformed(KindBcrypt, "cost %d above %d", cost, maxBcryptCost)
	}
	return Hash{kind: KindBcrypt, raw: []byte(s)}, nil
}

func isBcryptChar(c rune) bool {
	return c == '.' || c == '/' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9'
}

// params parses "k=v,k=v" into the named integers, each required once,
// each within [1, max].
func params(kind, s string, names []string, maxes []int) ([]int, error) {
	fields := strings.Split(s, ",")
	if len(fields) != len(names) {
		return nil, malformed(kind, "parameters %q, want %s", trunc(s), strings.Join(names, "=…,")+"=…")
	}
	out := make([]int, len(names))
	for i, f := range fields {
		k, v, ok := strings.Cut(f, "=")
		if !ok || k != names[i] {
			return nil, malformed(kind, "parameter %d is %q, want %s=<number>", i+1, trunc(f), names[i])
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxes[i] || v != strconv.Itoa(n) {
			return nil, malformed(kind, "%s=%q, want a whole number from 1 to %d", k, trunc(v), maxes[i])
		}
		out[i] = n
	}
	return out, nil
}

func trunc(s string) string {
	if len(s) > 32 {
		return s[:32] + "…"
	}
	return s
}

// b64 decodes standard base64 with or without padding, within [min, max]
// bytes.
func b64(kind, what, s string, minLen int) ([]byte, error) {
	b, err := base64.RawStdEncoding.Strict().DecodeString(strings.TrimRight(s, "="))
	if err != nil {
		return nil, malformed(kind, "%s is not base64: %v", what, err)
	}
	if len(b) < minLen || len(b) > maxFieldLen {
		return nil, malformed(kind, "%s is %d bytes, want %d to %d", what, len(b), minLen, maxFieldLen)
	}
	return b, nil
}

func fieldCount(kind string, got, want int, form string) error {
	if got != want {
		return malformed(kind, "%d fields separated by $, want %d (%s)", got, want, form)
	}
	return nil
}

func parseArgon2id(parts []string) (Hash, error) {
	const form = "$argon2id$v=19$m=…,t=…,p=…$salt$hash"
	if err := fieldCount(KindArgon2id, len(parts), 5, form); err != nil {
		return Hash{}, err
	}
	if parts[1] != "v=19" {
		return Hash{}, malformed(KindArgon2id, "version %q, want v=19", trunc(parts[1]))
	}
	ps, err := params(KindArgon2id, parts[2], []string{"m", "t", "p"}, []int{maxArgonMemoryKiB, maxArgonTime, maxArgonThreads})
	if err != nil {
		return Hash{}, err
	}
	if ps[0] < 8*ps[2] {
		return Hash{}, malformed(KindArgon2id, "m=%d below 8·p", ps[0])
	}
	h := Hash{kind: KindArgon2id, memory: uint32(ps[0]), time: uint32(ps[1]), threads: uint8(ps[2])}
	if h.salt, err = b64(KindArgon2id, "salt", parts[3], minSaltLen); err != nil {
		return Hash{}, err
	}
	if h.sum, err = b64(KindArgon2id, "hash", parts[4], minHashLen); err != nil {
		return Hash{}, err
	}
	return h, nil
}

func parseScrypt(parts []string) (Hash, error) {
	const form = "$scrypt$ln=…,r=…,p=…$salt$hash"
	if err := fieldCount(KindScrypt, len(parts), 4, form); err != nil {
		return Hash{}, err
	}
	ps, err := params(KindScrypt, parts[1], []string{"ln", "r", "p"}, []int{maxScryptLogN, maxScryptR, maxScryptP})
	if err != nil {
		return Hash{}, err
	}
	h := Hash{kind: KindScrypt, n: 1 << ps[0], r: ps[1], p: ps[2]}
	if 128*h.n*h.r > maxScryptMemory {
		return Hash{}, malformed(KindScrypt, "128·N·r = %d bytes, above %d", 128*h.n*h.r, maxScryptMemory)
	}
	if h.salt, err = b64(KindScrypt, "salt", parts[2], minSaltLen); err != nil {
		return Hash{}, err
	}
	if h.sum, err = b64(KindScrypt, "hash", parts[3], minHashLen); err != nil {
		return Hash{}, err
	}
	return h, nil
}

func parseFirebase(parts []string) (Hash, error) {
	const form = "$firebase-scrypt$r=…,m=…$signer key$salt separator$salt$hash"
	if err := fieldCount(KindFirebaseScrypt, len(parts), 6, form); err != nil {
		return Hash{}, err
	}
	ps, err := params(KindFirebaseScrypt, parts[1], []string{"r", "m"}, []int{maxFirebaseRounds, maxFirebaseMemCost})
	if err != nil {
		return Hash{}, err
	}
	h := Hash{kind: KindFirebaseScrypt, n: 1 << ps[1], r: ps[0], p: 1}
	if h.signer, err = b64(KindFirebaseScrypt, "signer key", parts[2], minHashLen); err != nil {
		return Hash{}, err
	}
	// Firebase's salt separator is short (one byte, "Bw==") and may in
	// principle be empty.
	if h.sep, err = b64(KindFirebaseScrypt, "salt separator", parts[3], 0); err != nil {
		return Hash{}, err
	}
	if h.salt, err = b64(KindFirebaseScrypt, "salt", parts[4], minSaltLen); err != nil {
		return Hash{}, err
	}
	if h.sum, err = b64(KindFirebaseScrypt, "hash", parts[5], minHashLen); err != nil {
		return Hash{}, err
	}
	if len(h.sum) != len(h.signer) {
		return Hash{}, malformed(KindFirebaseScrypt, "hash is %d bytes, want the signer key's %d", len(h.sum), len(h.signer))
	}
	return h, nil
}

func parsePBKDF2(kind string, parts []string) (Hash, error) {
	form := "$" + kind + "$i=…$salt$hash"
	if err := fieldCount(kind, len(parts), 4, form); err != nil {
		return Hash{}, err
	}
	ps, err := params(kind, parts[1], []string{"i"}, []int{maxPBKDF2Iterations})
	if err != nil {
		return Hash{}, err
	}
	h := Hash{kind: kind, iterations: ps[0]}
	switch kind {
	case KindPBKDF2SHA1:
		h.newHash = sha1.New
	case KindPBKDF2SHA256:
		h.newHash = sha256.New
	default:
		h.newHash = sha512.New
	}
	if h.salt, err = b64(kind, "salt", parts[2], minSaltLen); err != nil {
		return Hash{}, err
	}
	if h.sum, err = b64(kind, "hash", parts[3], minHashLen); err != nil {
		return Hash{}, err
	}
	return h, nil
}

// Verify reports whether password matches the hash, comparing in
// constant time.
func (h Hash) Verify(password string) bool {
	pw := []byte(password)
	var got []byte
	switch h.kind {
	case KindBcrypt:
		return bcrypt.CompareHashAndPassword(h.raw, pw) == nil
	case KindArgon2id:
		got = argon2.IDKey(pw, h.salt, h.time, h.memory, h.threads, uint32(len(h.sum)))
	case KindScrypt:
		k, err := scrypt.Key(pw, h.salt, h.n, h.r, h.p, len(h.sum))
		if err != nil {
			return false
		}
		got = k
	case KindFirebaseScrypt:
		got = h.firebase(pw)
	case KindPBKDF2SHA1, KindPBKDF2SHA256, KindPBKDF2SHA512:
		k, err := pbkdf2.Key(h.newHash, password, h.salt, h.iterations, len(h.sum))
		if err != nil {
			return false
		}
		got = k
	default:
		return false
	}
	return got != nil && subtle.ConstantTimeCompare(got, h.sum) == 1
}

// firebase is Firebase's variant: scrypt(password, salt‖separator, N=2^m,
// r, p=1) keys AES-256 in CTR mode with a zero IV, which encrypts the
// project's signer key; the ciphertext is the stored hash.
func (h Hash) firebase(pw []byte) []byte {
	salt := make([]byte, 0, len(h.salt)+len(h.sep))
	salt = append(append(salt, h.salt...), h.sep...)
	key, err := scrypt.Key(pw, salt, h.n, h.r, h.p, 32)
	if err != nil {
		return nil
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil
	}
	out := make([]byte, len(h.signer))
	cipher.NewCTR(block, make([]byte, aes.BlockSize)).XORKeyStream(out, h.signer)
	return out
}
