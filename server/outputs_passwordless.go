package server

import (
	"slices"

	"github.com/cognate-auth/cognate/storage"
)

// passwordless is auth.passwordless of amplify_outputs.json: the first
// factors besides the password that the pool's sign-in policy allows.
// Amplify refuses a preferredChallenge the section does not enable.
type passwordless struct {
	EmailOTPEnabled bool             `json:"email_otp_enabled"`
	SMSOTPEnabled   bool             `json:"sms_otp_enabled"`
	WebAuthn        *outputsWebAuthn `json:"web_authn,omitempty"`
}

type outputsWebAuthn struct {
	RelyingPartyID   string `json:"relying_party_id,omitempty"`
	UserVerification string `json:"user_verification"`
}

// passwordlessFor is the section for p, or nil when the pool allows the
// password alone.
func passwordlessFor(p storage.Pool) *passwordless {
	f := p.Settings.AllowedFirstAuthFactors
	out := passwordless{EmailOTPEnabled: slices.Contains(f, "EMAIL_OTP"), SMSOTPEnabled: slices.Contains(f, "SMS_OTP")}
	if slices.Contains(f, "WEB_AUTHN") {
		uv := p.Settings.WebAuthnUserVerification
		if uv == "" {
			uv = "preferred"
		}
		out.WebAuthn = &outputsWebAuthn{RelyingPartyID: p.Settings.WebAuthnRelyingPartyID, UserVerification: uv}
	}
	if !out.EmailOTPEnabled && !out.SMSOTPEnabled && out.WebAuthn == nil {
		return nil
	}
	return &out
}
