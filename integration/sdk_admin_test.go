package integration_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/go-jose/go-jose/v4"
)

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

// TestUserPools covers CreateUserPool (and that the new pool's JWKS and
// discovery work), DescribeUserPool and ListUserPools with pagination.
func TestUserPools(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	out := must(e.api.CreateUserPool(e.ctx, &cip.CreateUserPoolInput{
		PoolName:               aws.String("shop"),
		UsernameAttributes:     []types.UsernameAttributeType{types.UsernameAttributeTypeEmail},
		AutoVerifiedAttributes: []types.VerifiedAttributeType{types.VerifiedAttributeTypeEmail},
		Policies: &types.UserPoolPolicyType{PasswordPolicy: &types.PasswordPolicyType{
			MinimumLength: aws.Int32(12), RequireSymbols: false, RequireUppercase: true, RequireLowercase: true, RequireNumbers: true,
		}},
	}))(t)
	id := aws.ToString(out.UserPool.Id)
	if !regexp.MustCompile(`^us-east-1_[A-Za-z0-9]+$`).MatchString(id) {
		t.Fatalf("pool id %q is not Cognito-shaped", id)
	}
	if !strings.HasSuffix(aws.ToString(out.UserPool.Arn), ":userpool/"+id) {
		t.Errorf("Arn %q", aws.ToString(out.UserPool.Arn))
	}

	t.Run("JWKS", func(t *testing.T) {
		resp, err := e.http.Get(e.url + "/" + id + "/.well-known/jwks.json")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d", resp.StatusCode)
		}
		var raw struct {
			Keys []map[string]string `json:"keys"`
		}
		var set jose.JSONWebKeySet
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(body, &raw); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(body, &set); err != nil {
			t.Fatalf("go-jose cannot read the JWKS: %v", err)
		}
		if len(set.Keys) < 2 {
			t.Fatalf("%d keys, want one per token use", len(set.Keys))
		}
		for _, k := range raw.Keys {
			for _, f := range []string{"alg", "e", "kid", "kty", "n", "use"} {
				if k[f] == "" {
					t.Errorf("key %v lacks %s", k["kid"], f)
				}
			}
			if k["alg"] != "RS256" || k["kty"] != "RSA" || k["use"] != "sig" {
				t.Errorf("key %v: alg %s kty %s use %s", k["kid"], k["alg"], k["kty"], k["use"])
			}
		}
		disc, err := e.http.Get(e.url + "/" + id + "/.well-known/openid-configuration")
		if err != nil {
			t.Fatal(err)
		}
		defer disc.Body.Close()
		var d map[string]any
		if err := json.NewDecoder(disc.Body).Decode(&d); err != nil {
			t.Fatal(err)
		}
		if d["issuer"] != e.url+"/"+id || d["jwks_uri"] != e.url+"/"+id+"/.well-known/jwks.json" {
			t.Fatalf("discovery issuer %v jwks_uri %v", d["issuer"], d["jwks_uri"])
		}
		missing, err := e.http.Get(e.url + "/us-east-1_Nope/.well-known/jwks.json")
		if err != nil {
			t.Fatal(err)
		}
		missing.Body.Close()
		if missing.StatusCode != http.StatusNotFound {
			t.Fatalf("JWKS of a missing pool: %d", missing.StatusCode)
		}
	})

	t.Run("DescribeUserPool", func(t *testing.T) {
		d := must(e.api.DescribeUserPool(e.ctx, &cip.DescribeUserPoolInput{UserPoolId: aws.String(id)}))(t).UserPool
		if aws.ToString(d.Name) != "shop" || aws.ToString(d.Id) != id {
			t.Fatalf("described %s %s", aws.ToString(d.Id), aws.ToString(d.Name))
		}
		if !slices.Equal(d.UsernameAttributes, []types.UsernameAttributeType{"email"}) {
			t.Errorf("UsernameAttributes %v", d.UsernameAttributes)
		}
		pp := d.Policies.PasswordPolicy
		if aws.ToInt32(pp.MinimumLength) != 12 || pp.RequireSymbols || !pp.RequireUppercase {
			t.Errorf("password policy %+v", pp)
		}
		if d.CreationDate == nil || d.CreationDate.IsZero() {
			t.Errorf("no CreationDate")
		}
		_, err := e.api.DescribeUserPool(e.ctx, &cip.DescribeUserPoolInput{UserPoolId: aws.String("us-east-1_Missing1")})
		wantErr(t, err, "ResourceNotFoundException")
	})

	t.Run("policy applies", func(t *testing.T) {
		client, _ := e.newClient(id)
		_, err := e.api.SignUp(e.ctx, &cip.SignUpInput{ClientId: aws.String(client), Username: aws.String("short@example.com"), Password: aws.String("Short-pw9")})
		wantErr(t, err, "InvalidPasswordException")
		if n := e.countUsers(id); n != 0 {
			t.Fatalf("%d users after a refused sign-up", n)
		}
		// The explicit policy's omitted requirements are off: no symbol.
		must(e.api.SignUp(e.ctx, &cip.SignUpInput{ClientId: aws.String(client), Username: aws.String("long@example.com"), Password: aws.String("LongEnough12")}))(t)

		closed := must(e.api.CreateUserPool(e.ctx, &cip.CreateUserPoolInput{
			PoolName: aws.String("closed"), AdminCreateUserConfig: &types.AdminCreateUserConfigType{AllowAdminCreateUserOnly: true},
		}))(t).UserPool
		if closed.AdminCreateUserConfig == nil || !closed.AdminCreateUserConfig.AllowAdminCreateUserOnly {
			t.Fatalf("AdminCreateUserConfig %+v", closed.AdminCreateUserConfig)
		}
		cc, _ := e.newClient(aws.ToString(closed.Id))
		_, err = e.api.SignUp(e.ctx, &cip.SignUpInput{ClientId: aws.String(cc), Username: aws.String("walk-in"), Password: aws.String(password)})
		wantErr(t, err, "NotAuthorizedException")
		if n := e.countUsers(aws.ToString(closed.Id)); n != 0 {
			t.Fatalf("%d users in an admin-only pool", n)
		}
	})

	t.Run("ListUserPools", func(t *testing.T) {
		var want []string
		for _, p := range must(e.api.ListUserPools(e.ctx, &cip.ListUserPoolsInput{MaxResults: aws.Int32(60)}))(t).UserPools {
			want = append(want, aws.ToString(p.Id))
		}
		if !slices.Contains(want, e.pool) || !slices.Contains(want, id) {
			t.Fatalf("pools %v lack %s or %s", want, e.pool, id)
		}
		for i := 0; i < 5; i++ {
			p := must(e.api.CreateUserPool(e.ctx, &cip.CreateUserPoolInput{PoolName: aws.String("p")}))(t)
			want = append(want, aws.ToString(p.UserPool.Id))
		}
		var got []string
		pages := 0
		pg := cip.NewListUserPoolsPaginator(e.api, &cip.ListUserPoolsInput{MaxResults: aws.Int32(2)})
		for pg.HasMorePages() {
			page := must(pg.NextPage(e.ctx))(t)
			if len(page.UserPools) > 2 {
				t.Fatalf("page of %d pools, MaxResults 2", len(page.UserPools))
			}
			for _, p := range page.UserPools {
				got = append(got, aws.ToString(p.Id))
			}
			if pages++; pages > 10 {
				t.Fatal("pagination does not end")
			}
		}
		if pages != (len(want)+1)/2 {
			t.Errorf("%d pages for %d pools of 2", pages, len(want))
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Fatalf("listed %v, want %v", got, want)
		}
		for _, n := range []int32{0, 61, -1} {
			_, err := e.api.ListUserPools(e.ctx, &cip.ListUserPoolsInput{MaxResults: aws.Int32(n)})
			wantErr(t, err, "InvalidParameterException")
		}
	})
}

