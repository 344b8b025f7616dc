package integration_test

import (
	"bytes"
	"crypto"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math/big"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/cognate-auth/cognate/server"
	"github.com/cognate-auth/cognate/srp"
)

// maxBody is the protocol's request size limit (cognitoapi.MaxBodyBytes).
const maxBody = 64 << 10

// TestProtocolErrors sends what no SDK would: broken JSON, wrong shapes,
// unknown or missing targets, oversized bodies. Each is a 4xx with an AWS
// error body, and none of them creates anything.
func TestProtocolErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	signUp := targetPrefix + "SignUp"
	valid := `"ClientId":"` + e.pub + `","Username":"p@example.com","Password":"` + password + `"`
	cases := []struct {
		name   string
		target string
		body   string
		status int
		typ    string
	}{
		{"malformed JSON", signUp, `{"ClientId":`, 400, "SerializationException"},
		{"not JSON", signUp, `ClientId=abc`, 400, "SerializationException"},
		{"JSON array", signUp, `[{` + valid + `}]`, 400, "SerializationException"},
		{"JSON string", signUp, `"hello"`, 400, "SerializationException"},
		{"JSON null", signUp, `null`, 400, "SerializationException"},
		{"number for string", signUp, `{"ClientId":5,"Username":"p@example.com","Password":"x"}`, 400, "SerializationException"},
		{"object for string", signUp, `{` + valid + `,"Username":{"a":1}}`, 400, "SerializationException"},
		{"string for list", signUp, `{` + valid + `,"UserAttributes":"email"}`, 400, "SerializationException"},
		{"number in map", targetPrefix + "InitiateAuth", `{"ClientId":"x","AuthFlow":"USER_SRP_AUTH","AuthParameters":{"USERNAME":1}}`, 400, "SerializationException"},
		{"list for map", targetPrefix + "InitiateAuth", `{"ClientId":"x","AuthParameters":[]}`, 400, "SerializationException"},
		{"trailing data", signUp, `{` + valid + `} {}`, 400, "SerializationException"},
		{"trailing bracket", signUp, `{` + valid + `}]`, 400, "SerializationException"},
		{"trailing brace", signUp, `{` + valid + `}}`, 400, "SerializationException"},
		{"unknown operation", targetPrefix + "StealEverything", `{}`, 400, "UnknownOperationException"},
		{"another service", "AmazonS3.PutObject", `{}`, 400, "UnknownOperationException"},
		{"prefix only", targetPrefix, `{}`, 400, "UnknownOperationException"},
		{"no prefix", "SignUp", `{` + valid + `}`, 400, "UnknownOperationException"},
		{"missing target", "", `{` + valid + `}`, 400, "UnknownOperationException"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			wantRaw(t, e.raw(tc.target, []byte(tc.body)), tc.status, tc.typ)
		})
	}

	t.Run("wrong method", func(t *testing.T) {
		req, _ := http.NewRequestWithContext(e.ctx, http.MethodPut, e.url+"/", strings.NewReader(`{`+valid+`}`))
		req.Header.Set("X-Amz-Target", signUp)
		wantRaw(t, e.do(req), http.StatusMethodNotAllowed, "UnknownOperationException")
	})

	t.Run("body limit", func(t *testing.T) {
		pad := func(n int) []byte {
			head := `{` + valid + `,"UserAttributes":[{"Name":"given_name","Value":"`
			tail := `"}]}`
			return []byte(head + strings.Repeat("x", n-len(head)-len(tail)) + tail)
		}
		// At the limit the body is parsed (and refused for its content).
		r := e.raw(signUp, pad(maxBody))
		wantRaw(t, r, 400, "InvalidParameterException")
		// One byte more is refused before parsing, with or without a
		// Content-Length.
		wantRaw(t, e.raw(signUp, pad(maxBody+1)), http.StatusRequestEntityTooLarge, "SerializationException")
		wantRaw(t, e.raw(signUp, pad(10*maxBody)), http.StatusRequestEntityTooLarge, "SerializationException")
		req, _ := http.NewRequestWithContext(e.ctx, http.MethodPost, e.url+"/", io.MultiReader(bytes.NewReader(pad(maxBody+1))))
		req.Header.Set("X-Amz-Target", signUp)
		if req.ContentLength != 0 {
			t.Fatalf("want a chunked request, ContentLength %d", req.ContentLength)
		}
		wantRaw(t, e.do(req), http.StatusRequestEntityTooLarge, "SerializationException")
		// Signed admin requests get the same limit.
		wantRaw(t, e.signedRaw("ListUsers", pad(maxBody+1)), http.StatusRequestEntityTooLarge, "SerializationException")
	})

	t.Run("numbers out of range", func(t *testing.T) {
		wantRaw(t, e.signedRaw("ListUsers", []byte(`{"UserPoolId":"`+e.pool+`","Limit":1e400}`)), 400, "SerializationException")
		wantRaw(t, e.signedRaw("ListUsers", []byte(`{"UserPoolId":"`+e.pool+`","Limit":99999999999999999999}`)), 400, "SerializationException")
		wantRaw(t, e.signedRaw("ListUsers", []byte(`{"UserPoolId":"`+e.pool+`","Limit":1.5}`)), 400, "SerializationException")
		wantRaw(t, e.signedRaw("ListUsers", []byte(`{"UserPoolId":"`+e.pool+`","Limit":9999999999}`)), 400, "InvalidParameterException")
	})

	// After all that, nobody signed up and no code went out.
	if n := e.countUsers(e.pool); n != 0 {
		t.Fatalf("%d users created by refused requests", n)
	}
	if n := len(e.outbox()); n != 0 {
		t.Fatalf("%d messages sent by refused requests", n)
	}
	// The same body, well-formed, works: the refusals were about form.
	r := e.raw(signUp, []byte(`{`+valid+`}`))
	if r.status != 200 || r.header.Get("Content-Type") != "application/x-amz-json-1.1" || r.header.Get("x-amzn-RequestId") == "" {
		t.Fatalf("valid SignUp: %d %v %s", r.status, r.header, r.body)
	}
	// An operation with no output answers {} (Amplify parses every body).
	r = e.raw(targetPrefix+"RevokeToken", []byte(`{"ClientId":"`+e.pub+`","Token":"unknown"}`))
	if r.status != 200 || strings.TrimSpace(string(r.body)) != "{}" {
		t.Fatalf("RevokeToken: %d %q", r.status, r.body)
	}
	// An empty body is {}: the missing members are named.
	r = e.raw(signUp, nil)
	wantRaw(t, r, 400, "InvalidParameterException")

	t.Run("CORS", func(t *testing.T) {
		req, _ := http.NewRequestWithContext(e.ctx, http.MethodOptions, e.url+"/", nil)
		req.Header.Set("Origin", "http://localhost:3000")
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "content-type,x-amz-target,x-amz-user-agent")
		pre := e.do(req)
		if pre.status/100 != 2 || pre.header.Get("Access-Control-Allow-Origin") != "*" ||
			!strings.Contains(pre.header.Get("Access-Control-Allow-Headers"), "x-amz-target") {
			t.Fatalf("preflight %d %v", pre.status, pre.header)
		}
		// Errors carry CORS headers too, or browsers hide them from Amplify.
		r := e.raw(targetPrefix+"Nope", []byte(`{}`), "Origin", "http://localhost:3000")
		if r.header.Get("Access-Control-Allow-Origin") != "*" || !strings.Contains(r.header.Get("Access-Control-Expose-Headers"), "x-amzn-ErrorType") {
			t.Fatalf("error response headers %v", r.header)
		}
	})
}

