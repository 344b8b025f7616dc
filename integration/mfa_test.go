package integration_test

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/cognate-auth/cognate/internal/totp"
)

// mfaPool creates a pool with the MFA mode and factors given (sms, totp,
// email) and a client allowed every flow.
func (e *env) mfaPool(mode types.UserPoolMfaType, sms, soft, email bool) (pool, client string) {
	e.t.Helper()
	pool = aws.ToString(must(e.api.CreateUserPool(e.ctx, &cip.CreateUserPoolInput{PoolName: aws.String("mfa")}))(e.t).UserPool.Id)
	in := &cip.SetUserPoolMfaConfigInput{UserPoolId: aws.String(pool), MfaConfiguration: mode,
		SoftwareTokenMfaConfiguration: &types.SoftwareTokenMfaConfigType{Enabled: soft}}
	if sms {
		in.SmsMfaConfiguration = &types.SmsMfaConfigType{SmsAuthenticationMessage: aws.String("Your code is {####}")}
	}
	if email {
		in.EmailMfaConfiguration = &types.EmailMfaConfigType{}
	}
	must(e.api.SetUserPoolMfaConfig(e.ctx, in))(e.t)
	client, _ = e.newClient(pool)
	return pool, client
}

// mfaUser creates a confirmed user with a permanent password.
func (e *env) mfaUser(pool, name string, attrs ...types.AttributeType) {
	e.t.Helper()
	must(e.api.AdminCreateUser(e.ctx, &cip.AdminCreateUserInput{UserPoolId: aws.String(pool), Username: aws.String(name),
		UserAttributes: attrs, MessageAction: types.MessageActionTypeSuppress}))(e.t)
	must(e.api.AdminSetUserPassword(e.ctx, &cip.AdminSetUserPasswordInput{UserPoolId: aws.String(pool), Username: aws.String(name),
		Password: aws.String(password), Permanent: true}))(e.t)
}

// startAuth is USER_PASSWORD_AUTH that may answer with a challenge.
func (e *env) startAuth(client, user string) *cip.InitiateAuthOutput {
	e.t.Helper()
	return must(e.api.InitiateAuth(e.ctx, &cip.InitiateAuthInput{
		ClientId: aws.String(client), AuthFlow: types.AuthFlowTypeUserPasswordAuth,
		AuthParameters: map[string]string{"USERNAME": user, "PASSWORD": password},
	}))(e.t)
}

// setUpTOTP associates and verifies an authenticator for the token's
// user with the code of the step before now, and returns its secret.
func (e *env) setUpTOTP(access *string) []byte {
	e.t.Helper()
	out := must(e.api.AssociateSoftwareToken(e.ctx, &cip.AssociateSoftwareTokenInput{AccessToken: access}))(e.t)
	code := aws.ToString(out.SecretCode)
	if len(code) != 32 || strings.ContainsAny(code, "=") {
		e.t.Fatalf("SecretCode %q: want 32 unpadded base32 characters", code)
	}
	secret, err := totp.Encoding.DecodeString(code)
	if err != nil {
		e.t.Fatal(err)
	}
	v := must(e.api.VerifySoftwareToken(e.ctx, &cip.VerifySoftwareTokenInput{AccessToken: access,
		UserCode: aws.String(totp.Code(secret, time.Now().Add(-totp.Step))), FriendlyDeviceName: aws.String("phone")}))(e.t)
	if v.Status != types.VerifySoftwareTokenResponseTypeSuccess {
		e.t.Fatalf("VerifySoftwareToken status %q", v.Status)
	}
	return secret
}