// TestAppClients covers CreateUserPoolClient (secret, rotation, OAuth URL
// rules), DescribeUserPoolClient and UpdateUserPoolClient.
func TestAppClients(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	created := must(e.api.CreateUserPoolClient(e.ctx, &cip.CreateUserPoolClientInput{
		UserPoolId: aws.String(e.pool), ClientName: aws.String("backend"), GenerateSecret: true,
		ExplicitAuthFlows: allFlows,
		RefreshTokenRotation: &types.RefreshTokenRotationType{
			Feature: types.FeatureTypeEnabled, RetryGracePeriodSeconds: aws.Int32(7),
		},
		CallbackURLs:                    []string{"https://app.example.com/cb", "http://localhost:3000/cb"},
		LogoutURLs:                      []string{"https://app.example.com/bye"},
		AllowedOAuthFlows:               []types.OAuthFlowType{types.OAuthFlowTypeCode},
		AllowedOAuthScopes:              []string{"openid", "email"},
		AllowedOAuthFlowsUserPoolClient: true,
	}))(t).UserPoolClient
	id, secret := aws.ToString(created.ClientId), aws.ToString(created.ClientSecret)
	if id == "" || len(secret) < 32 {
		t.Fatalf("client id %q secret %q", id, secret)
	}
	if r := created.RefreshTokenRotation; r == nil || r.Feature != types.FeatureTypeEnabled || aws.ToInt32(r.RetryGracePeriodSeconds) != 7 {
		t.Fatalf("rotation %+v", r)
	}

	t.Run("Describe", func(t *testing.T) {
		d := must(e.api.DescribeUserPoolClient(e.ctx, &cip.DescribeUserPoolClientInput{
			UserPoolId: aws.String(e.pool), ClientId: aws.String(id),
		}))(t).UserPoolClient
		if aws.ToString(d.ClientSecret) != secret || aws.ToString(d.ClientName) != "backend" {
			t.Fatalf("described %+v", d)
		}
		if !slices.Equal(d.CallbackURLs, []string{"https://app.example.com/cb", "http://localhost:3000/cb"}) {
			t.Errorf("CallbackURLs %v", d.CallbackURLs)
		}
		if !slices.Equal(d.ExplicitAuthFlows, allFlows) {
			t.Errorf("flows %v", d.ExplicitAuthFlows)
		}
		if d.RefreshTokenRotation == nil || aws.ToInt32(d.RefreshTokenRotation.RetryGracePeriodSeconds) != 7 {
			t.Errorf("rotation %+v", d.RefreshTokenRotation)
		}
		other := must(e.api.CreateUserPool(e.ctx, &cip.CreateUserPoolInput{PoolName: aws.String("other")}))(t)
		_, err := e.api.DescribeUserPoolClient(e.ctx, &cip.DescribeUserPoolClientInput{UserPoolId: other.UserPool.Id, ClientId: aws.String(id)})
		wantErr(t, err, "ResourceNotFoundException")
		_, err = e.api.DescribeUserPoolClient(e.ctx, &cip.DescribeUserPoolClientInput{UserPoolId: aws.String(e.pool), ClientId: aws.String("nosuchclient")})
		wantErr(t, err, "ResourceNotFoundException")
	})

	t.Run("OAuth validation", func(t *testing.T) {
		cases := []struct {
			name string
			set  func(*cip.CreateUserPoolClientInput)
			ok   bool
		}{
			{"https callback", func(in *cip.CreateUserPoolClientInput) { in.CallbackURLs = []string{"https://x.example/cb"} }, true},
			{"http localhost", func(in *cip.CreateUserPoolClientInput) { in.CallbackURLs = []string{"http://localhost:8080/cb"} }, true},
			{"http 127.0.0.1", func(in *cip.CreateUserPoolClientInput) { in.CallbackURLs = []string{"http://127.0.0.1/cb"} }, true},
			{"http elsewhere", func(in *cip.CreateUserPoolClientInput) { in.CallbackURLs = []string{"http://app.example.com/cb"} }, false},
			{"http localhost lookalike", func(in *cip.CreateUserPoolClientInput) {
				in.CallbackURLs = []string{"http://localhost.evil.example/cb"}
			}, false},
			{"fragment", func(in *cip.CreateUserPoolClientInput) { in.CallbackURLs = []string{"https://x.example/cb#frag"} }, false},
			{"empty fragment", func(in *cip.CreateUserPoolClientInput) { in.CallbackURLs = []string{"https://x.example/cb#"} }, false},
			{"relative", func(in *cip.CreateUserPoolClientInput) { in.CallbackURLs = []string{"/cb"} }, false},
			{"javascript", func(in *cip.CreateUserPoolClientInput) { in.CallbackURLs = []string{"javascript:alert(1)"} }, false},
			{"http logout", func(in *cip.CreateUserPoolClientInput) { in.LogoutURLs = []string{"http://app.example.com/bye"} }, false},
			{"default not a callback", func(in *cip.CreateUserPoolClientInput) {
				in.CallbackURLs = []string{"https://x.example/cb"}
				in.DefaultRedirectURI = aws.String("https://x.example/other")
			}, false},
			{"OAuth on without flows", func(in *cip.CreateUserPoolClientInput) {
				in.AllowedOAuthFlowsUserPoolClient = true
				in.AllowedOAuthScopes = []string{"openid"}
			}, false},
			{"bad flow", func(in *cip.CreateUserPoolClientInput) {
				in.ExplicitAuthFlows = []types.ExplicitAuthFlowsType{"ALLOW_EVERYTHING"}
			}, false},
			{"grace over 60", func(in *cip.CreateUserPoolClientInput) { rotation(true, 61)(in) }, false},
			{"access validity too short", func(in *cip.CreateUserPoolClientInput) {
				in.AccessTokenValidity = aws.Int32(1)
				in.TokenValidityUnits = &types.TokenValidityUnitsType{AccessToken: types.TimeUnitsTypeMinutes}
			}, false},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				in := &cip.CreateUserPoolClientInput{UserPoolId: aws.String(e.pool), ClientName: aws.String("c")}
				tc.set(in)
				_, err := e.api.CreateUserPoolClient(e.ctx, in)
				if tc.ok {
					if err != nil {
						t.Fatalf("refused: %v", err)
					}
					return
				}
				wantErr(t, err, "InvalidParameterException")
			})
		}
	})

	t.Run("Update", func(t *testing.T) {
		_, err := e.api.UpdateUserPoolClient(e.ctx, &cip.UpdateUserPoolClientInput{
			UserPoolId: aws.String(e.pool), ClientId: aws.String(id), ClientName: aws.String("renamed"),
			CallbackURLs: []string{"http://evil.example/cb"},
		})
		wantErr(t, err, "InvalidParameterException")
		d := must(e.api.DescribeUserPoolClient(e.ctx, &cip.DescribeUserPoolClientInput{UserPoolId: aws.String(e.pool), ClientId: aws.String(id)}))(t).UserPoolClient
		if aws.ToString(d.ClientName) != "backend" {
			t.Fatalf("a refused update renamed the client to %q", aws.ToString(d.ClientName))
		}

		u := must(e.api.UpdateUserPoolClient(e.ctx, &cip.UpdateUserPoolClientInput{
			UserPoolId: aws.String(e.pool), ClientId: aws.String(id), ClientName: aws.String("renamed"),
			ExplicitAuthFlows:    []types.ExplicitAuthFlowsType{types.ExplicitAuthFlowsTypeAllowUserSrpAuth, types.ExplicitAuthFlowsTypeAllowRefreshTokenAuth},
			RefreshTokenRotation: &types.RefreshTokenRotationType{Feature: types.FeatureTypeDisabled, RetryGracePeriodSeconds: aws.Int32(0)},
			AccessTokenValidity:  aws.Int32(2), TokenValidityUnits: &types.TokenValidityUnitsType{AccessToken: types.TimeUnitsTypeHours},
		}))(t).UserPoolClient
		if aws.ToString(u.ClientName) != "renamed" || aws.ToString(u.ClientSecret) != secret {
			t.Fatalf("updated %+v", u)
		}
		d = must(e.api.DescribeUserPoolClient(e.ctx, &cip.DescribeUserPoolClientInput{UserPoolId: aws.String(e.pool), ClientId: aws.String(id)}))(t).UserPoolClient
		if d.RefreshTokenRotation == nil || d.RefreshTokenRotation.Feature != types.FeatureTypeDisabled {
			t.Errorf("rotation after update %+v", d.RefreshTokenRotation)
		}
		if len(d.ExplicitAuthFlows) != 2 || len(d.CallbackURLs) != 0 {
			t.Errorf("flows %v callbacks %v", d.ExplicitAuthFlows, d.CallbackURLs)
		}
		if aws.ToInt32(d.AccessTokenValidity) != 2 {
			t.Errorf("AccessTokenValidity %d", aws.ToInt32(d.AccessTokenValidity))
		}
		// Without a ClientName the name stays; other members left out
		// take their defaults, as in Cognito.
		kept := must(e.api.UpdateUserPoolClient(e.ctx, &cip.UpdateUserPoolClientInput{
			UserPoolId: aws.String(e.pool), ClientId: aws.String(id), ExplicitAuthFlows: d.ExplicitAuthFlows,
			AccessTokenValidity: aws.Int32(2), TokenValidityUnits: &types.TokenValidityUnitsType{AccessToken: types.TimeUnitsTypeHours},
		}))(t).UserPoolClient
		if aws.ToString(kept.ClientName) != "renamed" {
			t.Errorf("name %q after an update without ClientName", aws.ToString(kept.ClientName))
		}
		// The new settings apply: USER_PASSWORD_AUTH is no longer allowed,
		// and tokens live two hours.
		e.signUp(e.pub, "upd@example.com")
		_, err = e.passwordAuth(id, "upd@example.com", password)
		if err == nil {
			t.Fatal("USER_PASSWORD_AUTH still allowed")
		}
		tok := e.srpSignInSecret(e.pool, id, secret, "upd@example.com", password)
		if tok.ExpiresIn != 7200 {
			t.Errorf("ExpiresIn %d, want 7200", tok.ExpiresIn)
		}
	})
}

