package totp

import (
	"encoding/hex"
	"testing"
	"time"
)

// rfc6238Secret is the SHA-1 seed of RFC 6238's appendix B.
var rfc6238Secret = []byte("12345678901234567890")

// TestHOTPRFC4226 checks appendix D of RFC 4226.
func TestHOTPRFC4226(t *testing.T) {
	want := []uint32{755224, 287082, 359152, 969429, 338314, 254676, 287922, 162583, 399871, 520489}
	for i, w := range want {
		if got := HOTP(rfc6238Secret, uint64(i)); got != w {
			t.Errorf("HOTP(%d) = %d, want %d", i, got, w)
		}
	}
}

// TestCodeRFC6238 checks appendix B of RFC 6238 (SHA-1), cut to six
// digits.
func TestCodeRFC6238(t *testing.T) {
	for _, tc := range []struct {
		unix int64
		want string
	}{
		{59, "287082"},
		{1111111109, "081804"},
		{1111111111, "050471"},
		{1234567890, "005924"},
		{2000000000, "279037"},
		{20000000000, "353130"},
	} {
		if got := Code(rfc6238Secret, time.Unix(tc.unix, 0)); got != tc.want {
			t.Errorf("Code(%d) = %s, want %s", tc.unix, got, tc.want)
		}
	}
}

func TestCheck(t *testing.T) {
	secret, _ := hex.DecodeString("3132333435363738393031323334353637383930")
	now := time.Unix(1234567890, 0)
	step := Counter(now)
	at := func(d int) string { return Code(secret, now.Add(time.Duration(d)*Step)) }
	for _, tc := range []struct {
		name string
		code string
		last uint64
		ok   bool
		step uint64
	}{
		{"current", at(0), 0, true, step},
		{"previous step", at(-1), 0, true, step - 1},
		{"next step", at(1), 0, true, step + 1},
		{"two steps old", at(-2), 0, false, 0},
		{"two steps ahead", at(2), 0, false, 0},
		{"replayed", at(0), step, false, 0},
		{"older than the last accepted", at(-1), step, false, 0},
		{"newer than the last accepted", at(1), step, true, step + 1},
		{"five digits", at(0)[:5], 0, false, 0},
		{"seven digits", at(0) + "0", 0, false, 0},
		{"not digits", "12a456", 0, false, 0},
		{"empty", "", 0, false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := Check(secret, tc.code, now, tc.last)
			if ok != tc.ok || (ok && got != tc.step) {
				t.Fatalf("Check = %d, %v; want %d, %v", got, ok, tc.step, tc.ok)
			}
		})
	}
}

func TestEncodingUnpadded(t *testing.T) {
	s := Encoding.EncodeToString(make([]byte, SecretSize))
	if len(s) != 32 {
		t.Fatalf("secret of %d bytes encodes to %d characters", SecretSize, len(s))
	}
}

// FuzzCheck: any code string is either refused or matches a step of the
// window, and never panics.
func FuzzCheck(f *testing.F) {
	f.Add("123456", uint64(0))
	f.Add("", uint64(1))
	f.Add("99999999", uint64(41152263))
	f.Fuzz(func(t *testing.T, code string, last uint64) {
		now := time.Unix(1234567890, 0)
		got, ok := Check(rfc6238Secret, code, now, last)
		if !ok {
			return
		}
		n := Counter(now)
		if got+1 < n || got > n+1 || got <= last || Code(rfc6238Secret, time.Unix(int64(got)*30, 0)) != code {
			t.Fatalf("Check(%q, last %d) accepted step %d at step %d", code, last, got, n)
		}
	})
}

func BenchmarkTOTPCheck(b *testing.B) {
	now := time.Now()
	code := Code(rfc6238Secret, now)
	for b.Loop() {
		if _, ok := Check(rfc6238Secret, code, now, 0); !ok {
			b.Fatal("refused")
		}
	}
}
