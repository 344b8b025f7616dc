package srp

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"
)

func TestK(t *testing.T) {
	const want = "538282c4354742d7cbbde2359fcf67f9f5b3a6b08791e5011b43b8a5b66d9ee6"
	if got := groupK.Text(16); got != want {
		t.Fatalf("k = %s, want %s", got, want)
	}
}

// TestGroup checks the facts the 256-bit server exponent relies on (see the
// package doc): N is a safe prime and g generates the subgroup of prime
// order q = (N-1)/2.
func TestGroup(t *testing.T) {
	if groupN.BitLen() != 3072 {
		t.Fatalf("N has %d bits", groupN.BitLen())
	}
	q := new(big.Int).Rsh(groupN, 1)
	if !groupN.ProbablyPrime(0) || !q.ProbablyPrime(0) {
		t.Fatal("N is not a safe prime")
	}
	if new(big.Int).Exp(groupG, q, groupN).Cmp(big.NewInt(1)) != 0 {
		t.Fatal("g does not have order q")
	}
}

func TestAppendPadded(t *testing.T) {
	tests := []struct {
		in   string // hex
		want string
	}{
		{"0", "00"},
		{"1", "01"},
		{"7f", "7f"},
		{"80", "0080"},
		{"abc", "0abc"},
		{"8abc", "008abc"},
		{"fff", "0fff"},
		{"ffff", "00ffff"},
		{"100", "0100"},
	}
	for _, tt := range tests {
		got := hex.EncodeToString(appendPadded([]byte{0xee}, hexInt(t, tt.in)))
		if got != "ee"+tt.want {
			t.Errorf("PAD(%s) = %s, want %s", tt.in, got[2:], tt.want)
		}
	}
}