// srpSignInSecret is srpSignIn for a confidential client.
func (e *env) srpSignInSecret(pool, client, secret, user, pw string) *types.AuthenticationResultType {
	e.t.Helper()
	c, cp := mustSRP(e.t)(e.srpStart(pool, client, user, map[string]string{"SECRET_HASH": secretHash(secret, user, client)}))
	ans := e.srpAnswer(c, cp, pw)
	ans["SECRET_HASH"] = secretHash(secret, ans["USERNAME"], client)
	out := must(e.respond(client, types.ChallengeNameTypePasswordVerifier, nil, ans))(e.t)
	if out.AuthenticationResult == nil {
		e.t.Fatalf("challenge %q", out.ChallengeName)
	}
	return out.AuthenticationResult
}

// TestAdminCreateUser covers AdminCreateUser with a given and a generated
// temporary password, NEW_PASSWORD_REQUIRED through both sign-in flows,
// AdminGetUser by email and by username, and AdminDeleteUser.
func TestAdminCreateUser(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const temp = "Temp-Pass-123"
	out := must(e.api.AdminCreateUser(e.ctx, &cip.AdminCreateUserInput{
		UserPoolId: aws.String(e.pool), Username: aws.String("new@example.com"), TemporaryPassword: aws.String(temp),
		UserAttributes: []types.AttributeType{attrT("email", "new@example.com"), attrT("given_name", "Nia")},
	}))(t).User
	username := aws.ToString(out.Username)
	if out.UserStatus != types.UserStatusTypeForceChangePassword || !out.Enabled {
		t.Fatalf("created %s enabled=%v", out.UserStatus, out.Enabled)
	}
	if !regexp.MustCompile(`^[0-9a-f-]{36}$`).MatchString(username) {
		t.Fatalf("username %q in an email pool, want the sub", username)
	}
	if sub, _ := attr(out.Attributes, "sub"); sub != username {
		t.Fatalf("sub %q username %q", sub, username)
	}
	if got := e.code("new@example.com", "admin_create_user"); got != temp {
		t.Fatalf("invitation carries %q, want the temporary password", got)
	}

	_, err := e.api.AdminCreateUser(e.ctx, &cip.AdminCreateUserInput{
		UserPoolId: aws.String(e.pool), Username: aws.String("new@example.com"), TemporaryPassword: aws.String(temp),
	})
	wantErr(t, err, "UsernameExistsException")

	for _, name := range []string{"new@example.com", "NEW@example.com", username} {
		g := must(e.adminGet(e.pool, name))(t)
		if aws.ToString(g.Username) != username || g.UserStatus != types.UserStatusTypeForceChangePassword {
			t.Fatalf("AdminGetUser(%s) = %s %s", name, aws.ToString(g.Username), g.UserStatus)
		}
		if v, _ := attr(g.UserAttributes, "given_name"); v != "Nia" {
			t.Fatalf("given_name %q", v)
		}
	}
	_, err = e.adminGet(e.pool, "nobody@example.com")
	wantErr(t, err, "UserNotFoundException")

	t.Run("NEW_PASSWORD_REQUIRED via USER_PASSWORD_AUTH", func(t *testing.T) {
		ia := must(e.api.InitiateAuth(e.ctx, &cip.InitiateAuthInput{
			ClientId: aws.String(e.pub), AuthFlow: types.AuthFlowTypeUserPasswordAuth,
			AuthParameters: map[string]string{"USERNAME": "new@example.com", "PASSWORD": temp},
		}))(t)
		if ia.ChallengeName != types.ChallengeNameTypeNewPasswordRequired || aws.ToString(ia.Session) == "" || ia.AuthenticationResult != nil {
			t.Fatalf("got %q session %q", ia.ChallengeName, aws.ToString(ia.Session))
		}
		if ia.ChallengeParameters["USER_ID_FOR_SRP"] != username {
			t.Errorf("USER_ID_FOR_SRP %q", ia.ChallengeParameters["USER_ID_FOR_SRP"])
		}
		// A new password against the policy is refused and leaves the
		// session usable.
		_, err := e.respond(e.pub, types.ChallengeNameTypeNewPasswordRequired, ia.Session,
			map[string]string{"USERNAME": username, "NEW_PASSWORD": "weak"})
		wantErr(t, err, "InvalidPasswordException")
		_, err = e.respond(e.pub, types.ChallengeNameTypeNewPasswordRequired, aws.String(aws.ToString(ia.Session)+"x"),
			map[string]string{"USERNAME": username, "NEW_PASSWORD": password})
		wantErr(t, err, "NotAuthorizedException")
		other, _ := e.newClient(e.pool)
		_, err = e.respond(other, types.ChallengeNameTypeNewPasswordRequired, ia.Session,
			map[string]string{"USERNAME": username, "NEW_PASSWORD": password})
		wantErr(t, err, "NotAuthorizedException")
		done := must(e.respond(e.pub, types.ChallengeNameTypeNewPasswordRequired, ia.Session,
			map[string]string{"USERNAME": username, "NEW_PASSWORD": password, "userAttributes.family_name": "Ng"}))(t)
		if done.AuthenticationResult == nil || aws.ToString(done.AuthenticationResult.AccessToken) == "" {
			t.Fatal("no tokens after NEW_PASSWORD_REQUIRED")
		}
		g := must(e.adminGet(e.pool, username))(t)
		if g.UserStatus != types.UserStatusTypeConfirmed {
			t.Fatalf("status %s after the new password", g.UserStatus)
		}
		if v, _ := attr(g.UserAttributes, "family_name"); v != "Ng" {
			t.Errorf("family_name %q", v)
		}
		// The session is spent: the user is no longer in FORCE_CHANGE_PASSWORD.
		_, err = e.respond(e.pub, types.ChallengeNameTypeNewPasswordRequired, ia.Session,
			map[string]string{"USERNAME": username, "NEW_PASSWORD": password2})
		wantErr(t, err, "NotAuthorizedException")
		_, err = e.passwordAuth(e.pub, "new@example.com", temp)
		wantErr(t, err, "NotAuthorizedException")
		e.signIn(e.pub, "new@example.com", password)
	})

	t.Run("generated password via SRP", func(t *testing.T) {
		g := must(e.api.AdminCreateUser(e.ctx, &cip.AdminCreateUserInput{
			UserPoolId: aws.String(e.pool), Username: aws.String("gen@example.com"),
		}))(t).User
		temp := e.code("gen@example.com", "admin_create_user")
		if len(temp) < 8 {
			t.Fatalf("generated password %q", temp)
		}
		c, cp := mustSRP(t)(e.srpStart(e.pool, e.pub, "gen@example.com", nil))
		r := must(e.respond(e.pub, types.ChallengeNameTypePasswordVerifier, nil, e.srpAnswer(c, cp, temp)))(t)
		if r.ChallengeName != types.ChallengeNameTypeNewPasswordRequired {
			t.Fatalf("challenge %q", r.ChallengeName)
		}
		done := must(e.respond(e.pub, types.ChallengeNameTypeNewPasswordRequired, r.Session,
			map[string]string{"USERNAME": aws.ToString(g.Username), "NEW_PASSWORD": password}))(t)
		if done.AuthenticationResult == nil {
			t.Fatal("no tokens")
		}
	})

	t.Run("suppressed invitation", func(t *testing.T) {
		before := len(e.outbox())
		must(e.api.AdminCreateUser(e.ctx, &cip.AdminCreateUserInput{
			UserPoolId: aws.String(e.pool), Username: aws.String("quiet@example.com"),
			TemporaryPassword: aws.String(temp), MessageAction: types.MessageActionTypeSuppress,
		}))(t)
		if after := len(e.outbox()); after != before {
			t.Fatalf("SUPPRESS sent %d messages", after-before)
		}
	})

	t.Run("AdminDeleteUser", func(t *testing.T) {
		tok := e.signIn(e.pub, "new@example.com", password)
		must(e.api.AdminDeleteUser(e.ctx, &cip.AdminDeleteUserInput{UserPoolId: aws.String(e.pool), Username: aws.String("new@example.com")}))(t)
		_, err := e.adminGet(e.pool, username)
		wantErr(t, err, "UserNotFoundException")
		_, err = e.api.AdminDeleteUser(e.ctx, &cip.AdminDeleteUserInput{UserPoolId: aws.String(e.pool), Username: aws.String(username)})
		wantErr(t, err, "UserNotFoundException")
		_, err = e.getUser(tok.AccessToken)
		wantErr(t, err, "NotAuthorizedException")
		_, err = e.refresh(e.pub, "", tok.RefreshToken)
		wantErr(t, err, "NotAuthorizedException")
		_, err = e.passwordAuth(e.pub, "new@example.com", password)
		wantErr(t, err, "NotAuthorizedException")
	})
}