// TestMissingFields: a missing required member is an
// InvalidParameterException that names it, for the SDK-validated members
// the SDK would never let through.
func TestMissingFields(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	pub := `"ClientId":"` + e.pub + `"`
	pool := `"UserPoolId":"` + e.pool + `"`
	fixed, _ := e.newClient(e.pool, rotation(false, 0))
	cases := []struct {
		op     string
		signed bool
		body   string
		field  string
	}{
		{"InitiateAuth", false, `{}`, "clientId"},
		{"InitiateAuth", false, `{` + pub + `}`, "authFlow"},
		{"InitiateAuth", false, `{` + pub + `,"AuthFlow":"USER_SRP_AUTH","AuthParameters":{"SRP_A":"1234"}}`, "USERNAME"},
		{"InitiateAuth", false, `{` + pub + `,"AuthFlow":"USER_SRP_AUTH","AuthParameters":{"USERNAME":"a@example.com"}}`, "SRP_A"},
		{"InitiateAuth", false, `{` + pub + `,"AuthFlow":"USER_PASSWORD_AUTH","AuthParameters":{"USERNAME":"a@example.com"}}`, "PASSWORD"},
		{"InitiateAuth", false, `{` + pub + `,"AuthFlow":"USER_PASSWORD_AUTH"}`, "USERNAME"},
		{"InitiateAuth", false, `{"ClientId":"` + fixed + `","AuthFlow":"REFRESH_TOKEN_AUTH","AuthParameters":{}}`, "REFRESH_TOKEN"},
		{"RespondToAuthChallenge", false, `{` + pub + `}`, "challengeName"},
		{"RespondToAuthChallenge", false, `{` + pub + `,"ChallengeName":"PASSWORD_VERIFIER","ChallengeResponses":{"USERNAME":"u","TIMESTAMP":"t","PASSWORD_CLAIM_SECRET_BLOCK":"b"}}`, "PASSWORD_CLAIM_SIGNATURE"},
		{"RespondToAuthChallenge", false, `{` + pub + `,"ChallengeName":"PASSWORD_VERIFIER","ChallengeResponses":{"USERNAME":"u","PASSWORD_CLAIM_SIGNATURE":"s","PASSWORD_CLAIM_SECRET_BLOCK":"b"}}`, "TIMESTAMP"},
		{"SignUp", false, `{}`, "clientId"},
		{"SignUp", false, `{` + pub + `,"Username":"a@example.com"}`, "password"},
		{"SignUp", false, `{` + pub + `,"Password":"` + password + `"}`, "username"},
		{"ConfirmSignUp", false, `{` + pub + `,"Username":"a@example.com"}`, "confirmationCode"},
		{"ConfirmSignUp", false, `{` + pub + `,"ConfirmationCode":"123456"}`, "username"},
		{"ResendConfirmationCode", false, `{` + pub + `}`, "username"},
		{"ForgotPassword", false, `{` + pub + `}`, "username"},
		{"ConfirmForgotPassword", false, `{` + pub + `,"Username":"a@example.com","Password":"` + password + `"}`, "confirmationCode"},
		{"ConfirmForgotPassword", false, `{` + pub + `,"Username":"a@example.com","ConfirmationCode":"123456"}`, "password"},
		{"GetTokensFromRefreshToken", false, `{` + pub + `}`, "REFRESH_TOKEN"},
		{"RevokeToken", false, `{` + pub + `}`, "token"},
		{"GetUser", false, `{}`, "accessToken"},
		{"GlobalSignOut", false, `{}`, "accessToken"},
		{"ChangePassword", false, `{}`, "accessToken"},
		{"UpdateUserAttributes", false, `{}`, "accessToken"},
		{"DeleteUserAttributes", false, `{}`, "accessToken"},
		{"VerifyUserAttribute", false, `{}`, "accessToken"},
		{"GetUserAttributeVerificationCode", false, `{}`, "accessToken"},
		{"DeleteUser", false, `{}`, "accessToken"},
		{"CreateUserPool", true, `{}`, "poolName"},
		{"DescribeUserPool", true, `{}`, "userPoolId"},
		{"ListUserPools", true, `{}`, "maxResults"},
		{"CreateUserPoolClient", true, `{` + pool + `}`, "clientName"},
		{"CreateUserPoolClient", true, `{"ClientName":"x"}`, "userPoolId"},
		{"DescribeUserPoolClient", true, `{` + pool + `}`, "clientId"},
		{"UpdateUserPoolClient", true, `{` + pool + `}`, "clientId"},
		{"AdminCreateUser", true, `{}`, "userPoolId"},
		{"AdminCreateUser", true, `{` + pool + `}`, "username"},
		{"AdminGetUser", true, `{` + pool + `}`, "username"},
		{"AdminDeleteUser", true, `{` + pool + `}`, "username"},
		{"AdminConfirmSignUp", true, `{` + pool + `}`, "username"},
		{"AdminSetUserPassword", true, `{` + pool + `,"Username":"a@example.com"}`, "password"},
		{"AdminDisableUser", true, `{` + pool + `}`, "username"},
		{"AdminEnableUser", true, `{` + pool + `}`, "username"},
		{"AdminUserGlobalSignOut", true, `{` + pool + `}`, "username"},
		{"AdminAddUserToGroup", true, `{` + pool + `}`, "username"},
		{"AdminRemoveUserFromGroup", true, `{` + pool + `}`, "username"},
		{"CreateGroup", true, `{` + pool + `}`, "groupName"},
		{"ListGroups", true, `{}`, "userPoolId"},
		{"ListUsers", true, `{}`, "userPoolId"},
		{"AdminListGroupsForUser", true, `{` + pool + `}`, "username"},
	}
	for _, tc := range cases {
		t.Run(tc.op+" "+tc.field, func(t *testing.T) {
			var r rawResult
			if tc.signed {
				r = e.signedRaw(tc.op, []byte(tc.body))
			} else {
				r = e.raw(targetPrefix+tc.op, []byte(tc.body))
			}
			wantRaw(t, r, 400, "InvalidParameterException")
			if !strings.Contains(strings.ToLower(r.msg), strings.ToLower(tc.field)) {
				t.Fatalf("message %q does not name %s", r.msg, tc.field)
			}
		})
	}
	if n := e.countUsers(e.pool); n != 0 {
		t.Fatalf("%d users created", n)
	}
}

