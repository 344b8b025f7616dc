package passhash_test

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
	xpbkdf2 "golang.org/x/crypto/pbkdf2"
	"golang.org/x/crypto/scrypt"

	"github.com/cognate-auth/cognate/passhash"
)

var b64 = base64.RawStdEncoding.EncodeToString

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// vector is a hash string and the password it was made from.
type vector struct {
	name, kind, hash, password string
}

// vectors builds the known answers: published ones (RFC 6070 for PBKDF2,
// RFC 7914 for scrypt, Firebase's own sample for its scrypt) and hashes
// made here with golang.org/x/crypto's implementations, which the
// package's own code (crypto/pbkdf2, its Firebase composition) must match.
func vectors(t testing.TB) []vector {
	t.Helper()
	const pw = "correct horse ⚡ battery"
	salt := []byte("sixteen byte slt")

	bc, err := bcrypt.GenerateFromPassword([]byte(pw), 5)
	if err != nil {
		t.Fatal(err)
	}
	bc2y := "$2y$" + string(bc[4:])

	argon := argon2.IDKey([]byte(pw), salt, 2, 1024, 2, 32)
	sc, err := scrypt.Key([]byte(pw), salt, 1<<10, 8, 2, 32)
	if err != nil {
		t.Fatal(err)
	}

	// Firebase's variant, composed from scrypt and AES-CTR here.
	signer := []byte("a project's signer key, 40 bytes long...")
	sep := []byte{0x07}
	dk, err := scrypt.Key([]byte(pw), append(append([]byte{}, salt...), sep...), 1<<10, 4, 1, 32)
	if err != nil {
		t.Fatal(err)
	}
	block, err := aes.NewCipher(dk)
	if err != nil {
		t.Fatal(err)
	}
	fb := make([]byte, len(signer))
	cipher.NewCTR(block, make([]byte, 16)).XORKeyStream(fb, signer)

	return []vector{
		{"bcrypt 2a", passhash.KindBcrypt, string(bc), pw},
		{"bcrypt 2y", passhash.KindBcrypt, bc2y, pw},
		{"argon2id", passhash.KindArgon2id, fmt.Sprintf("$argon2id$v=19$m=1024,t=2,p=2$%s$%s", b64(salt), b64(argon)), pw},
		{"argon2id padded base64", passhash.KindArgon2id, fmt.Sprintf("$argon2id$v=19$m=1024,t=2,p=2$%s$%s",
			base64.StdEncoding.EncodeToString(salt), base64.StdEncoding.EncodeToString(argon)), pw},
		{"scrypt", passhash.KindScrypt, fmt.Sprintf("$scrypt$ln=10,r=8,p=2$%s$%s", b64(salt), b64(sc)), pw},
		{"scrypt RFC 7914", passhash.KindScrypt, "$scrypt$ln=10,r=8,p=16$" + b64([]byte("NaCl")) + "$" +
			b64(unhex(t, "fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b3731622eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640")), "password"},
		{"firebase scrypt", passhash.KindFirebaseScrypt, fmt.Sprintf("$firebase-scrypt$r=4,m=10$%s$%s$%s$%s",
			b64(signer), b64(sep), b64(salt), b64(fb)), pw},
		// Firebase's published sample (github.com/firebase/scrypt README).
		{"firebase scrypt sample", passhash.KindFirebaseScrypt, "$firebase-scrypt$r=8,m=14" +
			"$jxspr8Ki0RYycVU8zykbdLGjFQ3McFUH0uiiTvC8pVMXAn210wjLNmdZJzxUECKbm0QsEmYUSDzZvpjeJ9WmXA==" +
			"$Bw==$42xEC+ixf3L2lw==" +
			"$lSrfV15cpx95/sZS2W9c9Kp6i/LVgQNDNC/qzrCnh1SAyZvqmZqAjTdn3aoItz+VHjoZilo78198JAdRuid5lQ==", "user1password"},
		{"pbkdf2-sha1 RFC 6070", passhash.KindPBKDF2SHA1, "$pbkdf2-sha1$i=4096$" + b64([]byte("salt")) + "$" +
			b64(unhex(t, "4b007901b765489abead49d926f721d065a429c1")), "password"},
		{"pbkdf2-sha1", passhash.KindPBKDF2SHA1, "$pbkdf2-sha1$i=1000$" + b64(salt) + "$" +
			b64(xpbkdf2.Key([]byte(pw), salt, 1000, 20, sha1.New)), pw},
		{"pbkdf2-sha256", passhash.KindPBKDF2SHA256, "$pbkdf2-sha256$i=1000$" + b64(salt) + "$" +
			b64(xpbkdf2.Key([]byte(pw), salt, 1000, 32, sha256.New)), pw},
		{"pbkdf2-sha512", passhash.KindPBKDF2SHA512, "$pbkdf2-sha512$i=1000$" + b64(salt) + "$" +
			b64(xpbkdf2.Key([]byte(pw), salt, 1000, 64, sha512.New)), pw},
	}
}

