package integration_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/cognate-auth/cognate/server"
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

// TestAdminSigning covers SigV4 on admin operations: the SDK's signature
// is accepted; missing, unknown-key and wrong-secret requests are refused
// with AWS's exception names and write nothing.
func TestAdminSigning(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	list := func(c *cip.Client) error {
		_, err := c.ListUserPools(e.ctx, &cip.ListUserPoolsInput{MaxResults: aws.Int32(10)})
		return err
	}
	create := func(c *cip.Client) error {
		_, err := c.CreateUserPool(e.ctx, &cip.CreateUserPoolInput{PoolName: aws.String("sneaky")})
		return err
	}
	if err := list(e.api); err != nil {
		t.Fatalf("signed ListUserPools: %v", err)
	}

	// unsigned strips the Authorization header the SDK computed, so the
	// request is exactly the SDK's, minus the signature.
	unsigned := cip.New(cip.Options{
		BaseEndpoint: aws.String(e.url), Region: region, HTTPClient: e.http, Retryer: aws.NopRetryer{},
		Credentials: e.api.Options().Credentials,
		APIOptions: []func(*middleware.Stack) error{func(s *middleware.Stack) error {
			return s.Finalize.Add(middleware.FinalizeMiddlewareFunc("stripAuth",
				func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
					if req, ok := in.Request.(*smithyhttp.Request); ok {
						req.Header.Del("Authorization")
					}
					return next.HandleFinalize(ctx, in)
				}), middleware.After)
		}},
	})
	cases := []struct {
		name   string
		client *cip.Client
		code   string
	}{
		{"no signature", unsigned, "MissingAuthenticationTokenException"},
		{"unknown access key", e.sdk("AKIAUNKNOWNKEY000000", e.creds.SecretAccessKey), "UnrecognizedClientException"},
		{"wrong secret", e.sdk(e.creds.AccessKeyID, e.creds.SecretAccessKey+"x"), "InvalidSignatureException"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			wantErr(t, list(tc.client), tc.code)
			wantErr(t, create(tc.client), tc.code)
		})
	}

	// A plain unsigned POST, as a browser would send it.
	wantRaw(t, e.raw(targetPrefix+"ListUsers", []byte(`{"UserPoolId":"`+e.pool+`"}`)), 400, "MissingAuthenticationTokenException")
	wantRaw(t, e.raw(targetPrefix+"AdminDeleteUser", []byte(`{"UserPoolId":"`+e.pool+`","Username":"x"}`)), 400, "MissingAuthenticationTokenException")

	// Raw SigV4 failures: a stale signature, a body changed after signing,
	// a signature for another service.
	listBody := []byte(`{"MaxResults":10}`)
	wantRaw(t, e.signedRawWith("ListUserPools", listBody, time.Now().Add(-20*time.Minute), nil), 400, "InvalidSignatureException")
	wantRaw(t, e.signedRawWith("ListUserPools", listBody, time.Now().Add(20*time.Minute), nil), 400, "InvalidSignatureException")
	wantRaw(t, e.signedRawWith("CreateUserPool", []byte(`{"PoolName":"a"}`), time.Now(), func(r *http.Request) {
		b := []byte(`{"PoolName":"b"}`)
		r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(b)), int64(len(b))
	}), 400, "InvalidSignatureException")
	wantRaw(t, e.signedRawWith("ListUserPools", listBody, time.Now(), func(r *http.Request) {
		r.Header.Set("X-Amz-Target", targetPrefix+"CreateUserPool")
	}), 400, "InvalidSignatureException")
	wantRaw(t, e.signedRawWith("ListUserPools", listBody, time.Now(), func(r *http.Request) {
		r.Header.Set("Authorization", "AWS4-HMAC-SHA256 garbage")
	}), 400, "IncompleteSignatureException")
	if r := e.signedRaw("ListUserPools", listBody); r.status != 200 {
		t.Fatalf("a fresh signature: %d %s", r.status, r.body)
	}

	// None of the refused CreateUserPool calls made a pool.
	out := must(e.api.ListUserPools(e.ctx, &cip.ListUserPoolsInput{MaxResults: aws.Int32(60)}))(t)
	if len(out.UserPools) != 1 {
		t.Fatalf("%d pools after refused creates, want 1", len(out.UserPools))
	}
}

// TestAdminSignatureRegion: the SDK, configured for a region none of the
// server's pools is in, signs admin calls the server refuses as AWS does;
// configured for a region of its pools (the generated pools' us-east-1, or
// a config file pool's own region), the same calls succeed.
func TestAdminSignatureRegion(t *testing.T) {
	conf := filepath.Join(t.TempDir(), "cognate.json")
	doc := `{"UserPools":[{"Id":"eu-west-1_Hardened1","PoolName":"eu","Clients":[{"ClientId":"euapp","ClientName":"eu"}]}]}`
	if err := os.WriteFile(conf, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	servers := map[string]*env{
		"default pool":   newEnv(t),
		"eu config pool": newEnvWith(t, server.Config{ConfigFile: conf}),
	}
	cases := []struct {
		server, region string
		ok             bool
	}{
		{"default pool", "us-east-1", true},
		{"default pool", "eu-west-1", false},
		{"default pool", "us-west-2", false},
		{"eu config pool", "eu-west-1", true},
		{"eu config pool", "us-east-1", true}, // where CreateUserPool puts new pools
		{"eu config pool", "ap-southeast-2", false},
	}
	for _, c := range cases {
		t.Run(c.server+" signed for "+c.region, func(t *testing.T) {
			e := servers[c.server]
			inRegion := func(o *cip.Options) { o.Region = c.region }
			_, err := e.api.ListUsers(e.ctx, &cip.ListUsersInput{UserPoolId: aws.String(e.pool)}, inRegion)
			if c.ok {
				if err != nil {
					t.Fatalf("ListUsers signed for %s: %v", c.region, err)
				}
				return
			}
			wantMessage(t, err, "InvalidSignatureException", "Credential should be scoped to a valid region, not '"+c.region+"'.")
		})
	}
}