// TestUnknownClient: every operation authorised by client id answers
// ResourceNotFoundException for an unknown one.
func TestUnknownClient(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := aws.String("nosuchclient0000000000000")
	u, code := aws.String("a@example.com"), aws.String("123456")
	calls := map[string]func() error{
		"SignUp": func() error {
			_, err := e.api.SignUp(e.ctx, &cip.SignUpInput{ClientId: id, Username: u, Password: aws.String(password)})
			return err
		},
		"ConfirmSignUp": func() error {
			_, err := e.api.ConfirmSignUp(e.ctx, &cip.ConfirmSignUpInput{ClientId: id, Username: u, ConfirmationCode: code})
			return err
		},
		"ResendConfirmationCode": func() error {
			_, err := e.api.ResendConfirmationCode(e.ctx, &cip.ResendConfirmationCodeInput{ClientId: id, Username: u})
			return err
		},
		"InitiateAuth": func() error {
			_, err := e.passwordAuth(*id, *u, password)
			return err
		},
		"RespondToAuthChallenge": func() error {
			_, err := e.respond(*id, types.ChallengeNameTypePasswordVerifier, nil, map[string]string{"USERNAME": "x"})
			return err
		},
		"ForgotPassword": func() error {
			_, err := e.api.ForgotPassword(e.ctx, &cip.ForgotPasswordInput{ClientId: id, Username: u})
			return err
		},
		"ConfirmForgotPassword": func() error {
			_, err := e.api.ConfirmForgotPassword(e.ctx, &cip.ConfirmForgotPasswordInput{ClientId: id, Username: u, ConfirmationCode: code, Password: aws.String(password)})
			return err
		},
		"GetTokensFromRefreshToken": func() error {
			_, err := e.refresh(*id, "", aws.String("x"))
			return err
		},
		"RevokeToken": func() error {
			_, err := e.api.RevokeToken(e.ctx, &cip.RevokeTokenInput{ClientId: id, Token: aws.String("x")})
			return err
		},
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) { wantErr(t, call(), "ResourceNotFoundException") })
	}
	_, err := e.api.ListUsers(e.ctx, &cip.ListUsersInput{UserPoolId: aws.String("us-east-1_Nope12345")})
	wantErr(t, err, "ResourceNotFoundException")
}