func TestVerifyKnownVectors(t *testing.T) {
	for _, v := range vectors(t) {
		t.Run(v.name, func(t *testing.T) {
			h, err := passhash.Parse(v.hash)
			if err != nil {
				t.Fatalf("Parse(%q): %v", v.hash, err)
			}
			if h.Kind() != v.kind {
				t.Errorf("Kind = %q, want %q", h.Kind(), v.kind)
			}
			if !h.Verify(v.password) {
				t.Errorf("the right password does not verify")
			}
			for _, wrong := range []string{"", v.password + "x", strings.ToUpper(v.password), v.password[:len(v.password)-1]} {
				if h.Verify(wrong) {
					t.Errorf("wrong password %q verifies", wrong)
				}
			}
		})
	}
}

func TestParseRejects(t *testing.T) {
	salt, sum := b64([]byte("saltsalt")), b64(make([]byte, 32))
	tests := []struct {
		name, hash string
		want       error
		mentions   string
	}{
		{"empty", "", passhash.ErrUnknownFormat, "does not start"},
		{"plain text", "hunter2", passhash.ErrUnknownFormat, "does not start"},
		{"md5 crypt", "$1$abc$def", passhash.ErrUnknownFormat, `algorithm "1"`},
		{"argon2i", "$argon2i$v=19$m=1024,t=2,p=2$" + salt + "$" + sum, passhash.ErrUnknownFormat, `algorithm "argon2i"`},
		{"pbkdf2 md5", "$pbkdf2-md5$i=1000$" + salt + "$" + sum, passhash.ErrUnknownFormat, "pbkdf2-md5"},
		{"bcrypt short", "$2a$10$abc", passhash.ErrMalformed, "bcrypt"},
		{"bcrypt cost too high", "$2a$17$" + strings.Repeat("a", 53), passhash.ErrMalformed, "cost 17"},
		{"bcrypt bad alphabet", "$2a$10$" + strings.Repeat("a", 52) + "!", passhash.ErrMalformed, "alphabet"},
		{"argon2id version", "$argon2id$v=16$m=1024,t=2,p=2$" + salt + "$" + sum, passhash.ErrMalformed, "v=19"},
		{"argon2id memory", "$argon2id$v=19$m=999999999,t=2,p=2$" + salt + "$" + sum, passhash.ErrMalformed, "m="},
		{"argon2id missing hash", "$argon2id$v=19$m=1024,t=2,p=2$" + salt, passhash.ErrMalformed, "fields"},
		{"argon2id params order", "$argon2id$v=19$t=2,m=1024,p=2$" + salt + "$" + sum, passhash.ErrMalformed, "want m="},
		{"argon2id zero time", "$argon2id$v=19$m=1024,t=0,p=2$" + salt + "$" + sum, passhash.ErrMalformed, "t="},
		{"argon2id leading zero", "$argon2id$v=19$m=01024,t=2,p=2$" + salt + "$" + sum, passhash.ErrMalformed, "m="},
		{"argon2id bad base64", "$argon2id$v=19$m=1024,t=2,p=2$!!!!$" + sum, passhash.ErrMalformed, "salt is not base64"},
		{"argon2id short hash", "$argon2id$v=19$m=1024,t=2,p=2$" + salt + "$" + b64([]byte("short")), passhash.ErrMalformed, "hash is 5 bytes"},
		{"scrypt huge N", "$scrypt$ln=21,r=8,p=1$" + salt + "$" + sum, passhash.ErrMalformed, "ln="},
		{"scrypt memory", "$scrypt$ln=20,r=8,p=1$" + salt + "$" + sum, passhash.ErrMalformed, "128·N·r"},
		{"scrypt extra param", "$scrypt$ln=10,r=8,p=1,x=1$" + salt + "$" + sum, passhash.ErrMalformed, "parameters"},
		{"firebase rounds", "$firebase-scrypt$r=9,m=14$" + sum + "$Bw==$" + salt + "$" + sum, passhash.ErrMalformed, "r="},
		{"firebase hash length", "$firebase-scrypt$r=8,m=14$" + sum + "$Bw==$" + salt + "$" + b64(make([]byte, 16)), passhash.ErrMalformed, "signer key's"},
		{"firebase fields", "$firebase-scrypt$r=8,m=14$" + salt + "$" + sum, passhash.ErrMalformed, "fields"},
		{"pbkdf2 iterations", "$pbkdf2-sha256$i=2000001$" + salt + "$" + sum, passhash.ErrMalformed, "i="},
		{"pbkdf2 short salt", "$pbkdf2-sha256$i=1000$" + b64([]byte("ab")) + "$" + sum, passhash.ErrMalformed, "salt is 2 bytes"},
		{"too long", "$argon2id$" + strings.Repeat("a", 2000), passhash.ErrMalformed, "longer"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := passhash.Parse(tc.hash)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Parse(%q) = %v, want %v", tc.hash, err, tc.want)
			}
			if !strings.Contains(err.Error(), tc.mentions) {
				t.Errorf("error %q does not mention %q", err, tc.mentions)
			}
		})
	}
}
