package integration_test

import (
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/cognate-auth/cognate/srp"
)

// userAuthPool is a pool whose sign-in policy allows factors, with a
// client that allows USER_AUTH (and the password flows).
func (e *env) userAuthPool(factors ...types.AuthFactorType) (pool, client string) {
	e.t.Helper()
	pool = aws.ToString(must(e.api.CreateUserPool(e.ctx, &cip.CreateUserPoolInput{
		PoolName: aws.String("userauth"), UsernameAttributes: []types.UsernameAttributeType{types.UsernameAttributeTypeEmail},
		AutoVerifiedAttributes: []types.VerifiedAttributeType{types.VerifiedAttributeTypeEmail},
		Policies:               &types.UserPoolPolicyType{SignInPolicy: &types.SignInPolicyType{AllowedFirstAuthFactors: factors}},
	}))(e.t).UserPool.Id)
	client, _ = e.newClient(pool, func(in *cip.CreateUserPoolClientInput) {
		in.ExplicitAuthFlows = append(slices.Clone(allFlows), types.ExplicitAuthFlowsTypeAllowUserAuth)
	})
	return pool, client
}

// userAuthUser creates a confirmed user with a verified email and phone
// number and, unless pw is empty, a permanent password; it returns the
// username (the sub).
func (e *env) userAuthUser(pool, email, phone, pw string) string {
	e.t.Helper()
	out := must(e.api.AdminCreateUser(e.ctx, &cip.AdminCreateUserInput{
		UserPoolId: aws.String(pool), Username: aws.String(email), MessageAction: types.MessageActionTypeSuppress,
		UserAttributes: []types.AttributeType{attrT("email_verified", "true"), attrT("phone_number", phone), attrT("phone_number_verified", "true")},
	}))(e.t)
	name := aws.ToString(out.User.Username)
	if pw != "" {
		must(e.api.AdminSetUserPassword(e.ctx, &cip.AdminSetUserPasswordInput{
			UserPoolId: aws.String(pool), Username: aws.String(name), Password: aws.String(pw), Permanent: true,
		}))(e.t)
	}
	return name
}

func (e *env) userAuth(client, user string, params map[string]string) (*cip.InitiateAuthOutput, error) {
	ap := map[string]string{"USERNAME": user}
	for k, v := range params {
		ap[k] = v
	}
	return e.api.InitiateAuth(e.ctx, &cip.InitiateAuthInput{AuthFlow: types.AuthFlowTypeUserAuth, ClientId: aws.String(client), AuthParameters: ap})
}

// challengeOut is what InitiateAuth and RespondToAuthChallenge share.
type challengeOut struct {
	name   types.ChallengeNameType
	sess   *string
	params map[string]string
	avail  []types.ChallengeNameType
	tokens *types.AuthenticationResultType
}

func fromInitiate(o *cip.InitiateAuthOutput) challengeOut {
	return challengeOut{o.ChallengeName, o.Session, o.ChallengeParameters, o.AvailableChallenges, o.AuthenticationResult}
}

func fromRespond(o *cip.RespondToAuthChallengeOutput) challengeOut {
	return challengeOut{o.ChallengeName, o.Session, o.ChallengeParameters, nil, o.AuthenticationResult}
}