// jwtParts splits a token into its decoded header and payload.
func jwtParts(t *testing.T, tok string) (header, payload map[string]any, sig string) {
	t.Helper()
	p := strings.Split(tok, ".")
	dec := func(s string) map[string]any {
		raw, err := b64url.DecodeString(s)
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]any{}
		d := json.NewDecoder(bytes.NewReader(raw))
		d.UseNumber()
		if err := d.Decode(&m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	return dec(p[0]), dec(p[1]), p[2]
}

func enc(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b64url.EncodeToString(b)
}

// TestForgedTokens: access tokens that are not exactly what the server
// signed, or that belong to a sign-in or user that is gone, are refused by
// every token-authorised operation, which then changes nothing.
func TestForgedTokens(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	sub := e.signUp(e.pub, "victim@example.com", attrT("given_name", "Vic"))
	otherSub := e.signUp(e.pub, "other@example.com")
	tok := e.signIn(e.pub, "victim@example.com", password)
	access := aws.ToString(tok.AccessToken)
	h, p, sig := jwtParts(t, access)
	hp := strings.Join(strings.Split(access, ".")[:2], ".")

	attacker, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	rs256 := func(key *rsa.PrivateKey, input string) string {
		d := sha256.Sum256([]byte(input))
		s, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, d[:])
		if err != nil {
			t.Fatal(err)
		}
		return b64url.EncodeToString(s)
	}
	with := func(m map[string]any, k string, v any) map[string]any {
		c := map[string]any{}
		for kk, vv := range m {
			c[kk] = vv
		}
		c[k] = v
		return c
	}
	none := enc(t, with(h, "alg", "none"))
	hs := enc(t, with(h, "alg", "HS256"))
	mac := hmac.New(sha256.New, []byte("secret"))
	mac.Write([]byte(hs + "." + enc(t, p)))
	expired := with(with(p, "exp", time.Now().Add(-time.Minute).Unix()), "iat", time.Now().Add(-61*time.Minute).Unix())
	expiredTok, err := e.srv.Service().Keys().Sign(e.ctx, e.pool, "access", expired)
	if err != nil {
		t.Fatal(err)
	}
	// Signed with the server's real key, but as an id-token key would.
	idKeyed, err := e.srv.Service().Keys().Sign(e.ctx, e.pool, "id", p)
	if err != nil {
		t.Fatal(err)
	}
	otherPool := aws.ToString(must(e.api.CreateUserPool(e.ctx, &cip.CreateUserPoolInput{PoolName: aws.String("elsewhere")}))(t).UserPool.Id)
	otherPoolKeyed, err := e.srv.Service().Keys().Sign(e.ctx, otherPool, "access", p)
	if err != nil {
		t.Fatal(err)
	}
	// A genuine token whose sign-in ended, and one whose user is gone.
	revoked := e.signIn(e.pub, "victim@example.com", password)
	must(e.api.RevokeToken(e.ctx, &cip.RevokeTokenInput{ClientId: aws.String(e.pub), Token: revoked.RefreshToken}))(t)
	e.signUp(e.pub, "gone@example.com")
	goneTok := e.signIn(e.pub, "gone@example.com", password)
	must(e.api.AdminDeleteUser(e.ctx, &cip.AdminDeleteUserInput{UserPoolId: aws.String(e.pool), Username: aws.String("gone@example.com")}))(t)
	// The deleted address, signed up again: a new user the old token must
	// not reach.
	e.signUp(e.pub, "gone@example.com")

	forged := []struct{ name, token string }{
		{"re-signed with another key", hp + "." + rs256(attacker, hp)},
		{"attacker key, attacker kid", enc(t, with(h, "kid", "attacker")) + "." + enc(t, p) + "." + rs256(attacker, enc(t, with(h, "kid", "attacker"))+"."+enc(t, p))},
		{"alg none, no signature", none + "." + enc(t, p) + "."},
		{"alg none, original signature", none + "." + enc(t, p) + "." + sig},
		{"alg HS256", hs + "." + enc(t, p) + "." + b64url.EncodeToString(mac.Sum(nil))},
		{"payload: other username", h0(hp) + "." + enc(t, with(p, "username", otherSub)) + "." + sig},
		{"payload: other sub", h0(hp) + "." + enc(t, with(p, "sub", otherSub)) + "." + sig},
		{"payload: later exp", h0(hp) + "." + enc(t, with(p, "exp", time.Now().Add(24*time.Hour).Unix())) + "." + sig},
		{"payload: scope", h0(hp) + "." + enc(t, with(p, "scope", "aws.cognito.signin.user.admin openid")) + "." + sig},
		{"signature truncated", access[:len(access)-4]},
		{"signature of zeros", hp + "." + b64url.EncodeToString(make([]byte, 256))},
		{"padded base64", hp + "." + base64.URLEncoding.EncodeToString([]byte("x"))},
		{"expired, real key", expiredTok},
		{"id-token key", idKeyed},
		{"id token", aws.ToString(tok.IdToken)},
		{"other pool's key", otherPoolKeyed},
		{"revoked sign-in", aws.ToString(revoked.AccessToken)},
		{"deleted user", aws.ToString(goneTok.AccessToken)},
		{"two segments", hp},
		{"four segments", access + ".x"},
		{"garbage", "not-a-token"},
		{"huge", strings.Repeat("A", 20000) + "." + strings.Repeat("A", 20000) + "." + strings.Repeat("A", 20000)},
		{"refresh token", aws.ToString(tok.RefreshToken)},
	}
	ops := map[string]func(at string) error{
		"GetUser": func(at string) error {
			_, err := e.getUser(aws.String(at))
			return err
		},
		"UpdateUserAttributes": func(at string) error {
			_, err := e.api.UpdateUserAttributes(e.ctx, &cip.UpdateUserAttributesInput{AccessToken: aws.String(at), UserAttributes: []types.AttributeType{attrT("given_name", "Pwned")}})
			return err
		},
		"DeleteUserAttributes": func(at string) error {
			_, err := e.api.DeleteUserAttributes(e.ctx, &cip.DeleteUserAttributesInput{AccessToken: aws.String(at), UserAttributeNames: []string{"given_name"}})
			return err
		},
		"ChangePassword": func(at string) error {
			_, err := e.api.ChangePassword(e.ctx, &cip.ChangePasswordInput{AccessToken: aws.String(at), PreviousPassword: aws.String(password), ProposedPassword: aws.String("Pwned-Pass-1")})
			return err
		},
		"GetUserAttributeVerificationCode": func(at string) error {
			_, err := e.api.GetUserAttributeVerificationCode(e.ctx, &cip.GetUserAttributeVerificationCodeInput{AccessToken: aws.String(at), AttributeName: aws.String("email")})
			return err
		},
		"VerifyUserAttribute": func(at string) error {
			_, err := e.api.VerifyUserAttribute(e.ctx, &cip.VerifyUserAttributeInput{AccessToken: aws.String(at), AttributeName: aws.String("email"), Code: aws.String("123456")})
			return err
		},
		"GlobalSignOut": func(at string) error {
			_, err := e.api.GlobalSignOut(e.ctx, &cip.GlobalSignOutInput{AccessToken: aws.String(at)})
			return err
		},
		"DeleteUser": func(at string) error {
			_, err := e.api.DeleteUser(e.ctx, &cip.DeleteUserInput{AccessToken: aws.String(at)})
			return err
		},
	}
	outbox := len(e.outbox())
	for _, f := range forged {
		t.Run(f.name, func(t *testing.T) {
			for name, op := range ops {
				err := op(f.token)
				if err == nil {
					t.Fatalf("%s accepted the token", name)
				}
				wantErr(t, err, "NotAuthorizedException")
			}
		})
	}
	wantMessage(t, ops["GetUser"](expiredTok), "NotAuthorizedException", "Access Token has expired")
	wantErr(t, ops["GetUser"](""), "InvalidParameterException")

	// Nothing happened to anyone.
	u := must(e.getUser(tok.AccessToken))(t)
	if aws.ToString(u.Username) != sub {
		t.Fatalf("GetUser %s", aws.ToString(u.Username))
	}
	if v, _ := attr(u.UserAttributes, "given_name"); v != "Vic" {
		t.Fatalf("given_name %q", v)
	}
	e.signIn(e.pub, "victim@example.com", password)
	must(e.refresh(e.pub, "", tok.RefreshToken))(t)
	must(e.adminGet(e.pool, otherSub))(t)
	must(e.adminGet(e.pool, "gone@example.com"))(t)
	if n := len(e.outbox()); n != outbox {
		t.Fatalf("%d codes sent on forged tokens", n-outbox)
	}
}

