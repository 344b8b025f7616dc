package passhash_test

import (
	"errors"
	"testing"

	"github.com/cognate-auth/cognate/passhash"
)

// FuzzParse feeds arbitrary strings to the parser of imported hashes: it
// must never panic, must refuse with one of its two sentinels, and what it
// accepts must name its kind.
func FuzzParse(f *testing.F) {
	for _, v := range vectors(f) {
		f.Add(v.hash)
	}
	for _, s := range []string{"", "$", "$$", "$2a$", "$argon2id$v=19$m=8,t=1,p=1$$", "$scrypt$ln=1,r=1,p=1$AAAA$AAAA",
		"$firebase-scrypt$r=1,m=1$$$$", "$pbkdf2-sha1$i=1$c2FsdA$"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		h, err := passhash.Parse(s)
		if err != nil {
			if !errors.Is(err, passhash.ErrUnknownFormat) && !errors.Is(err, passhash.ErrMalformed) {
				t.Fatalf("Parse(%q) = %v, neither sentinel", s, err)
			}
			return
		}
		if h.Kind() == "" {
			t.Fatalf("Parse(%q) accepted with no kind", s)
		}
	})
}