func TestUserAuthSignInPolicy(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	pool, _ := e.userAuthPool(types.AuthFactorTypePassword, types.AuthFactorTypeEmailOtp)
	got := must(e.api.DescribeUserPool(e.ctx, &cip.DescribeUserPoolInput{UserPoolId: aws.String(pool)}))(t).UserPool.Policies.SignInPolicy
	if got == nil || !slices.Equal(got.AllowedFirstAuthFactors, []types.AuthFactorType{"PASSWORD", "EMAIL_OTP"}) {
		t.Fatalf("SignInPolicy = %+v", got)
	}
	def := must(e.api.DescribeUserPool(e.ctx, &cip.DescribeUserPoolInput{UserPoolId: aws.String(e.pool)}))(t).UserPool.Policies.SignInPolicy
	if def == nil || !slices.Equal(def.AllowedFirstAuthFactors, []types.AuthFactorType{"PASSWORD"}) {
		t.Fatalf("default SignInPolicy = %+v", def)
	}
	_, err := e.api.CreateUserPool(e.ctx, &cip.CreateUserPoolInput{PoolName: aws.String("bad"),
		Policies: &types.UserPoolPolicyType{SignInPolicy: &types.SignInPolicyType{AllowedFirstAuthFactors: []types.AuthFactorType{"FACE_ID"}}}})
	wantErr(t, err, "InvalidParameterException")
}

func TestUserAuthFirstFactors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	pool, client := e.userAuthPool(types.AuthFactorTypePassword, types.AuthFactorTypeEmailOtp, types.AuthFactorTypeSmsOtp)
	const email, phone = "ua@example.com", "+15550001234"
	user := e.userAuthUser(pool, email, phone, password)

	respond := func(t *testing.T, name types.ChallengeNameType, sess *string, cr map[string]string) challengeOut {
		t.Helper()
		cr["USERNAME"] = user
		return fromRespond(must(e.respond(client, name, sess, cr))(t))
	}
	srpVerify := func(t *testing.T, c challengeOut, a *srpState) challengeOut {
		t.Helper()
		if c.name != types.ChallengeNameTypePasswordVerifier {
			t.Fatalf("challenge %q, want PASSWORD_VERIFIER", c.name)
		}
		return fromRespond(must(e.respond(client, c.name, c.sess, e.srpAnswer(a.c, c.params, password)))(t))
	}
	code := func(t *testing.T, dest string, c challengeOut, medium string) string {
		t.Helper()
		if c.params["CODE_DELIVERY_DELIVERY_MEDIUM"] != medium || c.params["CODE_DELIVERY_DESTINATION"] == "" {
			t.Fatalf("challenge parameters %v, want delivery by %s", c.params, medium)
		}
		return e.code(dest, "sign_in_code")
	}
	tests := []struct {
		name string
		run  func(t *testing.T) challengeOut
	}{
		{"preferred PASSWORD with the password", func(t *testing.T) challengeOut {
			return fromInitiate(must(e.userAuth(client, email, map[string]string{"PREFERRED_CHALLENGE": "PASSWORD", "PASSWORD": password}))(t))
		}},
		{"preferred PASSWORD, then the PASSWORD challenge", func(t *testing.T) challengeOut {
			c := fromInitiate(must(e.userAuth(client, email, map[string]string{"PREFERRED_CHALLENGE": "PASSWORD"}))(t))
			if c.name != "PASSWORD" {
				t.Fatalf("challenge %q, want PASSWORD", c.name)
			}
			return respond(t, c.name, c.sess, map[string]string{"PASSWORD": password})
		}},
		{"preferred PASSWORD_SRP", func(t *testing.T) challengeOut {
			a := newSRPState(t, pool)
			c := fromInitiate(must(e.userAuth(client, email, map[string]string{"PREFERRED_CHALLENGE": "PASSWORD_SRP", "SRP_A": a.A}))(t))
			return srpVerify(t, c, a)
		}},
		{"preferred EMAIL_OTP", func(t *testing.T) challengeOut {
			c := fromInitiate(must(e.userAuth(client, email, map[string]string{"PREFERRED_CHALLENGE": "EMAIL_OTP"}))(t))
			if c.name != "EMAIL_OTP" {
				t.Fatalf("challenge %q, want EMAIL_OTP", c.name)
			}
			otp := code(t, email, c, "EMAIL")
			if len(otp) != 8 {
				t.Fatalf("email code %q: want 8 digits", otp)
			}
			return respond(t, c.name, c.sess, map[string]string{"EMAIL_OTP_CODE": otp})
		}},
		{"preferred SMS_OTP", func(t *testing.T) challengeOut {
			c := fromInitiate(must(e.userAuth(client, email, map[string]string{"PREFERRED_CHALLENGE": "SMS_OTP"}))(t))
			if c.name != "SMS_OTP" || c.params["CODE_DELIVERY_DESTINATION"] != "+*******1234" {
				t.Fatalf("challenge %q %v, want SMS_OTP to +*******1234", c.name, c.params)
			}
			return respond(t, c.name, c.sess, map[string]string{"SMS_OTP_CODE": code(t, phone, c, "SMS")})
		}},
		{"SELECT_CHALLENGE, EMAIL_OTP", func(t *testing.T) challengeOut {
			c := e.selectChallenge(t, client, email)
			c = respond(t, c.name, c.sess, map[string]string{"ANSWER": "EMAIL_OTP"})
			return respond(t, c.name, c.sess, map[string]string{"EMAIL_OTP_CODE": code(t, email, c, "EMAIL")})
		}},
		{"SELECT_CHALLENGE, PASSWORD", func(t *testing.T) challengeOut {
			c := e.selectChallenge(t, client, email)
			return respond(t, c.name, c.sess, map[string]string{"ANSWER": "PASSWORD", "PASSWORD": password})
		}},
		{"SELECT_CHALLENGE, PASSWORD_SRP", func(t *testing.T) challengeOut {
			c := e.selectChallenge(t, client, email)
			a := newSRPState(t, pool)
			return srpVerify(t, respond(t, c.name, c.sess, map[string]string{"ANSWER": "PASSWORD_SRP", "SRP_A": a.A}), a)
		}},
		{"preferred factor the pool lacks falls back to SELECT_CHALLENGE", func(t *testing.T) challengeOut {
			c := fromInitiate(must(e.userAuth(client, email, map[string]string{"PREFERRED_CHALLENGE": "WEB_AUTHN"}))(t))
			if c.name != "SELECT_CHALLENGE" {
				t.Fatalf("challenge %q, want SELECT_CHALLENGE", c.name)
			}
			return respond(t, c.name, c.sess, map[string]string{"ANSWER": "PASSWORD", "PASSWORD": password})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.run(t)
			if c.tokens == nil || c.tokens.AccessToken == nil {
				t.Fatalf("no tokens: challenge %q", c.name)
			}
			if got := claims(t, aws.ToString(c.tokens.AccessToken))["username"]; got != user {
				t.Fatalf("token username %v, want %s", got, user)
			}
		})
	}
	factors := must(e.api.GetUserAuthFactors(e.ctx, &cip.GetUserAuthFactorsInput{AccessToken: e.signInUserAuth(t, client, email)}))(t)
	if !slices.Equal(factors.ConfiguredUserAuthFactors, []types.AuthFactorType{"EMAIL_OTP", "SMS_OTP", "PASSWORD"}) || aws.ToString(factors.Username) != user {
		t.Fatalf("GetUserAuthFactors = %v %s", factors.ConfiguredUserAuthFactors, aws.ToString(factors.Username))
	}
}

