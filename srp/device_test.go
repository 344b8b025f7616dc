package srp

import (
	"bytes"
	"encoding/base64"
	"errors"
	"math/big"
	"testing"
	"time"
)

// TestDeviceRoundTrip runs device SRP as Amplify and Cognito do it: the
// verifier ConfirmDevice receives (PAD'ed bytes, as Amplify sends them),
// then DEVICE_SRP_AUTH and DEVICE_PASSWORD_VERIFIER with the group key in
// the pool name's place and the device key in the user's.
func TestDeviceRoundTrip(t *testing.T) {
	devices := []struct{ groupKey, deviceKey string }{
		{"-wt2ha1Zd", "us-east-1_0f4c8bd2-9d5e-4b5a-8d3c-1e2f3a4b5c6d"},
		{"-a", "eu-west-1_1"},
	}
	for _, tc := range devices {
		t.Run(tc.deviceKey, func(t *testing.T) {
			secret := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0x5a}, 40))
			salt := NewSalt()
			// Amplify sends PAD(v): a leading 00 when the top bit is set.
			verifier := appendPadded(nil, new(big.Int).SetBytes(Verifier(tc.groupKey, tc.deviceKey, secret, salt)))
			if err := CheckVerifier(verifier); err != nil {
				t.Fatalf("CheckVerifier(PAD(v)): %v", err)
			}
			c, err := NewDeviceClient(tc.groupKey)
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
			block := []byte("sealed device state")
			blockB64 := base64.StdEncoding.EncodeToString(block)
			now := time.Now()
			for _, answer := range []struct {
				name, secret, deviceKey string
				// checkGroup is the group key the server checks with.
				checkGroup string
				ok         bool
			}{
				{"right", secret, tc.deviceKey, tc.groupKey, true},
				{"wrong secret", secret + "x", tc.deviceKey, tc.groupKey, false},
				{"signed for another device", secret, tc.deviceKey + "0", tc.groupKey, false},
				{"checked for another group", secret, tc.deviceKey, tc.groupKey + "0", false},
			} {
				sig, ts, err := c.Respond(answer.deviceKey, answer.secret, bytesHex(salt), s.BHex(), blockB64, now)
				if err != nil {
					t.Fatal(err)
				}
				if ok := VerifySignature(key, answer.checkGroup, tc.deviceKey, block, ts, sig); ok != answer.ok {
					t.Errorf("%s: signature verifies = %v, want %v", answer.name, ok, answer.ok)
				}
			}
		})
	}
}

func bytesHex(b []byte) string { return new(big.Int).SetBytes(b).Text(16) }

func TestCheckVerifier(t *testing.T) {
	n := GroupPrime()
	for _, tc := range []struct {
		name string
		v    []byte
		ok   bool
	}{
		{"one", []byte{1}, true},
		{"leading zeros", []byte{0, 0, 0, 7}, true},
		{"N-1", new(big.Int).Sub(n, big.NewInt(1)).Bytes(), true},
		{"empty", nil, false},
		{"zero", []byte{0, 0}, false},
		{"N", n.Bytes(), false},
		{"above N", append([]byte{1}, n.Bytes()...), false},
		{"huge", make([]byte, 1<<20), false},
	} {
		err := CheckVerifier(tc.v)
		if (err == nil) != tc.ok {
			t.Errorf("%s: CheckVerifier = %v, want ok %v", tc.name, err, tc.ok)
		}
		if err != nil && !errors.Is(err, ErrInvalidVerifier) {
			t.Errorf("%s: %v does not wrap ErrInvalidVerifier", tc.name, err)
		}
	}
	if _, err := NewDeviceClient(""); err == nil {
		t.Error("NewDeviceClient(\"\") succeeded")
	}
}