// TestAdminUserState covers AdminConfirmSignUp, AdminSetUserPassword,
// AdminDisableUser, AdminEnableUser and AdminUserGlobalSignOut.
func TestAdminUserState(t *testing.T) {
	t.Parallel()
	e := newEnv(t)

	t.Run("AdminConfirmSignUp", func(t *testing.T) {
		must(e.api.SignUp(e.ctx, &cip.SignUpInput{ClientId: aws.String(e.pub), Username: aws.String("unc@example.com"), Password: aws.String(password)}))(t)
		_, err := e.passwordAuth(e.pub, "unc@example.com", password)
		wantErr(t, err, "UserNotConfirmedException")
		g := must(e.adminGet(e.pool, "unc@example.com"))(t)
		if g.UserStatus != types.UserStatusTypeUnconfirmed {
			t.Fatalf("status %s", g.UserStatus)
		}
		must(e.api.AdminConfirmSignUp(e.ctx, &cip.AdminConfirmSignUpInput{UserPoolId: aws.String(e.pool), Username: aws.String("unc@example.com")}))(t)
		g = must(e.adminGet(e.pool, "unc@example.com"))(t)
		if g.UserStatus != types.UserStatusTypeConfirmed {
			t.Fatalf("status %s after AdminConfirmSignUp", g.UserStatus)
		}
		e.signIn(e.pub, "unc@example.com", password)
		_, err = e.api.AdminConfirmSignUp(e.ctx, &cip.AdminConfirmSignUpInput{UserPoolId: aws.String(e.pool), Username: aws.String("unc@example.com")})
		wantErr(t, err, "NotAuthorizedException")
		_, err = e.api.AdminConfirmSignUp(e.ctx, &cip.AdminConfirmSignUpInput{UserPoolId: aws.String(e.pool), Username: aws.String("ghost@example.com")})
		wantErr(t, err, "UserNotFoundException")
	})

	t.Run("AdminSetUserPassword", func(t *testing.T) {
		e.signUp(e.pub, "pw@example.com")
		set := func(pw string, permanent bool) error {
			_, err := e.api.AdminSetUserPassword(e.ctx, &cip.AdminSetUserPasswordInput{
				UserPoolId: aws.String(e.pool), Username: aws.String("pw@example.com"), Password: aws.String(pw), Permanent: permanent,
			})
			return err
		}
		wantErr(t, set("weak", true), "InvalidPasswordException")
		e.signIn(e.pub, "pw@example.com", password) // unchanged

		if err := set(password2, true); err != nil {
			t.Fatal(err)
		}
		_, err := e.passwordAuth(e.pub, "pw@example.com", password)
		wantErr(t, err, "NotAuthorizedException")
		e.signIn(e.pub, "pw@example.com", password2)
		if g := must(e.adminGet(e.pool, "pw@example.com"))(t); g.UserStatus != types.UserStatusTypeConfirmed {
			t.Fatalf("status %s after a permanent password", g.UserStatus)
		}

		if err := set("Temporary-42", false); err != nil {
			t.Fatal(err)
		}
		if g := must(e.adminGet(e.pool, "pw@example.com"))(t); g.UserStatus != types.UserStatusTypeForceChangePassword {
			t.Fatalf("status %s after a temporary password", g.UserStatus)
		}
		ia := must(e.api.InitiateAuth(e.ctx, &cip.InitiateAuthInput{
			ClientId: aws.String(e.pub), AuthFlow: types.AuthFlowTypeUserPasswordAuth,
			AuthParameters: map[string]string{"USERNAME": "pw@example.com", "PASSWORD": "Temporary-42"},
		}))(t)
		if ia.ChallengeName != types.ChallengeNameTypeNewPasswordRequired {
			t.Fatalf("challenge %q after a temporary password", ia.ChallengeName)
		}
	})

	t.Run("AdminDisableUser and AdminEnableUser", func(t *testing.T) {
		sub := e.signUp(e.pub, "dis@example.com")
		tok := e.signIn(e.pub, "dis@example.com", password)
		must(e.api.AdminDisableUser(e.ctx, &cip.AdminDisableUserInput{UserPoolId: aws.String(e.pool), Username: aws.String("dis@example.com")}))(t)

		g := must(e.adminGet(e.pool, sub))(t)
		if g.Enabled {
			t.Fatal("still enabled")
		}
		_, err := e.passwordAuth(e.pub, "dis@example.com", password)
		wantMessage(t, err, "NotAuthorizedException", "User is disabled.")
		c, cp := mustSRP(t)(e.srpStart(e.pool, e.pub, "dis@example.com", nil))
		_, err = e.respond(e.pub, types.ChallengeNameTypePasswordVerifier, nil, e.srpAnswer(c, cp, password))
		wantErr(t, err, "NotAuthorizedException")
		_, err = e.getUser(tok.AccessToken)
		wantErr(t, err, "NotAuthorizedException")
		_, err = e.refresh(e.pub, "", tok.RefreshToken)
		wantErr(t, err, "NotAuthorizedException")

		must(e.api.AdminEnableUser(e.ctx, &cip.AdminEnableUserInput{UserPoolId: aws.String(e.pool), Username: aws.String(sub)}))(t)
		if g := must(e.adminGet(e.pool, sub))(t); !g.Enabled {
			t.Fatal("still disabled")
		}
		fresh := e.signIn(e.pub, "dis@example.com", password)
		must(e.getUser(fresh.AccessToken))(t)
		// What disabling revoked stays revoked.
		_, err = e.getUser(tok.AccessToken)
		wantErr(t, err, "NotAuthorizedException")
		_, err = e.refresh(e.pub, "", tok.RefreshToken)
		wantErr(t, err, "NotAuthorizedException")
	})

	t.Run("AdminUserGlobalSignOut", func(t *testing.T) {
		e.signUp(e.pub, "gso@example.com")
		other := e.signUp(e.pub, "bystander@example.com")
		a := e.signIn(e.pub, "gso@example.com", password)
		b := e.srpSignIn(e.pool, e.pub, "gso@example.com", password)
		keep := e.signIn(e.pub, "bystander@example.com", password)
		must(e.api.AdminUserGlobalSignOut(e.ctx, &cip.AdminUserGlobalSignOutInput{UserPoolId: aws.String(e.pool), Username: aws.String("gso@example.com")}))(t)
		for _, tok := range []*types.AuthenticationResultType{a, b} {
			_, err := e.getUser(tok.AccessToken)
			wantErr(t, err, "NotAuthorizedException")
			_, err = e.refresh(e.pub, "", tok.RefreshToken)
			wantErr(t, err, "NotAuthorizedException")
		}
		if u := must(e.getUser(keep.AccessToken))(t); aws.ToString(u.Username) != other {
			t.Fatalf("bystander is %s", aws.ToString(u.Username))
		}
		must(e.refresh(e.pub, "", keep.RefreshToken))(t)
		must(e.getUser(e.signIn(e.pub, "gso@example.com", password).AccessToken))(t)
		_, err := e.api.AdminUserGlobalSignOut(e.ctx, &cip.AdminUserGlobalSignOutInput{UserPoolId: aws.String(e.pool), Username: aws.String("ghost@example.com")})
		wantErr(t, err, "UserNotFoundException")
	})
}