// selectChallenge starts USER_AUTH with no preference and checks the
// SELECT_CHALLENGE that offers every factor of the test user.
func (e *env) selectChallenge(t *testing.T, client, email string) challengeOut {
	t.Helper()
	c := fromInitiate(must(e.userAuth(client, email, nil))(t))
	want := []types.ChallengeNameType{"EMAIL_OTP", "SMS_OTP", "PASSWORD", "PASSWORD_SRP"}
	if c.name != "SELECT_CHALLENGE" || !slices.Equal(c.avail, want) || c.sess == nil {
		t.Fatalf("challenge %q, AvailableChallenges %v; want SELECT_CHALLENGE with %v", c.name, c.avail, want)
	}
	return c
}

// signInUserAuth signs in with USER_AUTH and the password.
func (e *env) signInUserAuth(t *testing.T, client, email string) *string {
	t.Helper()
	out := must(e.userAuth(client, email, map[string]string{"PREFERRED_CHALLENGE": "PASSWORD", "PASSWORD": password}))(t)
	if out.AuthenticationResult == nil {
		t.Fatalf("no tokens: challenge %q", out.ChallengeName)
	}
	return out.AuthenticationResult.AccessToken
}

// srpState is a client's side of an SRP exchange with a pool.
type srpState struct {
	c *srp.Client
	A string
}