func TestMFAPoolConfig(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	pool := aws.ToString(must(e.api.CreateUserPool(e.ctx, &cip.CreateUserPoolInput{PoolName: aws.String("p")}))(t).UserPool.Id)
	got := must(e.api.GetUserPoolMfaConfig(e.ctx, &cip.GetUserPoolMfaConfigInput{UserPoolId: aws.String(pool)}))(t)
	if got.MfaConfiguration != types.UserPoolMfaTypeOff || got.SoftwareTokenMfaConfiguration.Enabled || got.SmsMfaConfiguration != nil {
		t.Fatalf("a new pool's MFA config: %+v", got)
	}
	set := must(e.api.SetUserPoolMfaConfig(e.ctx, &cip.SetUserPoolMfaConfigInput{
		UserPoolId: aws.String(pool), MfaConfiguration: types.UserPoolMfaTypeOptional,
		SoftwareTokenMfaConfiguration: &types.SoftwareTokenMfaConfigType{Enabled: true},
		EmailMfaConfiguration:         &types.EmailMfaConfigType{Subject: aws.String("Code")},
		WebAuthnConfiguration:         &types.WebAuthnConfigurationType{RelyingPartyId: aws.String("example.com"), UserVerification: types.UserVerificationTypeRequired},
	}))(t)
	got = must(e.api.GetUserPoolMfaConfig(e.ctx, &cip.GetUserPoolMfaConfigInput{UserPoolId: aws.String(pool)}))(t)
	for _, o := range []struct {
		mode      types.UserPoolMfaType
		totp, sms bool
		email     bool
		rp        string
		uv        types.UserVerificationType
	}{{set.MfaConfiguration, set.SoftwareTokenMfaConfiguration.Enabled, set.SmsMfaConfiguration != nil, set.EmailMfaConfiguration != nil,
		aws.ToString(set.WebAuthnConfiguration.RelyingPartyId), set.WebAuthnConfiguration.UserVerification},
		{got.MfaConfiguration, got.SoftwareTokenMfaConfiguration.Enabled, got.SmsMfaConfiguration != nil, got.EmailMfaConfiguration != nil,
			aws.ToString(got.WebAuthnConfiguration.RelyingPartyId), got.WebAuthnConfiguration.UserVerification}} {
		if o.mode != types.UserPoolMfaTypeOptional || !o.totp || o.sms || !o.email || o.rp != "example.com" || o.uv != types.UserVerificationTypeRequired {
			t.Fatalf("MFA config after set: %+v", o)
		}
	}
	d := must(e.api.DescribeUserPool(e.ctx, &cip.DescribeUserPoolInput{UserPoolId: aws.String(pool)}))(t)
	if d.UserPool.MfaConfiguration != types.UserPoolMfaTypeOptional {
		t.Fatalf("DescribeUserPool MfaConfiguration %q", d.UserPool.MfaConfiguration)
	}
	for _, tc := range []struct {
		name string
		in   cip.SetUserPoolMfaConfigInput
		want string
	}{
		{"ON without a factor", cip.SetUserPoolMfaConfigInput{MfaConfiguration: types.UserPoolMfaTypeOn}, "InvalidParameterException"},
		{"unknown mode", cip.SetUserPoolMfaConfigInput{MfaConfiguration: "SOMETIMES"}, "InvalidParameterException"},
		{"bad user verification", cip.SetUserPoolMfaConfigInput{MfaConfiguration: types.UserPoolMfaTypeOff,
			WebAuthnConfiguration: &types.WebAuthnConfigurationType{UserVerification: "always"}}, "InvalidParameterException"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.in.UserPoolId = aws.String(pool)
			_, err := e.api.SetUserPoolMfaConfig(e.ctx, &tc.in)
			wantErr(t, err, tc.want)
		})
	}
	_, err := e.api.GetUserPoolMfaConfig(e.ctx, &cip.GetUserPoolMfaConfigInput{UserPoolId: aws.String("us-east-1_Nope12345")})
	wantErr(t, err, "ResourceNotFoundException")
	// A pool created OPTIONAL offers TOTP.
	opt := must(e.api.CreateUserPool(e.ctx, &cip.CreateUserPoolInput{PoolName: aws.String("o"), MfaConfiguration: types.UserPoolMfaTypeOptional}))(t)
	got = must(e.api.GetUserPoolMfaConfig(e.ctx, &cip.GetUserPoolMfaConfigInput{UserPoolId: opt.UserPool.Id}))(t)
	if got.MfaConfiguration != types.UserPoolMfaTypeOptional || !got.SoftwareTokenMfaConfiguration.Enabled {
		t.Fatalf("pool created OPTIONAL: %+v", got)
	}
}