// TestGroups covers CreateGroup, ListGroups, AdminAddUserToGroup,
// AdminRemoveUserFromGroup, AdminListGroupsForUser and cognito:groups in
// tokens.
func TestGroups(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	groups := []struct {
		name       string
		precedence *int32
	}{
		{"admins", aws.Int32(5)}, {"editors", aws.Int32(1)}, {"readers", nil}, {"ops", aws.Int32(3)}, {"auditors", nil},
	}
	for _, g := range groups {
		out := must(e.api.CreateGroup(e.ctx, &cip.CreateGroupInput{
			UserPoolId: aws.String(e.pool), GroupName: aws.String(g.name), Precedence: g.precedence, Description: aws.String("the " + g.name),
		}))(t)
		if aws.ToString(out.Group.GroupName) != g.name || aws.ToString(out.Group.UserPoolId) != e.pool {
			t.Fatalf("created %+v", out.Group)
		}
	}
	_, err := e.api.CreateGroup(e.ctx, &cip.CreateGroupInput{UserPoolId: aws.String(e.pool), GroupName: aws.String("admins")})
	wantErr(t, err, "GroupExistsException")
	_, err = e.api.CreateGroup(e.ctx, &cip.CreateGroupInput{UserPoolId: aws.String(e.pool), GroupName: aws.String("neg"), Precedence: aws.Int32(-1)})
	wantErr(t, err, "InvalidParameterException")
	_, err = e.api.CreateGroup(e.ctx, &cip.CreateGroupInput{UserPoolId: aws.String("us-east-1_Missing1"), GroupName: aws.String("x")})
	wantErr(t, err, "ResourceNotFoundException")

	t.Run("ListGroups", func(t *testing.T) {
		var names []string
		pages := 0
		pg := cip.NewListGroupsPaginator(e.api, &cip.ListGroupsInput{UserPoolId: aws.String(e.pool), Limit: aws.Int32(2)})
		for pg.HasMorePages() {
			page := must(pg.NextPage(e.ctx))(t)
			if len(page.Groups) > 2 {
				t.Fatalf("page of %d", len(page.Groups))
			}
			for _, g := range page.Groups {
				names = append(names, aws.ToString(g.GroupName))
			}
			if pages++; pages > 10 {
				t.Fatal("pagination does not end")
			}
		}
		if want := []string{"admins", "auditors", "editors", "ops", "readers"}; !slices.Equal(names, want) {
			t.Fatalf("groups %v, want %v", names, want)
		}
	})

	sub := e.signUp(e.pub, "member@example.com")
	for _, g := range groups {
		must(e.api.AdminAddUserToGroup(e.ctx, &cip.AdminAddUserToGroupInput{
			UserPoolId: aws.String(e.pool), Username: aws.String("member@example.com"), GroupName: aws.String(g.name),
		}))(t)
	}
	// Adding twice is harmless.
	must(e.api.AdminAddUserToGroup(e.ctx, &cip.AdminAddUserToGroupInput{UserPoolId: aws.String(e.pool), Username: aws.String(sub), GroupName: aws.String("ops")}))(t)
	_, err = e.api.AdminAddUserToGroup(e.ctx, &cip.AdminAddUserToGroupInput{UserPoolId: aws.String(e.pool), Username: aws.String(sub), GroupName: aws.String("nosuch")})
	wantErr(t, err, "ResourceNotFoundException")
	_, err = e.api.AdminAddUserToGroup(e.ctx, &cip.AdminAddUserToGroupInput{UserPoolId: aws.String(e.pool), Username: aws.String("ghost@example.com"), GroupName: aws.String("ops")})
	wantErr(t, err, "UserNotFoundException")

	listFor := func() []string {
		t.Helper()
		var names []string
		pg := cip.NewAdminListGroupsForUserPaginator(e.api, &cip.AdminListGroupsForUserInput{UserPoolId: aws.String(e.pool), Username: aws.String(sub), Limit: aws.Int32(2)})
		for pg.HasMorePages() {
			for _, g := range must(pg.NextPage(e.ctx))(t).Groups {
				names = append(names, aws.ToString(g.GroupName))
			}
		}
		return names
	}
	// Precedence order, lowest first; groups without one last.
	want := []string{"editors", "ops", "admins", "auditors", "readers"}
	if got := listFor(); !slices.Equal(got, want) {
		t.Fatalf("AdminListGroupsForUser %v, want %v", got, want)
	}
	tokenGroups := func(tok *types.AuthenticationResultType) (access, id []string) {
		t.Helper()
		for i, jwt := range []*string{tok.AccessToken, tok.IdToken} {
			raw, ok := claims(t, aws.ToString(jwt))["cognito:groups"]
			var names []string
			if ok {
				for _, g := range raw.([]any) {
					names = append(names, g.(string))
				}
			}
			if i == 0 {
				access = names
			} else {
				id = names
			}
		}
		return access, id
	}
	tok := e.signIn(e.pub, "member@example.com", password)
	if a, i := tokenGroups(tok); !slices.Equal(a, want) || !slices.Equal(i, want) {
		t.Fatalf("cognito:groups access %v id %v, want %v", a, i, want)
	}

	must(e.api.AdminRemoveUserFromGroup(e.ctx, &cip.AdminRemoveUserFromGroupInput{
		UserPoolId: aws.String(e.pool), Username: aws.String("member@example.com"), GroupName: aws.String("editors"),
	}))(t)
	want = want[1:]
	if got := listFor(); !slices.Equal(got, want) {
		t.Fatalf("after removal %v, want %v", got, want)
	}
	// Tokens minted from now on, by sign-in or refresh, follow.
	for _, next := range []*types.AuthenticationResultType{e.signIn(e.pub, "member@example.com", password), must(e.refresh(e.pub, "", tok.RefreshToken))(t)} {
		if a, i := tokenGroups(next); !slices.Equal(a, want) || !slices.Equal(i, want) {
			t.Fatalf("cognito:groups access %v id %v, want %v", a, i, want)
		}
	}
	for _, g := range want {
		must(e.api.AdminRemoveUserFromGroup(e.ctx, &cip.AdminRemoveUserFromGroupInput{UserPoolId: aws.String(e.pool), Username: aws.String(sub), GroupName: aws.String(g)}))(t)
	}
	if a, i := tokenGroups(e.signIn(e.pub, "member@example.com", password)); a != nil || i != nil {
		t.Fatalf("groups %v %v after leaving all", a, i)
	}
	_, err = e.api.AdminRemoveUserFromGroup(e.ctx, &cip.AdminRemoveUserFromGroupInput{UserPoolId: aws.String(e.pool), Username: aws.String(sub), GroupName: aws.String("nosuch")})
	wantErr(t, err, "ResourceNotFoundException")
}

