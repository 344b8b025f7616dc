package srp

import (
	"bytes"
	"encoding/base64"
	"math/big"
	"strings"
	"testing"
)

func FuzzParseA(f *testing.F) {
	for _, s := range []string{"", "0", "1", "zz", "-1", "+1", "0x10", "aBcDeF", groupN.Text(16), strings.Repeat("f", MaxAHexLen+1)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		A, err := ParseA(s)
		if err != nil {
			if A != nil {
				t.Fatal("value with error")
			}
			return
		}
		if len(s) > MaxAHexLen || A.Sign() <= 0 || new(big.Int).Mod(A, groupN).Sign() == 0 {
			t.Fatalf("accepted %q", s)
		}
		if want := strings.TrimLeft(strings.ToLower(s), "0"); A.Text(16) != want {
			t.Fatalf("ParseA(%q) = %s", s, A.Text(16))
		}
	})
}

func FuzzParseTimestamp(f *testing.F) {
	for _, s := range []string{"Tue Sep 2 09:05:07 UTC 2025", "Tue Sep 02 09:05:07 UTC 2025", "Mon Jan 2 15:04:05 UTC 2006", "", "Mon Jan 2 15:04:05 UTC 10000"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ts, err := ParseTimestamp(s)
		if err != nil {
			return
		}
		if FormatTimestamp(ts) != s {
			t.Fatalf("accepted non-canonical %q", s)
		}
	})
}

func FuzzVerifySignature(f *testing.F) {
	key := bytes.Repeat([]byte{1}, KeySize)
	good := base64.StdEncoding.EncodeToString(Signature(key, "pool", "user", []byte("block"), "Tue Sep 2 09:05:07 UTC 2025"))
	f.Add(key, "pool", "user", []byte("block"), "Tue Sep 2 09:05:07 UTC 2025", good)
	f.Add([]byte{}, "", "", []byte{}, "", "")
	f.Add(key, "pool", "user", []byte("block"), "x", strings.Repeat("=", 44))
	f.Fuzz(func(t *testing.T, key []byte, pool, user string, block []byte, ts, claim string) {
		ok := VerifySignature(key, pool, user, block, ts, claim)
		if ok && len(key) != KeySize {
			t.Fatal("accepted a key of the wrong size")
		}
		want := base64.StdEncoding.EncodeToString(Signature(key, pool, user, block, ts))
		if ok != (len(key) == KeySize && claim == want) {
			t.Fatalf("VerifySignature = %v for claim %q, canonical %q", ok, claim, want)
		}
		if len(key) == KeySize && !VerifySignature(key, pool, user, block, ts, want) {
			t.Fatal("rejected the canonical signature")
		}
	})
}

func FuzzCheckVerifier(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{0, 1})
	f.Add(groupN.Bytes())
	f.Fuzz(func(t *testing.T, v []byte) {
		x := new(big.Int).SetBytes(v)
		ok := x.Sign() > 0 && x.Cmp(groupN) < 0 && len(v) <= 2*len(nHex)
		if err := CheckVerifier(v); (err == nil) != ok {
			t.Fatalf("CheckVerifier(%x) = %v, want ok %v", v, err, ok)
		}
	})
}
