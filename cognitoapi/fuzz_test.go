package cognitoapi

// Fuzz targets for the protocol layer. server imports this package, so a
// test inside it cannot build a server.Server; fuzzHandler assembles the
// same stack by hand instead (SQLite in a temporary directory, the key
// manager, the user-pool domain, this handler with SigV4 credentials).
//
//	go test ./cognitoapi -run '^$' -fuzz FuzzDecode -fuzztime 15s
//	go test ./cognitoapi -run '^$' -fuzz FuzzServeHTTP -fuzztime 15s

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/cognate-auth/cognate/keys"
	"github.com/cognate-auth/cognate/storage/sqlite"
	"github.com/cognate-auth/cognate/userpool"
)

var decodeSeeds = []string{
	``,
	`{}`,
	` { } `,
	`{"ClientId":"abc","AuthFlow":"USER_SRP_AUTH","AuthParameters":{"USERNAME":"a@example.com","SRP_A":"ab12"}}`,
	`{"ClientId":"abc","Username":"a@example.com","Password":"Passw0rd!","UserAttributes":[{"Name":"email","Value":"a@example.com"}]}`,
	`{"UserPoolId":"us-east-1_abc","Limit":10,"Filter":"email ^= \"a\"","AttributesToGet":["email"]}`,
	`{"UserPoolId":"us-east-1_abc","ClientName":"c","RefreshTokenRotation":{"Feature":"ENABLED","RetryGracePeriodSeconds":5}}`,
	`{"UserPoolId":"p","GroupName":"g","Precedence":3}`,
	`{"Limit":1e400}`,
	`{"Limit":-1}`,
	`{"ClientId":5}`,
	`{"AuthParameters":{"USERNAME":1}}`,
	`{"AuthParameters":[]}`,
	`{"UserAttributes":{}}`,
	`{"a":1}]`,
	`{"a":1}}`,
	`{"a":1} {"b":2}`,
	`[]`,
	`null`,
	`"x"`,
	`{"ClientId":"\u0000\ud800"}`,
	`{"clientid":"lower-case member"}`,
	`{"ClientId":"a","ClientId":"b"}`,
	"{\"ClientId\":\"\xff\xfe\"}",
	`{"Precedence":9223372036854775808}`,
	`{"GenerateSecret":"yes"}`,
}

// decodeTargets are fresh values of the request shapes the protocol
// decodes into, from the simplest to the most nested.
var decodeTargets = []func() any{
	func() any { return new(userpool.InitiateAuthInput) },
	func() any { return new(userpool.SignUpInput) },
	func() any { return new(userpool.ListUsersInput) },
	func() any { return new(userpool.RespondToAuthChallengeInput) },
	func() any { return new(userpool.CreateUserPoolInput) },
	func() any { return new(userpool.CreateUserPoolClientInput) },
	func() any { return new(userpool.CreateGroupInput) },
	func() any { return new(userpool.AdminCreateUserInput) },
}

// FuzzDecode: decode never panics, fails only with SerializationException,
// accepts nothing but (whitespace around) one JSON object, and what it
// accepts survives a round trip through encoding unchanged.
func FuzzDecode(f *testing.F) {
	for _, s := range decodeSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, newV := range decodeTargets {
			v := newV()
			err := decode(body, v)
			if err != nil {
				var e *userpool.Error
				if !errors.As(err, &e) || e.Type != "SerializationException" || e.Internal {
					t.Fatalf("decode(%q) into %T: %v, want a SerializationException", body, v, err)
				}
				continue
			}
			trimmed := bytes.TrimSpace(body)
			if len(trimmed) == 0 {
				if !reflect.ValueOf(v).Elem().IsZero() {
					t.Fatalf("empty body decoded into a non-zero %T", v)
				}
				continue
			}
			if trimmed[0] != '{' || !json.Valid(trimmed) {
				t.Fatalf("decode accepted %q into %T: not one JSON object", body, v)
			}
			enc, err := json.Marshal(v)
			if err != nil {
				t.Fatalf("re-encode %T: %v", v, err)
			}
			again := newV()
			if err := decode(enc, again); err != nil {
				t.Fatalf("decode refused its own re-encoding %s: %v", enc, err)
			}
			if !reflect.DeepEqual(v, again) {
				t.Fatalf("round trip changed %T:\n%#v\n%#v", v, v, again)
			}
		}
	})
}

// Names of the fuzz server's fixed pool, clients (public, and
// confidential), user and admin credentials, so seeds can refer to them.
const (
	fuzzPool         = "us-east-1_Fuzz0001"
	fuzzClient       = "fuzzclient"
	fuzzConfidential = "fuzzsecret"
	fuzzKeyID        = "AKIAFUZZFUZZFUZZFUZZ"
	fuzzSecret       = "fuzz-secret-access-key-0123456789"
	fuzzUser         = "fuzz@example.com"
	fuzzPassword     = "Fuzz-Passw0rd!"
)