func newSRPState(t *testing.T, pool string) *srpState {
	t.Helper()
	c, err := srp.NewClient(pool)
	if err != nil {
		t.Fatal(err)
	}
	return &srpState{c: c, A: c.AHex()}
}

func TestUserAuthBadInput(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	pool, client := e.userAuthPool(types.AuthFactorTypePassword, types.AuthFactorTypeEmailOtp)
	other, _ := e.newClient(pool, func(in *cip.CreateUserPoolClientInput) {
		in.ExplicitAuthFlows = []types.ExplicitAuthFlowsType{types.ExplicitAuthFlowsTypeAllowUserAuth}
	})
	const email, email2 = "bad@example.com", "bad2@example.com"
	user := e.userAuthUser(pool, email, "+15550009999", password)
	user2 := e.userAuthUser(pool, email2, "+15550008888", password)
	pwOnlyPool, pwOnlyClient := e.userAuthPool(types.AuthFactorTypePassword)
	e.userAuthUser(pwOnlyPool, email, "+15550007777", password)

	// emailOTP starts an EMAIL_OTP sign-in of email and returns the
	// challenge and the code sent.
	emailOTP := func(t *testing.T, email string) (challengeOut, string) {
		t.Helper()
		c := fromInitiate(must(e.userAuth(client, email, map[string]string{"PREFERRED_CHALLENGE": "EMAIL_OTP"}))(t))
		if c.name != "EMAIL_OTP" {
			t.Fatalf("challenge %q, want EMAIL_OTP", c.name)
		}
		return c, e.code(email, "sign_in_code")
	}
	wrong := func(code string) string {
		return string(rune('0'+(code[0]-'0'+1)%10)) + code[1:]
	}
	tests := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"client without ALLOW_USER_AUTH", func(t *testing.T) {
			_, err := e.userAuth(e.pub, "x@example.com", nil)
			wantErr(t, err, "InvalidParameterException")
		}},
		{"wrong code, then the right one on the same Session", func(t *testing.T) {
			c, code := emailOTP(t, email)
			_, err := e.respond(client, c.name, c.sess, map[string]string{"USERNAME": user, "EMAIL_OTP_CODE": wrong(code)})
			wantErr(t, err, "CodeMismatchException")
			out := must(e.respond(client, c.name, c.sess, map[string]string{"USERNAME": user, "EMAIL_OTP_CODE": code}))(t)
			if out.AuthenticationResult == nil {
				t.Fatal("no tokens for the right code")
			}
		}},
		{"replayed code", func(t *testing.T) {
			c, code := emailOTP(t, email)
			must(e.respond(client, c.name, c.sess, map[string]string{"USERNAME": user, "EMAIL_OTP_CODE": code}))(t)
			_, err := e.respond(client, c.name, c.sess, map[string]string{"USERNAME": user, "EMAIL_OTP_CODE": code})
			wantMessage(t, err, "NotAuthorizedException", "Invalid session for the user, session is expired.")
		}},
		{"a newer code voids the older Session", func(t *testing.T) {
			c1, _ := emailOTP(t, email)
			_, code2 := emailOTP(t, email)
			_, err := e.respond(client, c1.name, c1.sess, map[string]string{"USERNAME": user, "EMAIL_OTP_CODE": code2})
			wantErr(t, err, "CodeMismatchException")
		}},
		{"Session used for another user", func(t *testing.T) {
			c, code := emailOTP(t, email)
			_, err := e.respond(client, c.name, c.sess, map[string]string{"USERNAME": user2, "EMAIL_OTP_CODE": code})
			wantMessage(t, err, "NotAuthorizedException", "Invalid session for the user, session is expired.")
			_, err = e.respond(client, "SELECT_CHALLENGE", e.selectSession(t, client, email), map[string]string{"USERNAME": email2, "ANSWER": "PASSWORD", "PASSWORD": password})
			wantErr(t, err, "NotAuthorizedException")
		}},
		{"Session used through another client", func(t *testing.T) {
			c, code := emailOTP(t, email)
			_, err := e.respond(other, c.name, c.sess, map[string]string{"USERNAME": user, "EMAIL_OTP_CODE": code})
			wantErr(t, err, "NotAuthorizedException")
		}},
		{"Session answered with another challenge", func(t *testing.T) {
			c, _ := emailOTP(t, email)
			_, err := e.respond(client, "PASSWORD", c.sess, map[string]string{"USERNAME": user, "PASSWORD": password})
			wantErr(t, err, "NotAuthorizedException")
		}},
		{"SELECT_CHALLENGE Session used twice", func(t *testing.T) {
			sess := e.selectSession(t, client, email)
			must(e.respond(client, "SELECT_CHALLENGE", sess, map[string]string{"USERNAME": email, "ANSWER": "PASSWORD", "PASSWORD": password}))(t)
			_, err := e.respond(client, "SELECT_CHALLENGE", sess, map[string]string{"USERNAME": email, "ANSWER": "PASSWORD", "PASSWORD": password})
			wantMessage(t, err, "NotAuthorizedException", "Invalid session for the user, session is expired.")
		}},
		{"a factor the pool does not allow", func(t *testing.T) {
			c := fromInitiate(must(e.userAuth(pwOnlyClient, email, map[string]string{"PREFERRED_CHALLENGE": "EMAIL_OTP"}))(t))
			if c.name != "SELECT_CHALLENGE" || !slices.Equal(c.avail, []types.ChallengeNameType{"PASSWORD", "PASSWORD_SRP"}) {
				t.Fatalf("challenge %q %v, want SELECT_CHALLENGE with the password factors", c.name, c.avail)
			}
			_, err := e.respond(pwOnlyClient, c.name, c.sess, map[string]string{"USERNAME": email, "ANSWER": "EMAIL_OTP"})
			wantErr(t, err, "InvalidParameterException")
		}},
		{"unknown PREFERRED_CHALLENGE", func(t *testing.T) {
			_, err := e.userAuth(client, email, map[string]string{"PREFERRED_CHALLENGE": "CARRIER_PIGEON"})
			wantErr(t, err, "InvalidParameterException")
		}},
		{"forged Session", func(t *testing.T) {
			_, err := e.respond(client, "SELECT_CHALLENGE", aws.String("AAAA"+"bm90IGEgc2Vzc2lvbg=="), map[string]string{"USERNAME": email, "ANSWER": "PASSWORD", "PASSWORD": password})
			wantErr(t, err, "NotAuthorizedException")
		}},
		{"unknown user looks like a real one", func(t *testing.T) {
			c := fromInitiate(must(e.userAuth(client, "nobody@example.com", map[string]string{"PREFERRED_CHALLENGE": "EMAIL_OTP"}))(t))
			if c.name != "EMAIL_OTP" || c.params["CODE_DELIVERY_DESTINATION"] != "n***@e***" {
				t.Fatalf("challenge %q %v, want a simulated EMAIL_OTP delivery", c.name, c.params)
			}
			_, err := e.respond(client, c.name, c.sess, map[string]string{"USERNAME": "nobody@example.com", "EMAIL_OTP_CODE": "12345678"})
			wantErr(t, err, "CodeMismatchException")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, tt.run)
	}
}

