package userpool

// What comes after the first factor (a password, by SRP or not): the one
// place that decides between tokens and a further challenge.

import (
	"context"

	"github.com/cognate-auth/cognate/storage"
)

// nextStep is the decision of afterFirstFactor: tokens when challenge is
// empty, else the challenge to send and, for SELECT_MFA_TYPE and
// MFA_SETUP, the factors it offers.
type nextStep struct {
	challenge string
	choices   []string
}

// nextAfterFirstFactor decides, as Cognito does, what a user who proved
// the first factor must do next:
//   - MFA OFF, or OPTIONAL with no factor turned on: tokens.
//   - one factor on, or a preferred one among several: its challenge.
//   - several on and none preferred: SELECT_MFA_TYPE.
//   - MFA ON and no factor on: SMS_MFA when the pool sends SMS and the
//     user has a phone number (as Cognito, which needs no verified
//     number); else EMAIL_OTP when the pool sends email MFA and the
//     user's email is verified; else MFA_SETUP with the factors the user
//     can set up during sign-in (SOFTWARE_TOKEN_MFA, EMAIL_OTP).
func nextAfterFirstFactor(p storage.Pool, u storage.User) nextStep {
	mode := poolMFAMode(p)
	if mode == mfaOff {
		return nextStep{}
	}
	on := userFactors(p, u)
	switch {
	case len(on) == 1:
		return nextStep{challenge: on[0]}
	case len(on) > 1 && contains(on, u.MFA.Preferred):
		return nextStep{challenge: u.MFA.Preferred}
	case len(on) > 1:
		return nextStep{challenge: challengeSelectMFA, choices: on}
	case mode == mfaOptional:
		return nextStep{}
	case p.Settings.SMSMFAEnabled && u.Attributes["phone_number"] != "":
		return nextStep{challenge: factorSMS}
	case p.Settings.EmailMFAEnabled && u.Attributes["email"] != "" && u.Attributes["email_verified"] == "true":
		return nextStep{challenge: factorEmail}
	}
	var setup []string
	if p.Settings.SoftwareTokenMFAEnabled {
		setup = append(setup, factorTOTP)
	}
	if p.Settings.EmailMFAEnabled {
		setup = append(setup, factorEmail)
	}
	return nextStep{challenge: challengeMFASetup, choices: setup}
}

// afterFirstFactor answers a proven first factor with tokens or the next
// challenge: a remembered device proves itself instead of MFA
// (deviceStep); else MFA as nextAfterFirstFactor decides; once every
// factor is proven, finishSignIn (a device that is not remembered proves
// itself then). claim is the first factor's one-time claim (an SRP
// answer): made with the tokens, or alone before a challenge, so the
// proof cannot be replayed to reach the challenge twice.
func (s *Service) afterFirstFactor(ctx context.Context, c storage.Client, p storage.Pool, u storage.User, deviceKey string, claim oneTimeClaim) (AuthOutput, error) {
	if out, ok, err := s.deviceStep(ctx, c, p, u, deviceKey, claim); ok {
		return out, err
	}
	next := nextAfterFirstFactor(p, u)
	if next.challenge == "" {
		return s.finishSignIn(ctx, c, p, u, deviceKey, claim)
	}
	if next.challenge == challengeMFASetup && len(next.choices) == 0 {
		return AuthOutput{}, errorf(ErrNotAuthorized, "MFA is required, but the user pool offers no factor this user can set up.")
	}
	if err := s.claimAlone(ctx, claim); err != nil {
		return AuthOutput{}, err
	}
	return s.mfaChallenge(ctx, c, p, u, mfaState{Challenge: next.challenge, Choices: next.choices, Device: deviceKey})
}
