package userpool

// Fuzz targets for the user pool's parsers of client input that had none,
// so that "every parser of untrusted input has a fuzz target"
// (docs/SECURITY.md) holds:
//
//	go test ./userpool -run '^$' -fuzz FuzzOpenSealed -fuzztime 15s
//	go test ./userpool -run '^$' -fuzz FuzzParseFilter -fuzztime 15s

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// FuzzOpenSealed feeds arbitrary SECRET_BLOCK and Session values to the
// sealer: nothing panics, and nothing opens but what the sealer sealed
// itself, for the purpose and binding it was sealed with.
func FuzzOpenSealed(f *testing.F) {
	s, err := newSealer([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		f.Fatal(err)
	}
	now := time.Unix(1_700_000_000, 0)
	genuine, err := s.seal(sealSRP, "pool|client", now, srpState{Username: "u", Key: []byte{1, 2, 3}})
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range []string{genuine, "", "!!!", "AAAA", genuine[:len(genuine)-4] + "AAAA", strings.Repeat("A", maxSealed+4), genuine + "="} {
		f.Add(seed, sealSRP, "pool|client")
	}
	f.Add(genuine, sealNewPassword, "pool|client")
	f.Add(genuine, sealSRP, "pool|other")
	f.Fuzz(func(t *testing.T, sealed, purpose, bind string) {
		var st srpState
		err := s.open(purpose, bind, sealed, srpBlockTTL, now, &st)
		if err != nil {
			if !errors.Is(err, errBadSeal) {
				t.Fatalf("open = %v, want errBadSeal", err)
			}
			return
		}
		// Fuzzing workers seal their own genuine value (another nonce), so
		// what opens is checked by content, not compared with genuine.
		if purpose != sealSRP || bind != "pool|client" || st.Username != "u" || string(st.Key) != "\x01\x02\x03" {
			t.Fatalf("opened a value the sealer did not seal for this use: %q %q %q → %+v", sealed, purpose, bind, st)
		}
	})
}

// FuzzParseFilter feeds arbitrary ListUsers filters to the parser: it
// never panics, fails only with InvalidParameterException, and what it
// accepts names a filterable attribute and a value no longer than the
// filter.
func FuzzParseFilter(f *testing.F) {
	for _, seed := range []string{``, `email = "a@b.c"`, `email^="ann"`, `name = "say \"hi\""`, `email = a@b.c`, `= "x"`,
		`email = "a"b"`, `email = "\`, `cognito:user_status = "UNCONFIRMED"`, `status="Enabled"`, "email = \"\xff\""} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		uf, err := parseFilter(in)
		switch {
		case err != nil:
			if !errors.Is(err, ErrInvalidParameter) {
				t.Fatalf("parseFilter(%q) = %v, want InvalidParameterException", in, err)
			}
		case uf == nil:
			if strings.TrimSpace(in) != "" {
				t.Fatalf("parseFilter(%q): no filter and no error", in)
			}
		case !filterable[uf.attr] || len(uf.value) > len(in):
			t.Fatalf("parseFilter(%q) = %+v", in, uf)
		}
	})
}