// TestTOTPSignIn: associate, verify, prefer, then sign in with
// SOFTWARE_TOKEN_MFA; a code is never accepted twice, a Session never
// used twice nor for another user.
func TestTOTPSignIn(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	pool, client := e.mfaPool(types.UserPoolMfaTypeOptional, false, true, false)
	e.mfaUser(pool, "ann")
	e.mfaUser(pool, "bob")
	tok := e.signIn(client, "ann", password)

	_, err := e.api.SetUserMFAPreference(e.ctx, &cip.SetUserMFAPreferenceInput{AccessToken: tok.AccessToken,
		SoftwareTokenMfaSettings: &types.SoftwareTokenMfaSettingsType{Enabled: true}})
	wantMessage(t, err, "InvalidParameterException", "User has not verified software token mfa")
	assoc := must(e.api.AssociateSoftwareToken(e.ctx, &cip.AssociateSoftwareTokenInput{AccessToken: tok.AccessToken}))(t)
	_, err = e.api.VerifySoftwareToken(e.ctx, &cip.VerifySoftwareTokenInput{AccessToken: tok.AccessToken, UserCode: aws.String("000000")})
	if secret, _ := totp.Encoding.DecodeString(aws.ToString(assoc.SecretCode)); totp.Code(secret, time.Now()) != "000000" {
		wantMessage(t, err, "EnableSoftwareTokenMFAException", "Code mismatch and fail enable Software Token MFA")
	}
	secret := e.setUpTOTP(tok.AccessToken)
	must(e.api.SetUserMFAPreference(e.ctx, &cip.SetUserMFAPreferenceInput{AccessToken: tok.AccessToken,
		SoftwareTokenMfaSettings: &types.SoftwareTokenMfaSettingsType{Enabled: true, PreferredMfa: true}}))(t)
	u := must(e.getUser(tok.AccessToken))(t)
	if aws.ToString(u.PreferredMfaSetting) != "SOFTWARE_TOKEN_MFA" || len(u.UserMFASettingList) != 1 || u.UserMFASettingList[0] != "SOFTWARE_TOKEN_MFA" {
		t.Fatalf("GetUser MFA: preferred %q list %v", aws.ToString(u.PreferredMfaSetting), u.UserMFASettingList)
	}

	ch := e.startAuth(client, "ann")
	if ch.ChallengeName != types.ChallengeNameTypeSoftwareTokenMfa || ch.AuthenticationResult != nil {
		t.Fatalf("sign-in answered %q, want SOFTWARE_TOKEN_MFA", ch.ChallengeName)
	}
	answer := func(sess *string, user, code string) (*cip.RespondToAuthChallengeOutput, error) {
		return e.respond(client, types.ChallengeNameTypeSoftwareTokenMfa, sess, map[string]string{"USERNAME": user, "SOFTWARE_TOKEN_MFA_CODE": code})
	}
	now := totp.Code(secret, time.Now())
	// Another user's name with this Session.
	_, err = answer(ch.Session, "bob", now)
	wantMessage(t, err, "NotAuthorizedException", "Invalid session for the user.")
	// The verification's code (the step before) is spent.
	_, err = answer(ch.Session, "ann", totp.Code(secret, time.Now().Add(-totp.Step)))
	wantMessage(t, err, "CodeMismatchException", "Invalid code or auth state for the user.")
	out := must(answer(ch.Session, "ann", now))(t)
	if out.AuthenticationResult == nil || aws.ToString(out.AuthenticationResult.AccessToken) == "" {
		t.Fatalf("no tokens after SOFTWARE_TOKEN_MFA: %+v", out)
	}
	// The Session is spent, and so is the code, with a fresh Session.
	_, err = answer(ch.Session, "ann", totp.Code(secret, time.Now().Add(totp.Step)))
	wantMessage(t, err, "NotAuthorizedException", "Invalid session for the user, session is expired.")
	again := e.startAuth(client, "ann")
	_, err = answer(again.Session, "ann", now)
	wantMessage(t, err, "CodeMismatchException", "Invalid code or auth state for the user.")
	// A Session of one challenge does not answer another.
	_, err = e.respond(client, types.ChallengeNameTypeEmailOtp, again.Session, map[string]string{"USERNAME": "ann", "EMAIL_OTP_CODE": "123456"})
	wantMessage(t, err, "NotAuthorizedException", "Invalid session for the user.")
}