// h0 returns the header segment of "header.payload".
func h0(hp string) string { return hp[:strings.IndexByte(hp, '.')] }

// TestLockout: five wrong passwords lock the user for a second, doubling
// on each further failure; while locked even the right password is
// refused with "Password attempts exceeded".
func TestLockout(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.signUp(e.pub, "lock@example.com")
	wrong := func() error {
		_, err := e.passwordAuth(e.pub, "lock@example.com", "Wrong-Pass-1")
		return err
	}
	right := func() error {
		_, err := e.passwordAuth(e.pub, "lock@example.com", password)
		return err
	}
	const exceeded = "Password attempts exceeded"
	for i := 0; i < 4; i++ {
		wantMessage(t, wrong(), "NotAuthorizedException", "Incorrect username or password.")
	}
	// Four failures: no lock yet.
	if err := right(); err != nil {
		t.Fatalf("locked after four failures: %v", err)
	}
	// A success resets the count: five more are needed.
	for i := 0; i < 5; i++ {
		wantMessage(t, wrong(), "NotAuthorizedException", "Incorrect username or password.")
	}
	lockedAt := time.Now()
	wantMessage(t, right(), "NotAuthorizedException", exceeded)
	wantMessage(t, wrong(), "NotAuthorizedException", exceeded) // does not extend the lock
	_, _, err := e.srpStart(e.pool, e.pub, "lock@example.com", nil)
	wantMessage(t, err, "NotAuthorizedException", exceeded)
	time.Sleep(time.Until(lockedAt.Add(1100 * time.Millisecond)))

	// The sixth failure locks for two seconds.
	wantMessage(t, wrong(), "NotAuthorizedException", "Incorrect username or password.")
	lockedAt = time.Now()
	wantMessage(t, right(), "NotAuthorizedException", exceeded)
	time.Sleep(time.Until(lockedAt.Add(1100 * time.Millisecond)))
	wantMessage(t, right(), "NotAuthorizedException", exceeded)
	time.Sleep(time.Until(lockedAt.Add(2100 * time.Millisecond)))
	if err := right(); err != nil {
		t.Fatalf("still locked after the lock passed: %v", err)
	}
	// And that success reset everything.
	wantMessage(t, wrong(), "NotAuthorizedException", "Incorrect username or password.")
	if err := right(); err != nil {
		t.Fatal(err)
	}
}