// selectSession starts USER_AUTH with no preference and returns the
// SELECT_CHALLENGE Session.
func (e *env) selectSession(t *testing.T, client, email string) *string {
	t.Helper()
	c := fromInitiate(must(e.userAuth(client, email, nil))(t))
	if c.name != "SELECT_CHALLENGE" {
		t.Fatalf("challenge %q, want SELECT_CHALLENGE", c.name)
	}
	return c.sess
}

func TestUserAuthCodeGuessesLock(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	pool, client := e.userAuthPool(types.AuthFactorTypePassword, types.AuthFactorTypeEmailOtp)
	const email = "lock@example.com"
	user := e.userAuthUser(pool, email, "+15550006666", password)
	c := fromInitiate(must(e.userAuth(client, email, map[string]string{"PREFERRED_CHALLENGE": "EMAIL_OTP"}))(t))
	var err error
	for i := range 6 {
		_, err = e.respond(client, c.name, c.sess, map[string]string{"USERNAME": user, "EMAIL_OTP_CODE": "0000000" + string(rune('0'+i))})
	}
	wantErr(t, err, "LimitExceededException")
	// Locked: even the right code is refused until the lock passes.
	_, err = e.respond(client, c.name, c.sess, map[string]string{"USERNAME": user, "EMAIL_OTP_CODE": e.code(email, "sign_in_code")})
	wantErr(t, err, "LimitExceededException")
}