// TestMFAWrongCodesLockout: wrong codes count toward a lock that then
// refuses even the right code.
func TestMFAWrongCodesLockout(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	pool, client := e.mfaPool(types.UserPoolMfaTypeOptional, false, true, false)
	e.mfaUser(pool, "ann")
	tok := e.signIn(client, "ann", password)
	secret := e.setUpTOTP(tok.AccessToken)
	must(e.api.SetUserMFAPreference(e.ctx, &cip.SetUserMFAPreferenceInput{AccessToken: tok.AccessToken,
		SoftwareTokenMfaSettings: &types.SoftwareTokenMfaSettingsType{Enabled: true}}))(t)
	ch := e.startAuth(client, "ann")
	right := totp.Code(secret, time.Now())
	wrong := "000000"
	if wrong == right {
		wrong = "111111"
	}
	respond := func(code string) error {
		_, err := e.respond(client, types.ChallengeNameTypeSoftwareTokenMfa, ch.Session, map[string]string{"USERNAME": "ann", "SOFTWARE_TOKEN_MFA_CODE": code})
		return err
	}
	for i := range 5 {
		if err := respond(wrong); err == nil {
			t.Fatalf("wrong code %d accepted", i)
		} else if i < 4 {
			wantErr(t, err, "CodeMismatchException")
		}
	}
	wantMessage(t, respond(right), "NotAuthorizedException", "Too many invalid credentials attempts. User temporarily locked. Please try again after few seconds.")
}

// TestSMSAndEmailMFA: SMS_MFA with the code from the outbox (MFA ON and a
// phone number), EMAIL_OTP as a chosen factor, SELECT_MFA_TYPE when both
// are on and none is preferred.
func TestSMSAndEmailMFA(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	pool, client := e.mfaPool(types.UserPoolMfaTypeOn, true, false, true)
	e.mfaUser(pool, "ann", attrT("phone_number", "+15555550123"), attrT("email", "ann@example.com"), attrT("email_verified", "true"))

	ch := e.startAuth(client, "ann")
	if ch.ChallengeName != types.ChallengeNameTypeSmsMfa || ch.ChallengeParameters["CODE_DELIVERY_DELIVERY_MEDIUM"] != "SMS" ||
		ch.ChallengeParameters["CODE_DELIVERY_DESTINATION"] != "+*******0123" {
		t.Fatalf("sign-in with a phone: %q %v", ch.ChallengeName, ch.ChallengeParameters)
	}
	code := e.code("+15555550123", "mfa_sms")
	_, err := e.respond(client, types.ChallengeNameTypeSmsMfa, ch.Session, map[string]string{"USERNAME": "ann", "SMS_MFA_CODE": wrongOf(code)})
	wantMessage(t, err, "CodeMismatchException", "Invalid code or auth state for the user.")
	out := must(e.respond(client, types.ChallengeNameTypeSmsMfa, ch.Session, map[string]string{"USERNAME": "ann", "SMS_MFA_CODE": code}))(t)
	if out.AuthenticationResult == nil {
		t.Fatalf("no tokens after SMS_MFA")
	}
	// Both factors on, none preferred: the user picks.
	must(e.api.AdminSetUserMFAPreference(e.ctx, &cip.AdminSetUserMFAPreferenceInput{UserPoolId: aws.String(pool), Username: aws.String("ann"),
		SMSMfaSettings: &types.SMSMfaSettingsType{Enabled: true}, EmailMfaSettings: &types.EmailMfaSettingsType{Enabled: true}}))(t)
	g := must(e.adminGet(pool, "ann"))(t)
	if len(g.UserMFASettingList) != 2 || aws.ToString(g.PreferredMfaSetting) != "" || len(g.MFAOptions) != 1 {
		t.Fatalf("AdminGetUser MFA: %v %q %v", g.UserMFASettingList, aws.ToString(g.PreferredMfaSetting), g.MFAOptions)
	}
	ch = e.startAuth(client, "ann")
	if ch.ChallengeName != types.ChallengeNameTypeSelectMfaType || ch.ChallengeParameters["MFAS_CAN_CHOOSE"] != `["SMS_MFA","EMAIL_OTP"]` {
		t.Fatalf("two factors: %q %v", ch.ChallengeName, ch.ChallengeParameters)
	}
	_, err = e.respond(client, types.ChallengeNameTypeSelectMfaType, ch.Session, map[string]string{"USERNAME": "ann", "ANSWER": "SOFTWARE_TOKEN_MFA"})
	wantErr(t, err, "InvalidParameterException")
	sel := must(e.respond(client, types.ChallengeNameTypeSelectMfaType, ch.Session, map[string]string{"USERNAME": "ann", "ANSWER": "EMAIL_OTP"}))(t)
	if sel.ChallengeName != types.ChallengeNameTypeEmailOtp || sel.ChallengeParameters["CODE_DELIVERY_DESTINATION"] != "a***@e***" {
		t.Fatalf("after choosing EMAIL_OTP: %q %v", sel.ChallengeName, sel.ChallengeParameters)
	}
	_, err = e.respond(client, types.ChallengeNameTypeSelectMfaType, ch.Session, map[string]string{"USERNAME": "ann", "ANSWER": "SMS_MFA"})
	wantMessage(t, err, "NotAuthorizedException", "Invalid session for the user, session is expired.")
	out = must(e.respond(client, types.ChallengeNameTypeEmailOtp, sel.Session, map[string]string{"USERNAME": "ann", "EMAIL_OTP_CODE": e.code("ann@example.com", "mfa_email")}))(t)
	if out.AuthenticationResult == nil {
		t.Fatalf("no tokens after EMAIL_OTP")
	}
}