// fuzzHandler builds the protocol handler over a real store in a
// temporary directory, with a pool, a public and a confidential client
// and a confirmed user. The fuzz function body runs once per fuzzing
// process, so each process builds it once and shares it across inputs.
func fuzzHandler(f *testing.F) http.Handler {
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(f.TempDir(), "cognate.db"), sqlite.Options{})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { store.Close() })
	svc, err := userpool.New(ctx, userpool.Options{
		Storage: store, Keys: keys.NewManager(store, keys.Options{}), IssuerBase: "http://127.0.0.1:9229",
	})
	if err != nil {
		f.Fatal(err)
	}
	if err := seedFuzzPool(ctx, svc); err != nil {
		f.Fatal(err)
	}
	return New(Options{
		Service: svc,
		Credentials: func(id string) (string, bool) {
			return fuzzSecret, id == fuzzKeyID
		},
	})
}

func seedFuzzPool(ctx context.Context, svc *userpool.Service) error {
	if _, err := svc.CreateUserPoolWithID(ctx, fuzzPool, userpool.CreateUserPoolInput{
		PoolName: "fuzz", UsernameAttributes: []string{"email"}, AutoVerifiedAttributes: []string{"email"},
		Policies: &userpool.PoliciesType{SignInPolicy: &userpool.SignInPolicyType{AllowedFirstAuthFactors: []string{"PASSWORD", "EMAIL_OTP", "SMS_OTP"}}},
	}); err != nil {
		return err
	}
	flows := []string{"ALLOW_USER_SRP_AUTH", "ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_USER_AUTH"}
	if _, err := svc.CreateUserPoolClientWithID(ctx, fuzzClient, userpool.CreateUserPoolClientInput{
		ClientSettingsInput: userpool.ClientSettingsInput{UserPoolId: fuzzPool, ClientName: "web", ExplicitAuthFlows: flows},
	}); err != nil {
		return err
	}
	if _, err := svc.CreateUserPoolClientWithID(ctx, fuzzConfidential, userpool.CreateUserPoolClientInput{
		ClientSettingsInput: userpool.ClientSettingsInput{UserPoolId: fuzzPool, ClientName: "backend", ExplicitAuthFlows: flows},
		GenerateSecret:      true,
	}); err != nil {
		return err
	}
	if _, err := svc.SignUp(ctx, userpool.SignUpInput{ClientId: fuzzClient, Username: fuzzUser, Password: fuzzPassword}); err != nil {
		return err
	}
	_, err := svc.AdminConfirmSignUp(ctx, userpool.AdminUserInput{UserPoolId: fuzzPool, Username: fuzzUser})
	return err
}

// Flags of a FuzzServeHTTP input.
const (
	fuzzSign      = 1 << iota // SigV4-sign with the admin credentials
	fuzzRawTarget             // send op as the whole X-Amz-Target
	fuzzChunked               // send no Content-Length
	fuzzGet                   // GET instead of POST
)