func TestPoolName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"us-east-1_AbCdEf123", "AbCdEf123"},
		{"eu-central-1_x", "x"},
		{"us-east-1_", ""},
		{"nounderscore", ""},
		{"", ""},
		{"a_b_c", "b"},
	}
	for _, tt := range tests {
		if got := PoolName(tt.in); got != tt.want {
			t.Errorf("PoolName(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestNewSalt(t *testing.T) {
	a, b := NewSalt(), NewSalt()
	if len(a) != SaltSize || bytes.Equal(a, b) {
		t.Fatalf("NewSalt gave %x and %x", a, b)
	}
}

func TestParseA(t *testing.T) {
	valid := new(big.Int).Exp(groupG, big.NewInt(12345), groupN).Text(16)
	nHex := groupN.Text(16)
	tests := []struct {
		name string
		in   string
		ok   bool
	}{
		{"empty", "", false},
		{"not hex", "zz", false},
		{"sign", "-" + valid, false},
		{"plus sign", "+" + valid, false},
		{"0x prefix", "0x" + valid, false},
		{"space", " " + valid, false},
		{"underscore", valid[:10] + "_" + valid[10:], false},
		{"zero", "0", false},
		{"zeros", "0000", false},
		{"N", nHex, false},
		{"N uppercase", strings.ToUpper(nHex), false},
		{"2N", new(big.Int).Lsh(groupN, 1).Text(16), false},
		{"1025 hex digits", "1" + strings.Repeat("0", 1024), false},
		{"1025 hex digits, valid value", strings.Repeat("0", 1025-len(valid)) + valid, false},
		{"valid lowercase", valid, true},
		{"valid uppercase", strings.ToUpper(valid), true},
		{"valid with leading zeros to 1024", strings.Repeat("0", 1024-len(valid)) + valid, true},
		{"one", "1", true},
		{"N+1", new(big.Int).Add(groupN, big.NewInt(1)).Text(16), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			A, err := ParseA(tt.in)
			if tt.ok {
				if err != nil {
					t.Fatalf("ParseA: %v", err)
				}
				if want, _ := new(big.Int).SetString(tt.in, 16); A.Cmp(want) != 0 {
					t.Fatalf("ParseA = %x", A)
				}
				return
			}
			if !errors.Is(err, ErrInvalidA) || A != nil {
				t.Fatalf("ParseA = %v, %v; want ErrInvalidA", A, err)
			}
		})
	}
}

func TestTimestamp(t *testing.T) {
	format := []struct {
		t    time.Time
		want string
	}{
		{time.Date(2025, 9, 2, 9, 5, 7, 0, time.UTC), "Tue Sep 2 09:05:07 UTC 2025"},
		{time.Date(2006, 1, 2, 15, 4, 5, 999, time.UTC), "Mon Jan 2 15:04:05 UTC 2006"},
		{time.Date(2025, 12, 31, 23, 59, 59, 0, time.UTC), "Wed Dec 31 23:59:59 UTC 2025"},
		{time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC), "Thu Feb 29 00:00:00 UTC 2024"},
		{time.Date(2025, 7, 14, 12, 0, 0, 0, time.UTC), "Mon Jul 14 12:00:00 UTC 2025"},
		// Not UTC: converted, here across midnight and a day boundary.
		{time.Date(2025, 3, 1, 1, 30, 0, 0, time.FixedZone("CET", 3600)), "Sat Mar 1 00:30:00 UTC 2025"},
		{time.Date(2025, 3, 1, 0, 30, 0, 0, time.FixedZone("CET", 3600)), "Fri Feb 28 23:30:00 UTC 2025"},
	}
	for _, tt := range format {
		if got := FormatTimestamp(tt.t); got != tt.want {
			t.Errorf("FormatTimestamp(%v) = %q, want %q", tt.t, got, tt.want)
		}
	}

	parse := []struct {
		in string
		ok bool
	}{
		{"Tue Sep 2 09:05:07 UTC 2025", true},
		{"Mon Jan 2 15:04:05 UTC 2006", true},
		{"Wed Dec 31 23:59:59 UTC 2025", true},
		{"Thu Feb 29 00:00:00 UTC 2024", true},
		{"Tue Sep 02 09:05:07 UTC 2025", false},   // zero-padded day
		{"Tue Sep  2 09:05:07 UTC 2025", false},   // space-padded day (ANSIC style)
		{"Wed Sep 2 09:05:07 UTC 2025", false},    // wrong weekday
		{"Mon Jan 2 3:04:05 UTC 2006", false},     // unpadded hour
		{"Mon Jan 2 03:04:05 PM UTC 2006", false}, // 12-hour forms
		{"Mon Jan 2 3:04:05PM UTC 2006", false},
		{"Mon Jan 2 15:04:05 GMT 2006", false},
		{"Mon Jan 2 15:04:05 UTC 06", false},
		{"Mon Jan 2 15:04:05 UTC 2006 ", false},
		{" Mon Jan 2 15:04:05 UTC 2006", false},
		{"mon jan 2 15:04:05 UTC 2006", false},
		{"Monday Jan 2 15:04:05 UTC 2006", false},
		{"Mon January 2 15:04:05 UTC 2006", false},
		{"Mon Jan 2 24:00:00 UTC 2006", false},
		{"Mon Jan 2 15:04:60 UTC 2006", false},
		{"Thu Feb 29 00:00:00 UTC 2025", false}, // not a leap year
		{"Mon Jan 2 15:04:05.000 UTC 2006", false},
		{"2006-01-02T15:04:05Z", false},
		{"", false},
		{strings.Repeat("x", 1000), false},
	}
	for _, tt := range parse {
		got, err := ParseTimestamp(tt.in)
		if tt.ok {
			if err != nil {
				t.Errorf("ParseTimestamp(%q): %v", tt.in, err)
			} else if got.Location() != time.UTC || FormatTimestamp(got) != tt.in {
				t.Errorf("ParseTimestamp(%q) = %v", tt.in, got)
			}
			continue
		}
		if !errors.Is(err, ErrInvalidTimestamp) {
			t.Errorf("ParseTimestamp(%q) = %v, %v; want ErrInvalidTimestamp", tt.in, got, err)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	users := []struct{ poolID, user, password string }{
		{"us-east-1_AbCdEf123", "alice", "Passw0rd!"},
		{"eu-west-1_Z", "3f1c9a2e-7b44-4d1e-9a0b-5c6d7e8f9a01", "correct horse battery staple"},
		{"ap-northeast-1_jp", "ユーザー", "パスワード🔑"},
		{"us-west-2_e", "", ""},
		{"us-west-2_long", strings.Repeat("u", 300), strings.Repeat("p", 1000)},
	}
	for _, tc := range users {
		t.Run(tc.user, func(t *testing.T) {
			poolName := PoolName(tc.poolID)
			salt := NewSalt()
			verifier := Verifier(poolName, tc.user, tc.password, salt)
			block := []byte("sealed server state " + tc.user)
			blockB64 := base64.StdEncoding.EncodeToString(block)
			now := time.Now()

			c, err := NewClient(tc.poolID)
			if err != nil {
				t.Fatal(err)
			}
			s, err := NewServerSession(verifier)
			if err != nil {
				t.Fatal(err)
			}
			A, err := ParseA(c.AHex())
			if err != nil {
				t.Fatal(err)
			}
			key, err := s.Key(A)
			if err != nil {
				t.Fatal(err)
			}
			if len(key) != KeySize {
				t.Fatalf("key has %d bytes", len(key))
			}

			// A restored session derives the same key.
			restored, err := RestoreServerSession(verifier, s.Secret())
			if err != nil {
				t.Fatal(err)
			}
			if restored.BHex() != s.BHex() {
				t.Fatal("restored B differs")
			}
			if k2, err := restored.Key(A); err != nil || !bytes.Equal(k2, key) {
				t.Fatalf("restored key %x, %v; want %x", k2, err, key)
			}

			respond := func(password string) (string, string) {
				t.Helper()
				sig, ts, err := c.Respond(tc.user, password, hex.EncodeToString(salt), s.BHex(), blockB64, now)
				if err != nil {
					t.Fatal(err)
				}
				return sig, ts
			}
			sig, ts := respond(tc.password)
			if _, err := ParseTimestamp(ts); err != nil {
				t.Fatalf("client timestamp: %v", err)
			}
			if !VerifySignature(key, poolName, tc.user, block, ts, sig) {
				t.Fatal("correct password rejected")
			}

			wrongSig, _ := respond(tc.password + "x")
			otherTS := FormatTimestamp(now.Add(time.Second))
			tampered := append([]byte{}, block...)
			tampered[0] ^= 1
			otherKey := append([]byte{}, key...)
			otherKey[15] ^= 0x80
			rejects := []struct {
				name             string
				key              []byte
				pool, user       string
				block            []byte
				timestamp, claim string
			}{
				{"wrong password", key, poolName, tc.user, block, ts, wrongSig},
				{"tampered secret block", key, poolName, tc.user, tampered, ts, sig},
				{"truncated secret block", key, poolName, tc.user, block[1:], ts, sig},
				{"other timestamp", key, poolName, tc.user, block, otherTS, sig},
				{"zero-padded timestamp", key, poolName, tc.user, block, strings.Replace(ts, " ", "  ", 1), sig},
				{"other user", key, poolName, tc.user + "x", block, ts, sig},
				{"other pool", key, poolName + "x", tc.user, block, ts, sig},
				{"other key", otherKey, poolName, tc.user, block, ts, sig},
				{"short key", key[:15], poolName, tc.user, block, ts, sig},
				{"empty key", nil, poolName, tc.user, block, ts, sig},
				{"unpadded base64", key, poolName, tc.user, block, ts, strings.TrimRight(sig, "=")},
				{"url-safe base64", key, poolName, tc.user, block, ts, strings.NewReplacer("+", "-", "/", "_").Replace(sig) + "x"},
				{"garbage", key, poolName, tc.user, block, ts, "not base64!"},
				{"empty claim", key, poolName, tc.user, block, ts, ""},
			}
			for _, r := range rejects {
				if VerifySignature(r.key, r.pool, r.user, r.block, r.timestamp, r.claim) {
					t.Errorf("%s: signature accepted", r.name)
				}
			}
		})
	}
}

// TestVerifySignatureNonCanonical checks that only canonical base64 is
// accepted: the last character of a 32-byte base64 carries 2 spare bits.
func TestVerifySignatureNonCanonical(t *testing.T) {
	key := bytes.Repeat([]byte{7}, KeySize)
	sig := base64.StdEncoding.EncodeToString(Signature(key, "p", "u", []byte("b"), "t"))
	if !VerifySignature(key, "p", "u", []byte("b"), "t", sig) {
		t.Fatal("canonical signature rejected")
	}
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	last := strings.IndexByte(alphabet, sig[42])
	alt := sig[:42] + string(alphabet[last^1]) + "="
	if VerifySignature(key, "p", "u", []byte("b"), "t", alt) {
		t.Fatal("non-canonical base64 accepted")
	}
}

func TestServerSessionErrors(t *testing.T) {
	verifier := Verifier("pool", "user", "pw", NewSalt())
	nBytes := groupN.Bytes()
	for _, tt := range []struct {
		name     string
		verifier []byte
	}{
		{"nil", nil},
		{"zero", make([]byte, 384)},
		{"N", nBytes},
		{"above N", append([]byte{1}, nBytes...)},
	} {
		if _, err := NewServerSession(tt.verifier); !errors.Is(err, ErrInvalidVerifier) {
			t.Errorf("NewServerSession(%s): %v, want ErrInvalidVerifier", tt.name, err)
		}
		if _, err := RestoreServerSession(tt.verifier, make([]byte, SecretSize)); !errors.Is(err, ErrInvalidVerifier) {
			t.Errorf("RestoreServerSession(%s): %v, want ErrInvalidVerifier", tt.name, err)
		}
	}
	for _, secret := range [][]byte{nil, make([]byte, SecretSize), make([]byte, SecretSize-1), make([]byte, SecretSize+1)} {
		if len(secret) > 0 {
			secret[0] = 1
		}
		if len(secret) == SecretSize {
			secret[0] = 0 // all zero
		}
		if _, err := RestoreServerSession(verifier, secret); !errors.Is(err, ErrInvalidSecret) {
			t.Errorf("RestoreServerSession(secret %x): %v, want ErrInvalidSecret", secret, err)
		}
	}

	s, err := NewServerSession(verifier)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Secret()) != SecretSize {
		t.Fatal("bad secret size")
	}
	for _, A := range []*big.Int{nil, big.NewInt(0), big.NewInt(-5), groupN, new(big.Int).Mul(groupN, big.NewInt(3))} {
		if _, err := s.Key(A); !errors.Is(err, ErrInvalidA) {
			t.Errorf("Key(%v): %v, want ErrInvalidA", A, err)
		}
	}
}

func TestClientErrors(t *testing.T) {
	for _, id := range []string{"", "nopool", "us-east-1_"} {
		if _, err := NewClient(id); err == nil {
			t.Errorf("NewClient(%q) succeeded", id)
		}
	}
	c, err := NewClient("us-east-1_x")
	if err != nil {
		t.Fatal(err)
	}
	if strings.ToLower(c.AHex()) != c.AHex() || strings.HasPrefix(c.AHex(), "0") {
		t.Errorf("AHex %q is not toString(16)-style", c.AHex())
	}
	validB := new(big.Int).Exp(groupG, big.NewInt(99), groupN).Text(16)
	now := time.Now()
	for _, tt := range []struct{ name, salt, b, block string }{
		{"B zero", "ab", "0", ""},
		{"B is N", "ab", groupN.Text(16), ""},
		{"B not hex", "ab", "xyz", ""},
		{"B too long", "ab", strings.Repeat("1", MaxAHexLen+1), ""},
		{"salt not hex", "g", validB, ""},
		{"block not base64", "ab", validB, "!!!!"},
	} {
		if _, _, err := c.Respond("u", "p", tt.salt, tt.b, tt.block, now); err == nil {
			t.Errorf("%s: Respond succeeded", tt.name)
		}
	}
	// Amplify tolerates URL-safe, unpadded SECRET_BLOCKs; so does Client.
	block := []byte{0xfb, 0xff, 0xbf, 0x01}
	sig1, _, err1 := c.Respond("u", "p", "ab", validB, base64.StdEncoding.EncodeToString(block), now)
	sig2, _, err2 := c.Respond("u", "p", "ab", validB, base64.RawURLEncoding.EncodeToString(block), now)
	if err1 != nil || err2 != nil || sig1 != sig2 {
		t.Errorf("URL-safe block: %v, %v, %q vs %q", err1, err2, sig1, sig2)
	}
}