func wrongOf(code string) string {
	if code == "000000" {
		return "111111"
	}
	return "000000"
}

// TestMFASetupDuringSignIn: MFA ON and no factor: MFA_SETUP with TOTP
// (AssociateSoftwareToken and VerifySoftwareToken with the Session), and
// with email.
func TestMFASetupDuringSignIn(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	pool, client := e.mfaPool(types.UserPoolMfaTypeOn, false, true, true)
	e.mfaUser(pool, "ann")
	e.mfaUser(pool, "eve")

	ch := e.startAuth(client, "ann")
	if ch.ChallengeName != types.ChallengeNameTypeMfaSetup || ch.ChallengeParameters["MFAS_CAN_SETUP"] != `["SOFTWARE_TOKEN_MFA","EMAIL_OTP"]` {
		t.Fatalf("sign-in without a factor: %q %v", ch.ChallengeName, ch.ChallengeParameters)
	}
	assoc := must(e.api.AssociateSoftwareToken(e.ctx, &cip.AssociateSoftwareTokenInput{Session: ch.Session}))(t)
	secret, err := totp.Encoding.DecodeString(aws.ToString(assoc.SecretCode))
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.api.AssociateSoftwareToken(e.ctx, &cip.AssociateSoftwareTokenInput{Session: ch.Session})
	wantMessage(t, err, "NotAuthorizedException", "Invalid session for the user, session is expired.")
	_, err = e.api.VerifySoftwareToken(e.ctx, &cip.VerifySoftwareTokenInput{Session: assoc.Session, UserCode: aws.String(wrongOf(totp.Code(secret, time.Now())))})
	wantErr(t, err, "EnableSoftwareTokenMFAException")
	v := must(e.api.VerifySoftwareToken(e.ctx, &cip.VerifySoftwareTokenInput{Session: assoc.Session,
		UserCode: aws.String(totp.Code(secret, time.Now())), FriendlyDeviceName: aws.String("phone")}))(t)
	_, err = e.respond(client, types.ChallengeNameTypeMfaSetup, v.Session, map[string]string{"USERNAME": "eve"})
	wantMessage(t, err, "NotAuthorizedException", "Invalid session for the user.")
	out := must(e.respond(client, types.ChallengeNameTypeMfaSetup, v.Session, map[string]string{"USERNAME": "ann"}))(t)
	if out.AuthenticationResult == nil {
		t.Fatalf("no tokens after MFA_SETUP")
	}
	_, err = e.respond(client, types.ChallengeNameTypeMfaSetup, v.Session, map[string]string{"USERNAME": "ann"})
	wantMessage(t, err, "NotAuthorizedException", "Invalid session for the user, session is expired.")
	if next := e.startAuth(client, "ann"); next.ChallengeName != types.ChallengeNameTypeSoftwareTokenMfa {
		t.Fatalf("after TOTP setup, sign-in answers %q", next.ChallengeName)
	}

	// Email setup: the address given gets a code, and becomes the user's.
	ch = e.startAuth(client, "eve")
	mail := must(e.respond(client, types.ChallengeNameTypeMfaSetup, ch.Session, map[string]string{"USERNAME": "eve", "EMAIL": "eve@example.org"}))(t)
	if mail.ChallengeName != types.ChallengeNameTypeEmailOtp {
		t.Fatalf("after MFA_SETUP with EMAIL: %q", mail.ChallengeName)
	}
	out = must(e.respond(client, types.ChallengeNameTypeEmailOtp, mail.Session, map[string]string{"USERNAME": "eve", "EMAIL_OTP_CODE": e.code("eve@example.org", "mfa_email")}))(t)
	if out.AuthenticationResult == nil {
		t.Fatalf("no tokens after email setup")
	}
	g := must(e.adminGet(pool, "eve"))(t)
	if v, _ := attr(g.UserAttributes, "email_verified"); v != "true" || aws.ToString(g.PreferredMfaSetting) != "EMAIL_OTP" {
		t.Fatalf("after email setup: email_verified %q preferred %q", v, aws.ToString(g.PreferredMfaSetting))
	}
}