// TestUserExistenceHidden: a caller cannot tell an unknown user from a
// wrong password, or a code sent from one that was not.
func TestUserExistenceHidden(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	sub := e.signUp(e.pub, "real@example.com")
	const ghost = "ghost@example.com"

	_, realCP := mustSRP(t)(e.srpStart(e.pool, e.pub, "real@example.com", nil))
	c, ghostCP := mustSRP(t)(e.srpStart(e.pool, e.pub, ghost, nil))
	if got, want := keysOf(ghostCP), keysOf(realCP); got != want {
		t.Fatalf("challenge parameters %s for an unknown user, %s for a real one", got, want)
	}
	for name, cp := range map[string]map[string]string{"real": realCP, "ghost": ghostCP} {
		if len(cp["SALT"]) != 32 || len(cp["SRP_B"]) < 700 || len(cp["SECRET_BLOCK"]) < 40 {
			t.Errorf("%s: SALT %d SRP_B %d SECRET_BLOCK %d characters", name, len(cp["SALT"]), len(cp["SRP_B"]), len(cp["SECRET_BLOCK"]))
		}
		// In an email pool the SRP user id is a UUID (the sub) for real
		// users; an unknown one must look the same.
		if !uuidRE.MatchString(cp["USER_ID_FOR_SRP"]) || cp["USERNAME"] != cp["USER_ID_FOR_SRP"] {
			t.Errorf("%s: USER_ID_FOR_SRP %q USERNAME %q", name, cp["USER_ID_FOR_SRP"], cp["USERNAME"])
		}
	}
	if realCP["USER_ID_FOR_SRP"] != sub {
		t.Fatalf("USER_ID_FOR_SRP %q, want %q", realCP["USER_ID_FOR_SRP"], sub)
	}
	// Probing twice gives the same salt and id, as for a real user.
	_, again := mustSRP(t)(e.srpStart(e.pool, e.pub, ghost, nil))
	_, realAgain := mustSRP(t)(e.srpStart(e.pool, e.pub, "real@example.com", nil))
	if again["SALT"] != ghostCP["SALT"] || again["USER_ID_FOR_SRP"] != ghostCP["USER_ID_FOR_SRP"] || realAgain["SALT"] != realCP["SALT"] {
		t.Fatal("salt or user id changes between probes")
	}
	_, ghostErr := e.respond(e.pub, types.ChallengeNameTypePasswordVerifier, nil, e.srpAnswer(c, ghostCP, password))
	rc, rcp := mustSRP(t)(e.srpStart(e.pool, e.pub, "real@example.com", nil))
	_, wrongErr := e.respond(e.pub, types.ChallengeNameTypePasswordVerifier, nil, e.srpAnswer(rc, rcp, "Wrong-Pass-1"))
	wantMessage(t, ghostErr, "NotAuthorizedException", "Incorrect username or password.")
	wantMessage(t, wrongErr, "NotAuthorizedException", "Incorrect username or password.")

	_, ghostErr = e.passwordAuth(e.pub, ghost, password)
	_, wrongErr = e.passwordAuth(e.pub, "real@example.com", "Wrong-Pass-1")
	wantMessage(t, ghostErr, "NotAuthorizedException", "Incorrect username or password.")
	wantMessage(t, wrongErr, "NotAuthorizedException", "Incorrect username or password.")

	before := len(e.outbox())
	fp := must(e.api.ForgotPassword(e.ctx, &cip.ForgotPasswordInput{ClientId: aws.String(e.pub), Username: aws.String(ghost)}))(t)
	d := fp.CodeDeliveryDetails
	if d == nil || aws.ToString(d.Destination) != "g***@e***" || d.DeliveryMedium != types.DeliveryMediumTypeEmail || aws.ToString(d.AttributeName) != "email" {
		t.Fatalf("ForgotPassword for an unknown user: %+v", d)
	}
	rs := must(e.api.ResendConfirmationCode(e.ctx, &cip.ResendConfirmationCodeInput{ClientId: aws.String(e.pub), Username: aws.String(ghost)}))(t)
	if rs.CodeDeliveryDetails == nil || rs.CodeDeliveryDetails.DeliveryMedium != types.DeliveryMediumTypeEmail {
		t.Fatalf("ResendConfirmationCode for an unknown user: %+v", rs.CodeDeliveryDetails)
	}
	if after := len(e.outbox()); after != before {
		t.Fatalf("%d messages sent to nobody", after-before)
	}
	real := must(e.api.ForgotPassword(e.ctx, &cip.ForgotPasswordInput{ClientId: aws.String(e.pub), Username: aws.String("real@example.com")}))(t)
	if aws.ToString(real.CodeDeliveryDetails.AttributeName) != "email" || real.CodeDeliveryDetails.DeliveryMedium != d.DeliveryMedium {
		t.Fatalf("real and fake deliveries differ: %+v %+v", real.CodeDeliveryDetails, d)
	}
	realCode := e.code("real@example.com", "forgot_password")
	wrongCode := "000000"
	if realCode == wrongCode {
		wrongCode = "000001"
	}
	_, ghostErr = e.api.ConfirmForgotPassword(e.ctx, &cip.ConfirmForgotPasswordInput{ClientId: aws.String(e.pub), Username: aws.String(ghost), ConfirmationCode: aws.String(wrongCode), Password: aws.String(password2)})
	_, wrongErr = e.api.ConfirmForgotPassword(e.ctx, &cip.ConfirmForgotPasswordInput{ClientId: aws.String(e.pub), Username: aws.String("real@example.com"), ConfirmationCode: aws.String(wrongCode), Password: aws.String(password2)})
	wantErr(t, ghostErr, "CodeMismatchException")
	wantErr(t, wrongErr, "CodeMismatchException")
	_, ghostErr = e.api.ConfirmSignUp(e.ctx, &cip.ConfirmSignUpInput{ClientId: aws.String(e.pub), Username: aws.String(ghost), ConfirmationCode: aws.String(wrongCode)})
	wantErr(t, ghostErr, "CodeMismatchException")
	// The probes created no one.
	if n := e.countUsers(e.pool); n != 1 {
		t.Fatalf("%d users", n)
	}

	// A client that opts out (LEGACY) gets Cognito's old, revealing
	// answers.
	legacy := aws.ToString(must(e.api.CreateUserPoolClient(e.ctx, &cip.CreateUserPoolClientInput{
		UserPoolId: aws.String(e.pool), ClientName: aws.String("legacy"), ExplicitAuthFlows: allFlows,
		PreventUserExistenceErrors: types.PreventUserExistenceErrorTypesLegacy,
	}))(t).UserPoolClient.ClientId)
	_, err := e.passwordAuth(legacy, ghost, password)
	wantErr(t, err, "UserNotFoundException")
	_, _, err = e.srpStart(e.pool, legacy, ghost, nil)
	wantErr(t, err, "UserNotFoundException")
	_, err = e.api.ForgotPassword(e.ctx, &cip.ForgotPasswordInput{ClientId: aws.String(legacy), Username: aws.String(ghost)})
	wantErr(t, err, "UserNotFoundException")
}