// FuzzServeHTTP drives the handler with fuzzed operations and bodies,
// signed or not: it never answers 5xx, and always answers JSON of the
// protocol's content type, with __type (echoed in x-amzn-ErrorType) on
// every error.
func FuzzServeHTTP(f *testing.F) {
	pool, client := `"UserPoolId":"`+fuzzPool+`"`, `"ClientId":"`+fuzzClient+`"`
	seeds := []struct {
		op    string
		body  string
		flags byte
	}{
		{"InitiateAuth", `{` + client + `,"AuthFlow":"USER_PASSWORD_AUTH","AuthParameters":{"USERNAME":"` + fuzzUser + `","PASSWORD":"` + fuzzPassword + `"}}`, 0},
		{"InitiateAuth", `{` + client + `,"AuthFlow":"USER_SRP_AUTH","AuthParameters":{"USERNAME":"` + fuzzUser + `","SRP_A":"1234abcd"}}`, 0},
		{"InitiateAuth", `{"ClientId":"` + fuzzConfidential + `","AuthFlow":"USER_PASSWORD_AUTH","AuthParameters":{"USERNAME":"x","PASSWORD":"y","SECRET_HASH":"zz"}}`, 0},
		{"InitiateAuth", `{` + client + `,"AuthFlow":"REFRESH_TOKEN_AUTH","AuthParameters":{"REFRESH_TOKEN":"abc"}}`, 0},
		{"RespondToAuthChallenge", `{` + client + `,"ChallengeName":"PASSWORD_VERIFIER","ChallengeResponses":{"USERNAME":"u","TIMESTAMP":"Tue Sep 2 09:05:07 UTC 2025","PASSWORD_CLAIM_SECRET_BLOCK":"AAAA","PASSWORD_CLAIM_SIGNATURE":"BBBB"}}`, 0},
		{"RespondToAuthChallenge", `{` + client + `,"ChallengeName":"NEW_PASSWORD_REQUIRED","Session":"AAAA","ChallengeResponses":{"USERNAME":"u","NEW_PASSWORD":"x"}}`, 0},
		{"SignUp", `{` + client + `,"Username":"new@example.com","Password":"` + fuzzPassword + `","UserAttributes":[{"Name":"given_name","Value":"N"}]}`, 0},
		{"ConfirmSignUp", `{` + client + `,"Username":"new@example.com","ConfirmationCode":"123456"}`, 0},
		{"ForgotPassword", `{` + client + `,"Username":"` + fuzzUser + `"}`, 0},
		{"ConfirmForgotPassword", `{` + client + `,"Username":"` + fuzzUser + `","ConfirmationCode":"123456","Password":"` + fuzzPassword + `"}`, 0},
		{"GetTokensFromRefreshToken", `{` + client + `,"RefreshToken":"abc"}`, 0},
		{"RevokeToken", `{` + client + `,"Token":"abc"}`, 0},
		{"GetUser", `{"AccessToken":"eyJhbGciOiJSUzI1NiIsImtpZCI6IngifQ.eyJpc3MiOiJodHRwOi8vMTI3LjAuMC4xOjkyMjkvdXMtZWFzdC0xX0Z1enowMDAxIn0.c2ln"}`, 0},
		{"UpdateUserAttributes", `{"AccessToken":"a.b.c","UserAttributes":[{"Name":"email","Value":"x@example.com"}]}`, 0},
		{"ListUsers", `{` + pool + `,"Filter":"email ^= \"fu\"","Limit":2}`, fuzzSign},
		{"ListUsers", `{` + pool + `,"PaginationToken":"!!"}`, fuzzSign},
		{"AdminGetUser", `{` + pool + `,"Username":"` + fuzzUser + `"}`, fuzzSign},
		{"AdminCreateUser", `{` + pool + `,"Username":"admin-made@example.com","MessageAction":"SUPPRESS"}`, fuzzSign},
		{"CreateUserPool", `{"PoolName":"p","Policies":{"PasswordPolicy":{"MinimumLength":6}}}`, fuzzSign},
		{"CreateUserPoolClient", `{` + pool + `,"ClientName":"c","CallbackURLs":["https://x.example/cb"]}`, fuzzSign},
		{"UpdateUserPoolClient", `{` + pool + `,"ClientId":"` + fuzzClient + `","ClientName":"web","AccessTokenValidity":2}`, fuzzSign},
		{"CreateGroup", `{` + pool + `,"GroupName":"g","Precedence":1}`, fuzzSign},
		{"AdminAddUserToGroup", `{` + pool + `,"Username":"` + fuzzUser + `","GroupName":"g"}`, fuzzSign},
		{"AdminListGroupsForUser", `{` + pool + `,"Username":"` + fuzzUser + `","Limit":1}`, fuzzSign},
		{"ListUserPools", `{"MaxResults":1,"NextToken":"us"}`, fuzzSign},
		{"ListUserPools", `{"MaxResults":1}`, 0},
		{"ListUserPoolClients", `{` + pool + `,"MaxResults":1,"NextToken":"a"}`, fuzzSign},
		{"RespondToAuthChallenge", `{` + client + `,"ChallengeName":"DEVICE_SRP_AUTH","Session":"AAAA","ChallengeResponses":{"USERNAME":"u","SRP_A":"1234abcd","DEVICE_KEY":"us-east-1_0"}}`, 0},
		{"RespondToAuthChallenge", `{` + client + `,"ChallengeName":"DEVICE_PASSWORD_VERIFIER","ChallengeResponses":{"USERNAME":"u","TIMESTAMP":"Tue Sep 2 09:05:07 UTC 2025","PASSWORD_CLAIM_SECRET_BLOCK":"AAAA","PASSWORD_CLAIM_SIGNATURE":"BBBB","DEVICE_KEY":"us-east-1_0"}}`, 0},
		{"ConfirmDevice", `{"AccessToken":"a.b.c","DeviceKey":"us-east-1_0","DeviceSecretVerifierConfig":{"Salt":"AAEC","PasswordVerifier":"AAAA"}}`, 0},
		{"AdminListDevices", `{` + pool + `,"Username":"` + fuzzUser + `","Limit":1,"PaginationToken":"!!"}`, fuzzSign},
		{"AdminGetDevice", `{` + pool + `,"Username":"` + fuzzUser + `","DeviceKey":"us-east-1_0"}`, fuzzSign},
		{"InitiateAuth", `{` + client + `,"AuthFlow":"USER_AUTH","AuthParameters":{"USERNAME":"` + fuzzUser + `","PREFERRED_CHALLENGE":"EMAIL_OTP"}}`, 0},
		{"InitiateAuth", `{` + client + `,"AuthFlow":"USER_AUTH","Session":"AAAA","AuthParameters":{"USERNAME":"` + fuzzUser + `"}}`, 0},
		{"RespondToAuthChallenge", `{` + client + `,"ChallengeName":"SELECT_CHALLENGE","Session":"AAAA","ChallengeResponses":{"USERNAME":"u","ANSWER":"PASSWORD","PASSWORD":"p"}}`, 0},
		{"RespondToAuthChallenge", `{` + client + `,"ChallengeName":"EMAIL_OTP","Session":"AAAA","ChallengeResponses":{"USERNAME":"u","EMAIL_OTP_CODE":"12345678"}}`, 0},
		{"SignUp", `{` + client + `,"Username":"nopw@example.com"}`, 0},
		{"GetUserAuthFactors", `{"AccessToken":"a.b.c"}`, 0},
		{"AWSCognitoIdentityProviderService.SignUp", `{}`, fuzzRawTarget},
		{"", `{}`, fuzzRawTarget},
		{"SignUp", `{"ClientId":`, fuzzChunked},
		{"SignUp", `[]`, 0},
		{"SignUp", `{}`, fuzzGet},
		{"NoSuchOperation", `{}`, fuzzSign},
		{"RespondToAuthChallenge", `{` + client + `,"ChallengeName":"SOFTWARE_TOKEN_MFA","Session":"` + fuzzClient + `.AAAA","ChallengeResponses":{"USERNAME":"u","SOFTWARE_TOKEN_MFA_CODE":"123456"}}`, 0},
		{"AssociateSoftwareToken", `{"Session":"` + fuzzClient + `.AAAA"}`, 0},
		{"VerifySoftwareToken", `{"Session":"x.y","UserCode":"123456","FriendlyDeviceName":"p"}`, 0},
		{"SetUserPoolMfaConfig", `{` + pool + `,"MfaConfiguration":"ON","SoftwareTokenMfaConfiguration":{"Enabled":true}}`, fuzzSign},
	}
	for _, s := range seeds {
		f.Add(s.op, []byte(s.body), s.flags)
	}
	h := fuzzHandler(f)
	f.Fuzz(func(t *testing.T, op string, body []byte, flags byte) {
		method := http.MethodPost
		if flags&fuzzGet != 0 {
			method = http.MethodGet
		}
		var rd io.Reader = bytes.NewReader(body)
		if flags&fuzzChunked != 0 {
			rd = io.MultiReader(rd) // hides the length: no Content-Length
		}
		req := httptest.NewRequestWithContext(t.Context(), method, "http://127.0.0.1:9229/", rd)
		if flags&fuzzChunked != 0 {
			req.ContentLength = -1
		}
		req.RemoteAddr = "192.0.2.1:1234"
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		target := TargetPrefix + op
		if flags&fuzzRawTarget != 0 {
			target = op
		}
		req.Header["X-Amz-Target"] = []string{target}
		if flags&fuzzSign != 0 {
			sum := sha256.Sum256(body)
			creds := aws.Credentials{AccessKeyID: fuzzKeyID, SecretAccessKey: fuzzSecret}
			// A target the signer cannot canonicalize just goes unsigned.
			_ = v4.NewSigner().SignHTTP(t.Context(), creds, req, hex.EncodeToString(sum[:]), "cognito-idp", "us-east-1", time.Now())
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		res := rec.Result()
		out := rec.Body.Bytes()
		if res.StatusCode == http.StatusNoContent {
			t.Fatalf("%s %q: 204 to a non-OPTIONS request", method, target)
		}
		if res.StatusCode >= 500 {
			t.Fatalf("%s %q %q: status %d %s", method, target, body, res.StatusCode, out)
		}
		if ct := res.Header.Get("Content-Type"); ct != contentType {
			t.Fatalf("Content-Type %q", ct)
		}
		var got map[string]any
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("%s %q: body %q is not a JSON object: %v", method, target, out, err)
		}
		typ, _ := got["__type"].(string)
		if res.StatusCode != http.StatusOK {
			if typ == "" || strings.ContainsAny(typ, "#:,") {
				t.Fatalf("%s %q: status %d with __type %q: %s", method, target, res.StatusCode, typ, out)
			}
			if res.Header.Get("x-amzn-ErrorType") != typ {
				t.Fatalf("x-amzn-ErrorType %q, __type %q", res.Header.Get("x-amzn-ErrorType"), typ)
			}
			return
		}
		if typ != "" {
			t.Fatalf("200 with __type %q", typ)
		}
	})
}