// TestAdminRemovesMFA: the lost-phone case. Turning TOTP off as an admin
// forgets the secret, so a new one must be associated; AdminResetUserPassword
// sends a reset code and makes sign-in ask for a reset.
func TestAdminRemovesMFA(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	pool, client := e.mfaPool(types.UserPoolMfaTypeOptional, false, true, false)
	e.mfaUser(pool, "ann", attrT("email", "ann@example.com"), attrT("email_verified", "true"))
	tok := e.signIn(client, "ann", password)
	e.setUpTOTP(tok.AccessToken)
	must(e.api.SetUserMFAPreference(e.ctx, &cip.SetUserMFAPreferenceInput{AccessToken: tok.AccessToken,
		SoftwareTokenMfaSettings: &types.SoftwareTokenMfaSettingsType{Enabled: true, PreferredMfa: true}}))(t)
	if ch := e.startAuth(client, "ann"); ch.ChallengeName != types.ChallengeNameTypeSoftwareTokenMfa {
		t.Fatalf("challenge %q", ch.ChallengeName)
	}
	must(e.api.AdminSetUserMFAPreference(e.ctx, &cip.AdminSetUserMFAPreferenceInput{UserPoolId: aws.String(pool), Username: aws.String("ann"),
		SoftwareTokenMfaSettings: &types.SoftwareTokenMfaSettingsType{Enabled: false}}))(t)
	if g := must(e.adminGet(pool, "ann"))(t); len(g.UserMFASettingList) != 0 || g.PreferredMfaSetting != nil {
		t.Fatalf("after admin removal: %v %v", g.UserMFASettingList, g.PreferredMfaSetting)
	}
	e.signIn(client, "ann", password)
	_, err := e.api.SetUserMFAPreference(e.ctx, &cip.SetUserMFAPreferenceInput{AccessToken: tok.AccessToken,
		SoftwareTokenMfaSettings: &types.SoftwareTokenMfaSettingsType{Enabled: true}})
	wantMessage(t, err, "InvalidParameterException", "User has not verified software token mfa")

	must(e.api.AdminResetUserPassword(e.ctx, &cip.AdminResetUserPasswordInput{UserPoolId: aws.String(pool), Username: aws.String("ann")}))(t)
	if g := must(e.adminGet(pool, "ann"))(t); g.UserStatus != types.UserStatusTypeResetRequired {
		t.Fatalf("status %q after AdminResetUserPassword", g.UserStatus)
	}
	_, err = e.passwordAuth(client, "ann", password)
	wantErr(t, err, "PasswordResetRequiredException")
	must(e.api.ConfirmForgotPassword(e.ctx, &cip.ConfirmForgotPasswordInput{ClientId: aws.String(client), Username: aws.String("ann"),
		ConfirmationCode: aws.String(e.code("ann@example.com", "forgot_password")), Password: aws.String(password2)}))(t)
	e.signIn(client, "ann", password2)
	_, err = e.api.AdminResetUserPassword(e.ctx, &cip.AdminResetUserPasswordInput{UserPoolId: aws.String(pool), Username: aws.String("nobody")})
	wantErr(t, err, "UserNotFoundException")
}