func keysOf(m map[string]string) string { return fmt.Sprint(slices.Sorted(maps.Keys(m))) }

// TestSRPAbuse: malformed SRP_A values, replayed, re-routed, tampered or
// badly timestamped answers are refused — and none of them counts toward
// the lockout or spends a challenge it should not.
func TestSRPAbuse(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const user = "srp@example.com"
	e.signUp(e.pub, user)
	clientB, _ := e.newClient(e.pool)
	verifier := func(client string, ans map[string]string) error {
		_, err := e.respond(client, types.ChallengeNameTypePasswordVerifier, nil, ans)
		return err
	}
	clone := func(m map[string]string, k, v string) map[string]string {
		c := map[string]string{}
		for kk, vv := range m {
			c[kk] = vv
		}
		c[k] = v
		return c
	}

	t.Run("SRP_A", func(t *testing.T) {
		n := srp.GroupPrime()
		groupN := strings.ToUpper(n.Text(16))
		for name, a := range map[string]string{
			"zero":       "0",
			"zeros":      "0000",
			"N":          groupN,
			"N lower":    strings.ToLower(groupN),
			"2N":         new(big.Int).Lsh(n, 1).Text(16),
			"non-hex":    "xyz",
			"0x prefix":  "0x1234",
			"negative":   "-1234",
			"spaces":     "12 34",
			"oversized":  strings.Repeat("a", srp.MaxAHexLen+1),
			"huge":       strings.Repeat("f", 60000),
			"empty":      "",
			"unicode":    "１２３",
			"whitespace": " ",
		} {
			t.Run(name, func(t *testing.T) {
				_, err := e.api.InitiateAuth(e.ctx, &cip.InitiateAuthInput{
					ClientId: aws.String(e.pub), AuthFlow: types.AuthFlowTypeUserSrpAuth,
					AuthParameters: map[string]string{"USERNAME": user, "SRP_A": a},
				})
				wantErr(t, err, "InvalidParameterException")
			})
		}
	})

	t.Run("other client's challenge", func(t *testing.T) {
		c, cp := mustSRP(t)(e.srpStart(e.pool, e.pub, user, nil))
		ans := e.srpAnswer(c, cp, password)
		wantMessage(t, verifier(clientB, ans), "NotAuthorizedException", "Invalid session for the user, session is expired.")
		// The refusal did not spend the challenge.
		if err := verifier(e.pub, ans); err != nil {
			t.Fatalf("right client after a wrong one: %v", err)
		}
	})

	t.Run("TIMESTAMP format", func(t *testing.T) {
		c, cp := mustSRP(t)(e.srpStart(e.pool, e.pub, user, nil))
		ans := e.srpAnswer(c, cp, password)
		now := time.Now().UTC()
		padded := "Tue Sep 02 09:05:07 UTC 2025" // Sep 2 2025 was a Tuesday
		if now.Day() < 10 {
			padded = now.Format("Mon Jan 02 15:04:05 UTC 2006")
		}
		bad := map[string]string{
			"zero-padded day": padded,
			"wrong weekday":   strings.Replace(now.Format(srp.TimestampLayout), now.Format("Mon"), now.AddDate(0, 0, 1).Format("Mon"), 1),
			"RFC 3339":        now.Format(time.RFC3339),
			"lowercase":       strings.ToLower(now.Format(srp.TimestampLayout)),
			"GMT":             strings.Replace(now.Format(srp.TimestampLayout), "UTC", "GMT", 1),
			"long":            now.Format(srp.TimestampLayout) + strings.Repeat(" ", 100),
		}
		for name, ts := range bad {
			t.Run(name, func(t *testing.T) {
				wantErr(t, verifier(e.pub, clone(ans, "TIMESTAMP", ts)), "InvalidParameterException")
			})
		}
		// Canonical timestamps outside the allowed skew.
		for _, d := range []time.Duration{-10 * time.Minute, 10 * time.Minute} {
			skewed := now.Add(d).Format(srp.TimestampLayout)
			wantErr(t, verifier(e.pub, clone(ans, "TIMESTAMP", skewed)), "NotAuthorizedException")
		}
		if err := verifier(e.pub, ans); err != nil {
			t.Fatalf("the genuine answer after refused timestamps: %v", err)
		}
	})

	t.Run("replay", func(t *testing.T) {
		c, cp := mustSRP(t)(e.srpStart(e.pool, e.pub, user, nil))
		ans := e.srpAnswer(c, cp, password)
		if err := verifier(e.pub, ans); err != nil {
			t.Fatal(err)
		}
		wantErr(t, verifier(e.pub, ans), "NotAuthorizedException")
	})

	t.Run("tampering", func(t *testing.T) {
		c, cp := mustSRP(t)(e.srpStart(e.pool, e.pub, user, nil))
		ans := e.srpAnswer(c, cp, password)
		block := []byte(ans["PASSWORD_CLAIM_SECRET_BLOCK"])
		block[10] ^= 1
		if block[10] == '+' || block[10] == '/' || block[10] > 'z' {
			block[10] = 'A'
		}
		for name, resp := range map[string]map[string]string{
			"secret block":     clone(ans, "PASSWORD_CLAIM_SECRET_BLOCK", string(block)),
			"block not base64": clone(ans, "PASSWORD_CLAIM_SECRET_BLOCK", "***"),
			"huge block":       clone(ans, "PASSWORD_CLAIM_SECRET_BLOCK", strings.Repeat("A", 40000)),
			"other username":   clone(ans, "USERNAME", "someone-else"),
			"email username":   clone(ans, "USERNAME", user),
		} {
			t.Run(name, func(t *testing.T) { wantErr(t, verifier(e.pub, resp), "NotAuthorizedException") })
		}
		if err := verifier(e.pub, ans); err != nil {
			t.Fatalf("the genuine answer after tampered ones: %v", err)
		}
	})

	// None of the above counted as a failed password: four real failures
	// still leave the user able to sign in.
	for i := 0; i < 4; i++ {
		c, cp := mustSRP(t)(e.srpStart(e.pool, e.pub, user, nil))
		wantMessage(t, verifier(e.pub, e.srpAnswer(c, cp, "Wrong-Pass-1")), "NotAuthorizedException", "Incorrect username or password.")
	}
	e.srpSignIn(e.pool, e.pub, user, password)
}

