package integration_test

import (
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/go-jose/go-jose/v4"
)

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

// TestConfidentialClient: a client with a secret needs SECRET_HASH (or
// ClientSecret) on every unsigned call, and checks it.
func TestConfidentialClient(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	client, secret := e.newClient(e.pool, withSecret, rotation(false, 0))
	const email = "conf@example.com"
	good := secretHash(secret, email, client)
	bad := secretHash(secret+"x", email, client)

	signUp := func(hash *string) error {
		_, err := e.api.SignUp(e.ctx, &cip.SignUpInput{
			ClientId: aws.String(client), Username: aws.String(email), Password: aws.String(password), SecretHash: hash,
		})
		return err
	}
	wantErr(t, signUp(nil), "NotAuthorizedException")
	wantErr(t, signUp(aws.String(bad)), "NotAuthorizedException")
	wantErr(t, signUp(aws.String(secretHash(secret, "someone@example.com", client))), "NotAuthorizedException")
	if n := e.countUsers(e.pool); n != 0 {
		t.Fatalf("%d users after refused sign-ups", n)
	}
	if err := signUp(aws.String(good)); err != nil {
		t.Fatal(err)
	}
	code := e.code(email, "sign_up")
	_, err := e.api.ConfirmSignUp(e.ctx, &cip.ConfirmSignUpInput{ClientId: aws.String(client), Username: aws.String(email), ConfirmationCode: aws.String(code)})
	wantErr(t, err, "NotAuthorizedException")
	must(e.api.ConfirmSignUp(e.ctx, &cip.ConfirmSignUpInput{ClientId: aws.String(client), Username: aws.String(email), ConfirmationCode: aws.String(code), SecretHash: aws.String(good)}))(t)

	auth := func(params map[string]string) (*cip.InitiateAuthOutput, error) {
		return e.api.InitiateAuth(e.ctx, &cip.InitiateAuthInput{ClientId: aws.String(client), AuthFlow: types.AuthFlowTypeUserPasswordAuth, AuthParameters: params})
	}
	_, err = auth(map[string]string{"USERNAME": email, "PASSWORD": password})
	wantMessage(t, err, "NotAuthorizedException", "Client "+client+" is configured with secret but SECRET_HASH was not received")
	_, err = auth(map[string]string{"USERNAME": email, "PASSWORD": password, "SECRET_HASH": bad})
	wantErr(t, err, "NotAuthorizedException")
	tok := must(auth(map[string]string{"USERNAME": email, "PASSWORD": password, "SECRET_HASH": good}))(t).AuthenticationResult
	if tok == nil {
		t.Fatal("no tokens")
	}

	// SRP: both steps carry SECRET_HASH over the name they use.
	_, _, err = e.srpStart(e.pool, client, email, nil)
	wantErr(t, err, "NotAuthorizedException")
	c, cp := mustSRP(t)(e.srpStart(e.pool, client, email, map[string]string{"SECRET_HASH": good}))
	ans := e.srpAnswer(c, cp, password)
	_, err = e.respond(client, types.ChallengeNameTypePasswordVerifier, nil, ans)
	wantErr(t, err, "NotAuthorizedException")
	ans["SECRET_HASH"] = secretHash(secret, ans["USERNAME"], client)
	if r := must(e.respond(client, types.ChallengeNameTypePasswordVerifier, nil, ans))(t); r.AuthenticationResult == nil {
		t.Fatal("no tokens from SRP")
	}

	// Refresh: ClientSecret for GetTokensFromRefreshToken, SECRET_HASH
	// over the username (the sub) for REFRESH_TOKEN_AUTH.
	_, err = e.refresh(client, "", tok.RefreshToken)
	wantErr(t, err, "NotAuthorizedException")
	_, err = e.refresh(client, secret+"x", tok.RefreshToken)
	wantErr(t, err, "NotAuthorizedException")
	must(e.refresh(client, secret, tok.RefreshToken))(t)
	sub := claims(t, aws.ToString(tok.AccessToken))["username"].(string)
	rta := func(hash string) error {
		p := map[string]string{"REFRESH_TOKEN": aws.ToString(tok.RefreshToken)}
		if hash != "" {
			p["SECRET_HASH"] = hash
		}
		_, err := e.api.InitiateAuth(e.ctx, &cip.InitiateAuthInput{ClientId: aws.String(client), AuthFlow: types.AuthFlowTypeRefreshTokenAuth, AuthParameters: p})
		return err
	}
	wantErr(t, rta(""), "NotAuthorizedException")
	wantErr(t, rta(secretHash(secret+"x", sub, client)), "NotAuthorizedException")
	if err := rta(secretHash(secret, sub, client)); err != nil {
		t.Fatal(err)
	}

	// ForgotPassword too.
	_, err = e.api.ForgotPassword(e.ctx, &cip.ForgotPasswordInput{ClientId: aws.String(client), Username: aws.String(email)})
	wantErr(t, err, "NotAuthorizedException")
	must(e.api.ForgotPassword(e.ctx, &cip.ForgotPasswordInput{ClientId: aws.String(client), Username: aws.String(email), SecretHash: aws.String(good)}))(t)

	// RevokeToken authenticates with ClientSecret.
	_, err = e.api.RevokeToken(e.ctx, &cip.RevokeTokenInput{ClientId: aws.String(client), Token: tok.RefreshToken})
	wantErr(t, err, "NotAuthorizedException")
	must(e.refresh(client, secret, tok.RefreshToken))(t)
	must(e.api.RevokeToken(e.ctx, &cip.RevokeTokenInput{ClientId: aws.String(client), Token: tok.RefreshToken, ClientSecret: aws.String(secret)}))(t)
	_, err = e.refresh(client, secret, tok.RefreshToken)
	wantErr(t, err, "NotAuthorizedException")
}
