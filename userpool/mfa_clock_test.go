package userpool_test

import (
	"testing"
	"time"

	"github.com/cognate-auth/cognate/userpool"
)

// TestMFACodeExpires: an emailed sign-in code lives 3 minutes even when
// the challenge Session lives longer; the Session itself then expires
// at the client's AuthSessionValidity.
func TestMFACodeExpires(t *testing.T) {
	e := newEnv(t, nil)
	if _, err := e.svc.SetUserPoolMfaConfig(e.ctx, userpool.SetUserPoolMfaConfigInput{UserPoolId: e.poolID, MfaConfiguration: "OPTIONAL",
		EmailMfaConfiguration: &userpool.EmailMfaConfigType{}}); err != nil {
		t.Fatal(err)
	}
	c, err := e.svc.CreateUserPoolClient(e.ctx, userpool.CreateUserPoolClientInput{ClientSettingsInput: userpool.ClientSettingsInput{
		UserPoolId: e.poolID, ClientName: "long", AuthSessionValidity: 15, ExplicitAuthFlows: []string{"ALLOW_USER_PASSWORD_AUTH"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	client := c.UserPoolClient.ClientId
	e.confirmedUser("ann@example.com", "Correct-Horse-9")
	tok, err := e.passwordSignIn("ann@example.com", "Correct-Horse-9")
	if err != nil {
		t.Fatal(err)
	}
	yes := true
	if _, err := e.svc.SetUserMFAPreference(e.ctx, userpool.SetUserMFAPreferenceInput{AccessToken: tok.AuthenticationResult.AccessToken,
		EmailMfaSettings: &userpool.MfaSettings{Enabled: true, PreferredMfa: &yes}}); err != nil {
		t.Fatal(err)
	}
	start := func() userpool.AuthOutput {
		out, err := e.svc.InitiateAuth(e.ctx, userpool.InitiateAuthInput{ClientId: client, AuthFlow: "USER_PASSWORD_AUTH",
			AuthParameters: map[string]string{"USERNAME": "ann@example.com", "PASSWORD": "Correct-Horse-9"}})
		if err != nil || out.ChallengeName != "EMAIL_OTP" {
			t.Fatalf("sign-in: %v %q", err, out.ChallengeName)
		}
		return out
	}
	answer := func(ch userpool.AuthOutput, code string) error {
		_, err := e.svc.RespondToAuthChallenge(e.ctx, userpool.RespondToAuthChallengeInput{ClientId: client, ChallengeName: "EMAIL_OTP",
			Session: ch.Session, ChallengeResponses: map[string]string{"USERNAME": "ann@example.com", "EMAIL_OTP_CODE": code}})
		return err
	}
	ch := start()
	code := e.lastCode("ann@example.com")
	e.clock.Advance(3*time.Minute + time.Second)
	wantErr(t, answer(ch, code), userpool.ErrExpiredCode, "")

	ch = start()
	e.clock.Advance(15*time.Minute + time.Second)
	wantErr(t, answer(ch, e.lastCode("ann@example.com")), userpool.ErrNotAuthorized, "session is expired")

	ch = start()
	if err := answer(ch, e.lastCode("ann@example.com")); err != nil {
		t.Fatalf("a fresh code: %v", err)
	}
}