// TestGuessRateLimit: behind a trusted proxy, operations that test a
// password or a code are limited per client address; the refusal is a
// TooManyRequestsException (which clients back off on) that runs nothing.
// The proxy connects from 127.0.0.2, so that 127.0.0.1 stays this
// machine (a declared proxy address is never local).
func TestGuessRateLimit(t *testing.T) {
	t.Parallel()
	local := newEnvWith(t, server.Config{GuessRate: 0.5, GuessBurst: 3, TrustedProxies: "127.0.0.2"})
	local.signUp(local.pub, "rl@example.com")
	e := proxiedFrom(local, "127.0.0.2")
	const xff = "X-Forwarded-For"
	auth := []byte(`{"ClientId":"` + e.pub + `","AuthFlow":"USER_PASSWORD_AUTH","AuthParameters":{"USERNAME":"rl@example.com","PASSWORD":"Wrong-Pass-1"}}`)
	for i := 0; i < 3; i++ {
		wantRaw(t, e.raw(targetPrefix+"InitiateAuth", auth, xff, "203.0.113.7"), 400, "NotAuthorizedException")
	}
	r := e.raw(targetPrefix+"InitiateAuth", auth, xff, "203.0.113.7")
	wantRaw(t, r, 400, "TooManyRequestsException")
	if ra := r.header.Get("Retry-After"); ra == "" || ra == "0" {
		t.Fatalf("Retry-After %q", ra)
	}
	// Throttled calls of other guessable operations run nothing.
	signUp := []byte(`{"ClientId":"` + e.pub + `","Username":"throttled@example.com","Password":"` + password + `"}`)
	wantRaw(t, e.raw(targetPrefix+"SignUp", signUp, xff, "203.0.113.7"), 400, "TooManyRequestsException")
	if _, err := e.adminGet(e.pool, "throttled@example.com"); err == nil {
		t.Fatal("a throttled SignUp created the user")
	}
	// The address a client prepends is not trusted: the proxy's is used.
	wantRaw(t, e.raw(targetPrefix+"InitiateAuth", auth, xff, "198.51.100.1, 203.0.113.7"), 400, "TooManyRequestsException")
	// Other addresses, loopback itself and operations that test nothing
	// are not affected; nor is the user (the limit is not a lockout).
	wantRaw(t, e.raw(targetPrefix+"InitiateAuth", auth, xff, "203.0.113.8"), 400, "NotAuthorizedException")
	e.signIn(e.pub, "rl@example.com", password)
	wantRaw(t, e.raw(targetPrefix+"GetUser", []byte(`{"AccessToken":"x.y.z"}`), xff, "203.0.113.7"), 400, "NotAuthorizedException")
	// A fresh address gets its own burst.
	ok := []byte(`{"ClientId":"` + e.pub + `","AuthFlow":"USER_PASSWORD_AUTH","AuthParameters":{"USERNAME":"rl@example.com","PASSWORD":"` + password + `"}}`)
	if r := e.raw(targetPrefix+"InitiateAuth", ok, xff, "203.0.113.9"); r.status != 200 {
		t.Fatalf("sign-in from a fresh address: %d %s", r.status, r.body)
	}
}
