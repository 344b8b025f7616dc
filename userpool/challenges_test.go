package userpool

import (
	"crypto/hmac"
	"slices"
	"testing"
	"time"

	"github.com/cognate-auth/cognate/storage"
)

func TestNextAfterFirstFactor(t *testing.T) {
	pool := func(mode string, sms, soft, email bool) storage.Pool {
		return storage.Pool{Settings: storage.PoolSettings{MFAConfiguration: mode, SMSMFAEnabled: sms, SoftwareTokenMFAEnabled: soft, EmailMFAEnabled: email}}
	}
	user := func(m storage.UserMFA, attrs ...string) storage.User {
		u := storage.User{MFA: m, Attributes: map[string]string{}}
		for i := 0; i+1 < len(attrs); i += 2 {
			u.Attributes[attrs[i]] = attrs[i+1]
		}
		return u
	}
	withTOTP := storage.UserMFA{TOTPEnabled: true, TOTPSecret: "sealed"}
	for _, tc := range []struct {
		name    string
		pool    storage.Pool
		user    storage.User
		want    string
		choices []string
	}{
		{"MFA off", pool("OFF", true, true, true), user(withTOTP), "", nil},
		{"no mode set", pool("", true, true, true), user(withTOTP), "", nil},
		{"optional, nothing on", pool("OPTIONAL", true, true, true), user(storage.UserMFA{}, "phone_number", "+15555550100"), "", nil},
		{"optional, TOTP on", pool("OPTIONAL", false, true, false), user(withTOTP), factorTOTP, nil},
		{"TOTP on but never verified", pool("OPTIONAL", false, true, false), user(storage.UserMFA{TOTPEnabled: true}), "", nil},
		{"factor the pool no longer offers", pool("OPTIONAL", true, false, false), user(withTOTP), "", nil},
		{"SMS on without a phone", pool("OPTIONAL", true, false, false), user(storage.UserMFA{SMSEnabled: true}), "", nil},
		{"two on, one preferred", pool("ON", true, true, true),
			user(storage.UserMFA{TOTPEnabled: true, TOTPSecret: "s", EmailEnabled: true, Preferred: factorEmail}, "email", "a@b.c"), factorEmail, nil},
		{"two on, none preferred", pool("OPTIONAL", true, true, true),
			user(storage.UserMFA{TOTPEnabled: true, TOTPSecret: "s", SMSEnabled: true}, "phone_number", "+15555550100"), challengeSelectMFA, []string{factorSMS, factorTOTP}},
		{"required, phone number", pool("ON", true, true, true), user(storage.UserMFA{}, "phone_number", "+15555550100"), factorSMS, nil},
		{"required, verified email", pool("ON", false, true, true), user(storage.UserMFA{}, "email", "a@b.c", "email_verified", "true"), factorEmail, nil},
		{"required, unverified email", pool("ON", false, true, true), user(storage.UserMFA{}, "email", "a@b.c"), challengeMFASetup, []string{factorTOTP, factorEmail}},
		{"required, SMS only, no phone", pool("ON", true, false, false), user(storage.UserMFA{}), challengeMFASetup, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := nextAfterFirstFactor(tc.pool, tc.user)
			if got.challenge != tc.want || !slices.Equal(got.choices, tc.choices) {
				t.Fatalf("next = %q %v, want %q %v", got.challenge, got.choices, tc.want, tc.choices)
			}
		})
	}
}

// BenchmarkOTPCheck is the comparison of a submitted email or SMS code
// with the stored hash: what a guess costs the server beyond storage.
func BenchmarkOTPCheck(b *testing.B) {
	s := &Service{codeKey: make([]byte, 32)}
	c := storage.Code{PoolID: "us-east-1_bench", Username: "ann", Purpose: purposeMFA, Value: "ann@example.com", ExpiresAt: time.Now().Add(time.Minute)}
	c.Hash = s.hashCode(c, "123456")
	for b.Loop() {
		if !hmac.Equal(c.Hash, s.hashCode(c, "123456")) {
			b.Fatal("mismatch")
		}
	}
}
