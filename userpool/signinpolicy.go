package userpool

import (
	"context"
	"errors"

	"github.com/cognate-auth/cognate/storage"
)

// First factors of choice-based sign-in (USER_AUTH), as a pool's sign-in
// policy names them; each is also the challenge that asks for it.
const (
	factorPassword = "PASSWORD"
	factorEmailOTP = "EMAIL_OTP"
	factorSMSOTP   = "SMS_OTP"
	factorWebAuthn = "WEB_AUTHN"
)

// SignInPolicyType is Cognito's sign-in policy: the first factors
// choice-based sign-in offers.
type SignInPolicyType struct {
	AllowedFirstAuthFactors []string `json:"AllowedFirstAuthFactors,omitempty"`
}

// allowedFirstFactors is the pool's sign-in policy; a pool that never set
// one allows the password alone, as in Cognito.
func allowedFirstFactors(p storage.Pool) []string {
	if len(p.Settings.AllowedFirstAuthFactors) == 0 {
		return []string{factorPassword}
	}
	return p.Settings.AllowedFirstAuthFactors
}

// allowsPasswordless reports whether the pool's sign-in policy has a
// one-time-code first factor: only then may users exist without a
// password (SignUp without Password, AdminCreateUser without a temporary
// password).
func allowsPasswordless(p storage.Pool) bool {
	f := allowedFirstFactors(p)
	return contains(f, factorEmailOTP) || contains(f, factorSMSOTP)
}

// passkeyFactor is where passkeys plug into choice-based sign-in: whether
// a user has a registered WebAuthn credential, and the WEB_AUTHN
// challenge that asks for an assertion. The passkey code sets
// Service.passkeys; while it is nil no user has a credential.
type passkeyFactor interface {
	hasCredential(ctx context.Context, u storage.User) (bool, error)
	startWebAuthn(ctx context.Context, c storage.Client, p storage.Pool, u storage.User) (AuthOutput, error)
}

// firstFactors are the first factors u can use in p: those the pool
// allows that the user is set up for — a password (offered as PASSWORD
// and PASSWORD_SRP), a verified email, a verified phone number, a
// registered passkey — in the order Cognito lists them.
func (s *Service) firstFactors(ctx context.Context, p storage.Pool, u storage.User) ([]string, error) {
	allowed := allowedFirstFactors(p)
	var out []string
	if contains(allowed, factorWebAuthn) && s.passkeys != nil {
		has, err := s.passkeys.hasCredential(ctx, u)
		if err != nil {
			return nil, internal("passkeys", err)
		}
		if has {
			out = append(out, factorWebAuthn)
		}
	}
	if contains(allowed, factorEmailOTP) && u.Attributes["email"] != "" && u.Attributes["email_verified"] == "true" {
		out = append(out, factorEmailOTP)
	}
	if contains(allowed, factorSMSOTP) && u.Attributes["phone_number"] != "" && u.Attributes["phone_number_verified"] == "true" {
		out = append(out, factorSMSOTP)
	}
	if contains(allowed, factorPassword) && len(u.SRPVerifier) > 0 {
		out = append(out, factorPassword, challengePasswordSRP)
	}
	return out, nil
}

// decoyFactors are what a name with no user is offered, so that the
// answer does not tell who exists: every one-time-code and password
// factor the pool allows.
func decoyFactors(p storage.Pool) []string {
	allowed := allowedFirstFactors(p)
	var out []string
	for _, f := range []string{factorEmailOTP, factorSMSOTP} {
		if contains(allowed, f) {
			out = append(out, f)
		}
	}
	if contains(allowed, factorPassword) {
		out = append(out, factorPassword, challengePasswordSRP)
	}
	return out
}

// GetUserAuthFactorsOutput is GetUserAuthFactors' response.
type GetUserAuthFactorsOutput struct {
	Username                  string   `json:"Username"`
	PreferredMfaSetting       string   `json:"PreferredMfaSetting,omitempty"`
	UserMFASettingList        []string `json:"UserMFASettingList,omitempty"`
	ConfiguredUserAuthFactors []string `json:"ConfiguredUserAuthFactors"`
}

// GetUserAuthFactors lists the first factors the signed-in user can
// choose from in choice-based sign-in (PASSWORD stands for both password
// flows, as in Cognito).
func (s *Service) GetUserAuthFactors(ctx context.Context, in AccessTokenInput) (GetUserAuthFactorsOutput, error) {
	ts, err := s.authorize(ctx, in.AccessToken)
	if err != nil {
		return GetUserAuthFactorsOutput{}, err
	}
	fs, err := s.firstFactors(ctx, ts.pool, ts.user)
	if err != nil {
		return GetUserAuthFactorsOutput{}, err
	}
	v := viewMFA(ts.pool, ts.user)
	out := GetUserAuthFactorsOutput{Username: ts.user.Username, PreferredMfaSetting: v.preferred, UserMFASettingList: v.list, ConfiguredUserAuthFactors: []string{}}
	for _, f := range fs {
		if f != challengePasswordSRP {
			out.ConfiguredUserAuthFactors = append(out.ConfiguredUserAuthFactors, f)
		}
	}
	return out, nil
}

// createPasswordless is AdminCreateUser without a temporary password in
// a pool with a one-time-code first factor: as in Cognito, the user gets
// no password, is confirmed, and signs in with a code sent to a verified
// address (the caller marks it verified). There is no temporary password
// to send, so no invitation goes out.
func (s *Service) createPasswordless(ctx context.Context, p storage.Pool, in AdminCreateUserInput) (AdminCreateUserOutput, error) {
	u, err := s.newUser(p, in.Username, "", in.UserAttributes)
	if err != nil {
		return AdminCreateUserOutput{}, err
	}
	now := s.now()
	u.Status = storage.StatusConfirmed
	u.CreatedAt, u.UpdatedAt = now, now
	err = s.store.CreateUser(ctx, u)
	if errors.Is(err, storage.ErrAlreadyExists) {
		return AdminCreateUserOutput{}, errorf(ErrUsernameExists, "User account already exists")
	} else if err != nil {
		return AdminCreateUserOutput{}, internal("create user", err)
	}
	return AdminCreateUserOutput{User: userType(u)}, nil
}