func TestPasswordlessUsers(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	pool, client := e.userAuthPool(types.AuthFactorTypePassword, types.AuthFactorTypeEmailOtp)
	tests := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"SignUp without a password, then sign-in with the sign-up Session", func(t *testing.T) {
			const email = "nopw@example.com"
			up := must(e.api.SignUp(e.ctx, &cip.SignUpInput{ClientId: aws.String(client), Username: aws.String(email)}))(t)
			if up.Session == nil {
				t.Fatal("SignUp returned no Session")
			}
			// Before confirmation the sign-up Session does not sign in.
			_, err := e.api.InitiateAuth(e.ctx, &cip.InitiateAuthInput{AuthFlow: types.AuthFlowTypeUserAuth, ClientId: aws.String(client),
				AuthParameters: map[string]string{"USERNAME": email}, Session: up.Session})
			wantErr(t, err, "UserNotConfirmedException")
			conf := must(e.api.ConfirmSignUp(e.ctx, &cip.ConfirmSignUpInput{ClientId: aws.String(client), Username: aws.String(email),
				ConfirmationCode: aws.String(e.code(email, "sign_up"))}))(t)
			if conf.Session == nil {
				t.Fatal("ConfirmSignUp returned no Session")
			}
			auto := func(name string) (*cip.InitiateAuthOutput, error) {
				return e.api.InitiateAuth(e.ctx, &cip.InitiateAuthInput{AuthFlow: types.AuthFlowTypeUserAuth, ClientId: aws.String(client),
					AuthParameters: map[string]string{"USERNAME": name}, Session: conf.Session})
			}
			_, err = auto("someone-else@example.com")
			wantMessage(t, err, "NotAuthorizedException", "Invalid session for the user, session is expired.")
			out := must(auto(email))(t)
			if out.AuthenticationResult == nil {
				t.Fatalf("no tokens: challenge %q", out.ChallengeName)
			}
			_, err = auto(email)
			wantMessage(t, err, "NotAuthorizedException", "Invalid session for the user, session is expired.")
			// The user has no password: the password flows refuse it, the
			// email code signs it in.
			_, err = e.passwordAuth(client, email, password)
			wantMessage(t, err, "NotAuthorizedException", "Incorrect username or password.")
			c, cp := mustSRP(t)(e.srpStart(pool, client, email, nil))
			_, err = e.respond(client, types.ChallengeNameTypePasswordVerifier, nil, e.srpAnswer(c, cp, password))
			wantMessage(t, err, "NotAuthorizedException", "Incorrect username or password.")
			sel := fromInitiate(must(e.userAuth(client, email, nil))(t))
			if !slices.Equal(sel.avail, []types.ChallengeNameType{"EMAIL_OTP"}) {
				t.Fatalf("AvailableChallenges %v, want EMAIL_OTP alone", sel.avail)
			}
			_, err = e.respond(client, sel.name, sel.sess, map[string]string{"USERNAME": email, "ANSWER": "PASSWORD", "PASSWORD": password})
			wantErr(t, err, "InvalidParameterException")
			otp := fromRespond(must(e.respond(client, sel.name, sel.sess, map[string]string{"USERNAME": email, "ANSWER": "EMAIL_OTP"}))(t))
			done := must(e.respond(client, otp.name, otp.sess, map[string]string{"USERNAME": email, "EMAIL_OTP_CODE": e.code(email, "sign_in_code")}))(t)
			if done.AuthenticationResult == nil {
				t.Fatal("no tokens for the email code")
			}
			f := must(e.api.GetUserAuthFactors(e.ctx, &cip.GetUserAuthFactorsInput{AccessToken: done.AuthenticationResult.AccessToken}))(t)
			if !slices.Equal(f.ConfiguredUserAuthFactors, []types.AuthFactorType{"EMAIL_OTP"}) {
				t.Fatalf("ConfiguredUserAuthFactors %v, want EMAIL_OTP", f.ConfiguredUserAuthFactors)
			}
		}},
		{"SignUp without a password where the pool has no passwordless factor", func(t *testing.T) {
			_, err := e.api.SignUp(e.ctx, &cip.SignUpInput{ClientId: aws.String(e.pub), Username: aws.String("pw@example.com")})
			wantErr(t, err, "InvalidParameterException")
		}},
		{"AdminCreateUser without a temporary password", func(t *testing.T) {
			out := must(e.api.AdminCreateUser(e.ctx, &cip.AdminCreateUserInput{
				UserPoolId: aws.String(pool), Username: aws.String("admin-nopw@example.com"), MessageAction: types.MessageActionTypeSuppress,
				UserAttributes: []types.AttributeType{attrT("email_verified", "true")},
			}))(t)
			if out.User.UserStatus != types.UserStatusTypeConfirmed {
				t.Fatalf("status %s, want CONFIRMED", out.User.UserStatus)
			}
			_, err := e.passwordAuth(client, "admin-nopw@example.com", password)
			wantErr(t, err, "NotAuthorizedException")
			c := fromInitiate(must(e.userAuth(client, "admin-nopw@example.com", map[string]string{"PREFERRED_CHALLENGE": "EMAIL_OTP"}))(t))
			done := must(e.respond(client, c.name, c.sess, map[string]string{"USERNAME": "admin-nopw@example.com", "EMAIL_OTP_CODE": e.code("admin-nopw@example.com", "sign_in_code")}))(t)
			if done.AuthenticationResult == nil {
				t.Fatal("no tokens for the email code")
			}
		}},
		{"autoSignIn after a sign-up with a password", func(t *testing.T) {
			const email = "withpw@example.com"
			must(e.api.SignUp(e.ctx, &cip.SignUpInput{ClientId: aws.String(client), Username: aws.String(email), Password: aws.String(password)}))(t)
			conf := must(e.api.ConfirmSignUp(e.ctx, &cip.ConfirmSignUpInput{ClientId: aws.String(client), Username: aws.String(email),
				ConfirmationCode: aws.String(e.code(email, "sign_up"))}))(t)
			out := must(e.api.InitiateAuth(e.ctx, &cip.InitiateAuthInput{AuthFlow: types.AuthFlowTypeUserAuth, ClientId: aws.String(client),
				AuthParameters: map[string]string{"USERNAME": email}, Session: conf.Session}))(t)
			if out.AuthenticationResult == nil {
				t.Fatalf("no tokens: challenge %q", out.ChallengeName)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, tt.run)
	}
}
