package integration_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
)

// TestUserAuthAndMFA: in choice-based sign-in, MFA follows a password
// first factor only; a one-time code as first factor and the sign-up
// Session sign in without it, as in Cognito.
func TestUserAuthAndMFA(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	pool, client := e.userAuthPool(types.AuthFactorTypePassword, types.AuthFactorTypeEmailOtp)
	must(e.api.SetUserPoolMfaConfig(e.ctx, &cip.SetUserPoolMfaConfigInput{UserPoolId: aws.String(pool),
		MfaConfiguration: types.UserPoolMfaTypeOptional, EmailMfaConfiguration: &types.EmailMfaConfigType{}}))(t)
	const email = "mfa-ua@example.com"
	user := e.userAuthUser(pool, email, "+15550005555", password)
	must(e.api.AdminSetUserMFAPreference(e.ctx, &cip.AdminSetUserMFAPreferenceInput{UserPoolId: aws.String(pool), Username: aws.String(user),
		EmailMfaSettings: &types.EmailMfaSettingsType{Enabled: true, PreferredMfa: true}}))(t)
	tests := []struct {
		name string
		run  func(t *testing.T) challengeOut
		mfa  bool
	}{
		{"PASSWORD is followed by MFA", func(t *testing.T) challengeOut {
			return fromInitiate(must(e.userAuth(client, email, map[string]string{"PREFERRED_CHALLENGE": "PASSWORD", "PASSWORD": password}))(t))
		}, true},
		{"PASSWORD_SRP is followed by MFA", func(t *testing.T) challengeOut {
			a := newSRPState(t, pool)
			c := fromInitiate(must(e.userAuth(client, email, map[string]string{"PREFERRED_CHALLENGE": "PASSWORD_SRP", "SRP_A": a.A}))(t))
			return fromRespond(must(e.respond(client, c.name, c.sess, e.srpAnswer(a.c, c.params, password)))(t))
		}, true},
		{"EMAIL_OTP as first factor signs in", func(t *testing.T) challengeOut {
			c := fromInitiate(must(e.userAuth(client, email, map[string]string{"PREFERRED_CHALLENGE": "EMAIL_OTP"}))(t))
			return fromRespond(must(e.respond(client, c.name, c.sess, map[string]string{"USERNAME": user, "EMAIL_OTP_CODE": e.code(email, "sign_in_code")}))(t))
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.run(t)
			if tt.mfa {
				if c.name != "EMAIL_OTP" || c.tokens != nil {
					t.Fatalf("challenge %q, want the EMAIL_OTP MFA challenge", c.name)
				}
				// The MFA code is answered through MFA's Session, not
				// choice-based sign-in's.
				done := must(e.respond(client, c.name, c.sess, map[string]string{"USERNAME": user, "EMAIL_OTP_CODE": e.code(email, "mfa_email")}))(t)
				if done.AuthenticationResult == nil {
					t.Fatalf("no tokens after MFA: challenge %q", done.ChallengeName)
				}
				return
			}
			if c.tokens == nil {
				t.Fatalf("challenge %q, want tokens", c.name)
			}
			f := must(e.api.GetUserAuthFactors(e.ctx, &cip.GetUserAuthFactorsInput{AccessToken: c.tokens.AccessToken}))(t)
			if aws.ToString(f.PreferredMfaSetting) != "EMAIL_OTP" || len(f.UserMFASettingList) != 1 || f.UserMFASettingList[0] != "EMAIL_OTP" {
				t.Fatalf("GetUserAuthFactors MFA: %q %v, want EMAIL_OTP", aws.ToString(f.PreferredMfaSetting), f.UserMFASettingList)
			}
		})
	}
}
