package userpool_test

import (
	"testing"
	"time"

	"github.com/cognate-auth/cognate/userpool"
)

// userAuthEnv is env with a pool whose sign-in policy allows the
// password and email codes, a USER_AUTH client, and a user with a
// verified email and no password.
func userAuthEnv(t *testing.T) (*env, string, string) {
	e := newEnv(t, nil)
	p, err := e.svc.CreateUserPool(e.ctx, userpool.CreateUserPoolInput{PoolName: "ua", UsernameAttributes: []string{"email"}, AutoVerifiedAttributes: []string{"email"},
		Policies: &userpool.PoliciesType{SignInPolicy: &userpool.SignInPolicyType{AllowedFirstAuthFactors: []string{"PASSWORD", "EMAIL_OTP"}}}})
	if err != nil {
		t.Fatal(err)
	}
	c, err := e.svc.CreateUserPoolClient(e.ctx, userpool.CreateUserPoolClientInput{ClientSettingsInput: userpool.ClientSettingsInput{
		UserPoolId: p.UserPool.Id, ClientName: "ua", ExplicitAuthFlows: []string{"ALLOW_USER_AUTH"}}})
	if err != nil {
		t.Fatal(err)
	}
	const email = "otp@example.com"
	u, err := e.svc.AdminCreateUser(e.ctx, userpool.AdminCreateUserInput{UserPoolId: p.UserPool.Id, Username: email, MessageAction: "SUPPRESS",
		UserAttributes: []userpool.AttributeType{{Name: "email_verified", Value: "true"}}})
	if err != nil {
		t.Fatal(err)
	}
	return e, c.UserPoolClient.ClientId, u.User.Username
}

func TestSignInCodesExpire(t *testing.T) {
	const email = "otp@example.com"
	tests := []struct {
		name    string
		advance time.Duration
		wantErr *userpool.Error
	}{
		{"just in time", 2*time.Minute + 50*time.Second, nil},
		{"expired", 3*time.Minute + time.Second, userpool.ErrNotAuthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, client, user := userAuthEnv(t)
			out, err := e.svc.InitiateAuth(e.ctx, userpool.InitiateAuthInput{ClientId: client, AuthFlow: "USER_AUTH",
				AuthParameters: map[string]string{"USERNAME": email, "PREFERRED_CHALLENGE": "EMAIL_OTP"}})
			if err != nil || out.ChallengeName != "EMAIL_OTP" {
				t.Fatalf("InitiateAuth: %+v %v", out, err)
			}
			e.clock.Advance(tt.advance)
			res, err := e.svc.RespondToAuthChallenge(e.ctx, userpool.RespondToAuthChallengeInput{ClientId: client, ChallengeName: "EMAIL_OTP",
				Session: out.Session, ChallengeResponses: map[string]string{"USERNAME": user, "EMAIL_OTP_CODE": e.lastCode(email)}})
			if tt.wantErr != nil {
				wantErr(t, err, tt.wantErr, "Invalid session for the user, session is expired.")
				return
			}
			if err != nil || res.AuthenticationResult == nil {
				t.Fatalf("RespondToAuthChallenge: %+v %v", res, err)
			}
		})
	}
}

func TestSignUpSessionExpires(t *testing.T) {
	e, client, _ := userAuthEnv(t)
	const email = "late@example.com"
	if _, err := e.svc.SignUp(e.ctx, userpool.SignUpInput{ClientId: client, Username: email}); err != nil {
		t.Fatal(err)
	}
	conf, err := e.svc.ConfirmSignUp(e.ctx, userpool.ConfirmSignUpInput{ClientId: client, Username: email, ConfirmationCode: e.lastCode(email)})
	if err != nil || conf.Session == "" {
		t.Fatalf("ConfirmSignUp: %+v %v", conf, err)
	}
	e.clock.Advance(3*time.Minute + time.Second)
	_, err = e.svc.InitiateAuth(e.ctx, userpool.InitiateAuthInput{ClientId: client, AuthFlow: "USER_AUTH", Session: conf.Session,
		AuthParameters: map[string]string{"USERNAME": email}})
	wantErr(t, err, userpool.ErrNotAuthorized, "Invalid session for the user, session is expired.")
}