// TestListUsers covers ListUsers filters, pagination and projection.
func TestListUsers(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	alice := e.signUp(e.pub, "alice@example.com", attrT("given_name", "Alice"))
	albert := e.signUp(e.pub, "albert@example.com")
	bob := aws.ToString(must(e.api.SignUp(e.ctx, &cip.SignUpInput{
		ClientId: aws.String(e.pub), Username: aws.String("bob@example.org"), Password: aws.String(password),
	}))(t).UserSub)
	carol := e.signUp(e.pub, "carol@example.org")
	must(e.api.AdminDisableUser(e.ctx, &cip.AdminDisableUserInput{UserPoolId: aws.String(e.pool), Username: aws.String(carol)}))(t)
	dave := aws.ToString(must(e.api.AdminCreateUser(e.ctx, &cip.AdminCreateUserInput{
		UserPoolId: aws.String(e.pool), Username: aws.String("dave@example.com"), MessageAction: types.MessageActionTypeSuppress,
	}))(t).User.Username)
	all := []string{alice, albert, bob, carol, dave}

	list := func(t *testing.T, filter string, limit int32) ([]string, error) {
		t.Helper()
		in := &cip.ListUsersInput{UserPoolId: aws.String(e.pool)}
		if filter != "" {
			in.Filter = aws.String(filter)
		}
		if limit > 0 {
			in.Limit = aws.Int32(limit)
		}
		var names []string
		pg := cip.NewListUsersPaginator(e.api, in)
		for pages := 0; pg.HasMorePages(); pages++ {
			page, err := pg.NextPage(e.ctx)
			if err != nil {
				return nil, err
			}
			if limit > 0 && int32(len(page.Users)) > limit {
				t.Fatalf("page of %d users, Limit %d", len(page.Users), limit)
			}
			if pages > 20 {
				t.Fatal("pagination does not end")
			}
			for _, u := range page.Users {
				names = append(names, aws.ToString(u.Username))
			}
		}
		slices.Sort(names)
		return names, nil
	}
	sorted := func(s ...string) []string { s = slices.Clone(s); slices.Sort(s); return s }
	cases := []struct {
		filter string
		want   []string
	}{
		{``, all},
		{`email = "alice@example.com"`, []string{alice}},
		{`email = "nobody@example.com"`, nil},
		{`email ^= "al"`, []string{alice, albert}},
		{`email ^= ""`, all},
		{`given_name = "Alice"`, []string{alice}},
		{`cognito:user_status = "UNCONFIRMED"`, []string{bob}},
		{`cognito:user_status = "FORCE_CHANGE_PASSWORD"`, []string{dave}},
		{`status = "Disabled"`, []string{carol}},
		{`status = "Enabled"`, []string{alice, albert, bob, dave}},
		{`username = "` + bob + `"`, []string{bob}},
		{`sub = "` + alice + `"`, []string{alice}},
		{`email="albert@example.com"`, []string{albert}},
	}
	for _, tc := range cases {
		for _, limit := range []int32{0, 1, 2} {
			got, err := list(t, tc.filter, limit)
			if err != nil {
				t.Fatalf("filter %q limit %d: %v", tc.filter, limit, err)
			}
			if want := sorted(tc.want...); !slices.Equal(got, want) {
				t.Fatalf("filter %q limit %d: %v, want %v", tc.filter, limit, got, want)
			}
		}
	}
	for _, bad := range []string{`email == "x"`, `email = x`, `email = "x`, `nosuch = "x"`, `email ~ "x"`, `= "x"`, `email`, `email = "a" or email = "b"`, `custom:tier = "x"`} {
		_, err := list(t, bad, 0)
		wantErr(t, err, "InvalidParameterException")
	}
	for _, n := range []int32{-1, 61} {
		_, err := e.api.ListUsers(e.ctx, &cip.ListUsersInput{UserPoolId: aws.String(e.pool), Limit: aws.Int32(n)})
		wantErr(t, err, "InvalidParameterException")
	}
	_, err := e.api.ListUsers(e.ctx, &cip.ListUsersInput{UserPoolId: aws.String(e.pool), PaginationToken: aws.String("%%%")})
	wantErr(t, err, "InvalidParameterException")

	only := must(e.api.ListUsers(e.ctx, &cip.ListUsersInput{
		UserPoolId: aws.String(e.pool), Filter: aws.String(`email = "alice@example.com"`), AttributesToGet: []string{"email"},
	}))(t)
	if len(only.Users) != 1 || len(only.Users[0].Attributes) != 1 || aws.ToString(only.Users[0].Attributes[0].Name) != "email" {
		t.Fatalf("AttributesToGet [email]: %+v", only.Users)
	}
	u := only.Users[0]
	if u.UserStatus != types.UserStatusTypeConfirmed || !u.Enabled || u.UserCreateDate == nil {
		t.Fatalf("user %+v", u)
	}
}
