package integration_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/cognate-auth/cognate/server"
)

func TestTriggerConfigRoundTrips(t *testing.T) {
	h := newHookEnv(t)
	lc := &types.LambdaConfigType{
		PreSignUp: h.url("/preSignUp"), PostConfirmation: h.url("/postConfirmation"),
		PreAuthentication: h.url("/preAuthentication"), PostAuthentication: h.url("/postAuthentication"),
		CustomMessage: h.url("/customMessage"), UserMigration: h.url("/userMigration"),
		DefineAuthChallenge: h.url("/define"), CreateAuthChallenge: h.url("/create"), VerifyAuthChallengeResponse: h.url("/verify"),
		PreTokenGenerationConfig: &types.PreTokenGenerationVersionConfigType{LambdaArn: h.url("/preToken"), LambdaVersion: types.PreTokenGenerationLambdaVersionTypeV20},
	}
	pool, _ := h.triggerPool(lc)
	got := must(h.api.DescribeUserPool(h.ctx, &cip.DescribeUserPoolInput{UserPoolId: aws.String(pool)}))(t).UserPool.LambdaConfig
	if got == nil || aws.ToString(got.PreSignUp) != *lc.PreSignUp || aws.ToString(got.UserMigration) != *lc.UserMigration ||
		aws.ToString(got.PreTokenGeneration) != *lc.PreTokenGenerationConfig.LambdaArn ||
		got.PreTokenGenerationConfig == nil || got.PreTokenGenerationConfig.LambdaVersion != types.PreTokenGenerationLambdaVersionTypeV20 {
		t.Fatalf("described LambdaConfig %+v", got)
	}
	// UpdateUserPool replaces the configuration; left out, it is gone.
	must(h.api.UpdateUserPool(h.ctx, &cip.UpdateUserPoolInput{UserPoolId: aws.String(pool), LambdaConfig: &types.LambdaConfigType{PreSignUp: h.url("/other")}}))(t)
	got = must(h.api.DescribeUserPool(h.ctx, &cip.DescribeUserPoolInput{UserPoolId: aws.String(pool)}))(t).UserPool.LambdaConfig
	if aws.ToString(got.PreSignUp) != h.hooks.URL+"/other" || got.UserMigration != nil || got.PreTokenGenerationConfig != nil {
		t.Fatalf("updated LambdaConfig %+v", got)
	}
	must(h.api.UpdateUserPool(h.ctx, &cip.UpdateUserPoolInput{UserPoolId: aws.String(pool)}))(t)
	got = must(h.api.DescribeUserPool(h.ctx, &cip.DescribeUserPoolInput{UserPoolId: aws.String(pool)}))(t).UserPool.LambdaConfig
	if got == nil || got.PreSignUp != nil {
		t.Fatalf("LambdaConfig after an update without one: %+v", got)
	}
}

func TestTriggerConfigRefusesBadURLs(t *testing.T) {
	h := newHookEnv(t)
	for _, tc := range []struct {
		name string
		lc   types.LambdaConfigType
	}{
		{"not a URL", types.LambdaConfigType{PreSignUp: aws.String("arn:aws:lambda:us-east-1:1:function:f")}},
		{"ftp", types.LambdaConfigType{PreSignUp: aws.String("ftp://example.com/hook")}},
		{"http off loopback", types.LambdaConfigType{PreSignUp: aws.String("http://example.com/hook")}},
		{"credentials in URL", types.LambdaConfigType{PreSignUp: aws.String("https://u:p@example.com/hook")}},
		{"private address", types.LambdaConfigType{PostConfirmation: aws.String("https://10.1.2.3/hook")}},
		{"metadata address", types.LambdaConfigType{UserMigration: aws.String("https://169.254.169.254/latest")}},
		{"unique local IPv6", types.LambdaConfigType{PreAuthentication: aws.String("https://[fd00::1]/hook")}},
		{"half a custom auth", types.LambdaConfigType{DefineAuthChallenge: h.url("/define")}},
		{"two token hooks", types.LambdaConfigType{PreTokenGeneration: h.url("/a"), PreTokenGenerationConfig: &types.PreTokenGenerationVersionConfigType{LambdaArn: h.url("/b"), LambdaVersion: types.PreTokenGenerationLambdaVersionTypeV10}}},
		{"unknown version", types.LambdaConfigType{PreTokenGenerationConfig: &types.PreTokenGenerationVersionConfigType{LambdaArn: h.url("/b"), LambdaVersion: "V9_0"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := h.api.CreateUserPool(h.ctx, &cip.CreateUserPoolInput{PoolName: aws.String("bad"), LambdaConfig: &tc.lc})
			wantErr(t, err, "InvalidParameterException")
		})
	}
	pools := must(h.api.ListUserPools(h.ctx, &cip.ListUserPoolsInput{MaxResults: aws.Int32(60)}))(t).UserPools
	if len(pools) != 1 {
		t.Fatalf("%d pools after refused creations, want the default one", len(pools))
	}
	// The operator may allow private addresses.
	priv := newEnvWith(t, server.Config{WebhookAllowPrivate: true})
	must(priv.api.CreateUserPool(priv.ctx, &cip.CreateUserPoolInput{PoolName: aws.String("private"),
		LambdaConfig: &types.LambdaConfigType{PostConfirmation: aws.String("https://10.1.2.3/hook")}}))(t)
}

func TestPreSignUpAutoConfirmsAndPostConfirmationRuns(t *testing.T) {
	h := newHookEnv(t)
	pool, client := h.triggerPool(&types.LambdaConfigType{PreSignUp: h.url("/preSignUp"), PostConfirmation: h.url("/postConfirmation")})
	h.on("/preSignUp", func(w http.ResponseWriter, ev map[string]any) bool {
		r := response(ev)
		r["autoConfirmUser"], r["autoVerifyEmail"] = true, true
		return false
	})
	out := must(h.api.SignUp(h.ctx, &cip.SignUpInput{
		ClientId: aws.String(client), Username: aws.String("alice"), Password: aws.String(password),
		UserAttributes: []types.AttributeType{attrT("email", "alice@example.com")},
		ValidationData: []types.AttributeType{attrT("invite", "x1")},
		ClientMetadata: map[string]string{"campaign": "spring"},
	}))(t)
	if !out.UserConfirmed || out.CodeDeliveryDetails != nil {
		t.Fatalf("SignUp: confirmed %v, delivery %+v; want confirmed without a code", out.UserConfirmed, out.CodeDeliveryDetails)
	}
	ev := h.last("/preSignUp")
	for k, want := range map[string]any{
		"version": "1", "triggerSource": "PreSignUp_SignUp", "region": "us-east-1", "userPoolId": pool, "userName": "alice",
	} {
		if ev[k] != want {
			t.Errorf("pre sign-up event %s = %v, want %v", k, ev[k], want)
		}
	}
	if path(ev, "callerContext", "clientId") != client || path(ev, "callerContext", "awsSdkVersion") == nil ||
		path(ev, "request", "userAttributes", "email") != "alice@example.com" ||
		path(ev, "request", "validationData", "invite") != "x1" || path(ev, "request", "clientMetadata", "campaign") != "spring" ||
		path(ev, "response", "autoConfirmUser") != false {
		t.Errorf("pre sign-up event %v", ev)
	}
	u := must(h.adminGet(pool, "alice"))(t)
	if u.UserStatus != types.UserStatusTypeConfirmed {
		t.Fatalf("status %s, want CONFIRMED", u.UserStatus)
	}
	if v, _ := attr(u.UserAttributes, "email_verified"); v != "true" {
		t.Fatalf("email_verified %q, want true", v)
	}
	pc := h.last("/postConfirmation")
	if pc["triggerSource"] != "PostConfirmation_ConfirmSignUp" || path(pc, "request", "userAttributes", "cognito:user_status") != "CONFIRMED" ||
		path(pc, "request", "userAttributes", "sub") == nil {
		t.Fatalf("post confirmation event %v", pc)
	}
	h.signIn(client, "alice", password)
}

func TestPostConfirmationAfterConfirmSignUp(t *testing.T) {
	h := newHookEnv(t)
	_, client := h.triggerPool(&types.LambdaConfigType{PostConfirmation: h.url("/postConfirmation")})
	must(h.api.SignUp(h.ctx, &cip.SignUpInput{ClientId: aws.String(client), Username: aws.String("bob"), Password: aws.String(password),
		UserAttributes: []types.AttributeType{attrT("email", "bob@example.com")}}))(t)
	if n := len(h.received("/postConfirmation")); n != 0 {
		t.Fatalf("post confirmation ran %d times before confirmation", n)
	}
	must(h.api.ConfirmSignUp(h.ctx, &cip.ConfirmSignUpInput{ClientId: aws.String(client), Username: aws.String("bob"),
		ConfirmationCode: aws.String(h.code("bob@example.com", "sign_up"))}))(t)
	if ev := h.last("/postConfirmation"); ev["userName"] != "bob" || path(ev, "request", "userAttributes", "email_verified") != "true" {
		t.Fatalf("post confirmation event %v", ev)
	}
}

func TestAuthenticationTriggers(t *testing.T) {
	h := newHookEnv(t)
	pool, client := h.triggerPool(&types.LambdaConfigType{PreAuthentication: h.url("/preAuth"), PostAuthentication: h.url("/postAuth")})
	must(h.api.AdminCreateUser(h.ctx, &cip.AdminCreateUserInput{UserPoolId: aws.String(pool), Username: aws.String("carol"),
		MessageAction: types.MessageActionTypeSuppress}))(t)
	must(h.api.AdminSetUserPassword(h.ctx, &cip.AdminSetUserPasswordInput{UserPoolId: aws.String(pool), Username: aws.String("carol"),
		Password: aws.String(password), Permanent: true}))(t)

	h.signIn(client, "carol", password)
	h.srpSignIn(pool, client, "carol", password)
	if pre, post := h.received("/preAuth"), h.received("/postAuth"); len(pre) != 2 || len(post) != 2 {
		t.Fatalf("%d pre and %d post authentication events for two sign-ins", len(pre), len(post))
	}
	if ev := h.last("/preAuth"); ev["triggerSource"] != "PreAuthentication_Authentication" || path(ev, "request", "userAttributes", "cognito:user_status") != "CONFIRMED" {
		t.Fatalf("pre authentication event %v", ev)
	}
	if ev := h.last("/postAuth"); ev["triggerSource"] != "PostAuthentication_Authentication" || path(ev, "request", "newDeviceUsed") != false {
		t.Fatalf("post authentication event %v", ev)
	}

	// A wrong password never reaches post authentication.
	_, err := h.passwordAuth(client, "carol", password2)
	wantErr(t, err, "NotAuthorizedException")
	if n := len(h.received("/postAuth")); n != 2 {
		t.Fatalf("post authentication ran for a wrong password")
	}

	// Either hook's refusal is the client's error.
	for _, p := range []struct{ path, trigger string }{{"/preAuth", "PreAuthentication"}, {"/postAuth", "PostAuthentication"}} {
		h.on(p.path, func(w http.ResponseWriter, ev map[string]any) bool {
			w.WriteHeader(http.StatusBadRequest)
			w.Write([]byte(`{"errorType":"Error","errorMessage":"outside office hours"}`))
			return true
		})
		_, err := h.passwordAuth(client, "carol", password)
		wantMessage(t, err, "UserLambdaValidationException", p.trigger+" failed with error outside office hours.")
		h.on(p.path, nil)
	}
}

func TestPreTokenGeneration(t *testing.T) {
	h := newHookEnv(t)
	for _, tc := range []struct {
		version types.PreTokenGenerationLambdaVersionType
		answer  func(r map[string]any)
		check   func(t *testing.T, id, access map[string]any)
	}{
		{types.PreTokenGenerationLambdaVersionTypeV10, func(r map[string]any) {
			r["claimsOverrideDetails"] = map[string]any{
				"claimsToAddOrOverride": map[string]any{"tenant": "acme"},
				"claimsToSuppress":      []any{"email"},
				"groupOverrideDetails":  map[string]any{"groupsToOverride": []any{"admins"}},
			}
		}, func(t *testing.T, id, access map[string]any) {
			if id["tenant"] != "acme" || id["email"] != nil || access["tenant"] != nil {
				t.Fatalf("V1 claims: id %v access %v", id, access)
			}
			if g, _ := id["cognito:groups"].([]any); len(g) != 1 || g[0] != "admins" {
				t.Fatalf("V1 groups in id token: %v", id["cognito:groups"])
			}
			if g, _ := access["cognito:groups"].([]any); len(g) != 1 || g[0] != "admins" {
				t.Fatalf("V1 groups in access token: %v", access["cognito:groups"])
			}
		}},
		{types.PreTokenGenerationLambdaVersionTypeV20, func(r map[string]any) {
			r["claimsAndScopeOverrideDetails"] = map[string]any{
				"idTokenGeneration": map[string]any{"claimsToAddOrOverride": map[string]any{"plan": "gold", "limits": map[string]any{"seats": 5}}},
				"accessTokenGeneration": map[string]any{
					"claimsToAddOrOverride": map[string]any{"plan": "gold"},
					"scopesToAdd":           []any{"api/read"},
					"scopesToSuppress":      []any{"aws.cognito.signin.user.admin"},
				},
			}
		}, func(t *testing.T, id, access map[string]any) {
			if id["plan"] != "gold" || fmt.Sprint(path(id, "limits", "seats")) != "5" || access["plan"] != "gold" || access["scope"] != "api/read" {
				t.Fatalf("V2 claims: id %v access %v", id, access)
			}
		}},
	} {
		t.Run(string(tc.version), func(t *testing.T) {
			pool, client := h.triggerPool(&types.LambdaConfigType{PreTokenGenerationConfig: &types.PreTokenGenerationVersionConfigType{
				LambdaArn: h.url("/token/" + string(tc.version)), LambdaVersion: tc.version}})
			h.on("/token/"+string(tc.version), func(w http.ResponseWriter, ev map[string]any) bool {
				tc.answer(response(ev))
				return false
			})
			must(h.api.AdminCreateUser(h.ctx, &cip.AdminCreateUserInput{UserPoolId: aws.String(pool), Username: aws.String("dan"),
				UserAttributes: []types.AttributeType{attrT("email", "dan@example.com")}, MessageAction: types.MessageActionTypeSuppress}))(t)
			must(h.api.AdminSetUserPassword(h.ctx, &cip.AdminSetUserPasswordInput{UserPoolId: aws.String(pool), Username: aws.String("dan"),
				Password: aws.String(password), Permanent: true}))(t)
			tok := h.signIn(client, "dan", password)
			tc.check(t, claims(t, *tok.IdToken), claims(t, *tok.AccessToken))
			ev := h.last("/token/" + string(tc.version))
			wantVersion := map[types.PreTokenGenerationLambdaVersionType]string{"V1_0": "1", "V2_0": "2"}[tc.version]
			if ev["version"] != wantVersion || ev["triggerSource"] != "TokenGeneration_Authentication" ||
				path(ev, "request", "userAttributes", "email") != "dan@example.com" || path(ev, "request", "groupConfiguration", "groupsToOverride") == nil {
				t.Fatalf("pre token generation event %v", ev)
			}
			if _, hasScopes := path(ev, "request").(map[string]any)["scopes"]; hasScopes != (tc.version != "V1_0") {
				t.Fatalf("scopes in a %s event: %v", tc.version, hasScopes)
			}
			// Refreshing runs it again, as TokenGeneration_RefreshTokens.
			ref := must(h.refresh(client, "", tok.RefreshToken))(t)
			tc.check(t, claims(t, *ref.IdToken), claims(t, *ref.AccessToken))
			if ev := h.last("/token/" + string(tc.version)); ev["triggerSource"] != "TokenGeneration_RefreshTokens" {
				t.Fatalf("refresh event source %v", ev["triggerSource"])
			}
		})
	}
	t.Run("reserved claim", func(t *testing.T) {
		pool, client := h.triggerPool(&types.LambdaConfigType{PreTokenGeneration: h.url("/token/reserved")})
		h.on("/token/reserved", func(w http.ResponseWriter, ev map[string]any) bool {
			response(ev)["claimsOverrideDetails"] = map[string]any{"claimsToAddOrOverride": map[string]any{"sub": "someone-else"}}
			return false
		})
		must(h.api.AdminCreateUser(h.ctx, &cip.AdminCreateUserInput{UserPoolId: aws.String(pool), Username: aws.String("eve"), MessageAction: types.MessageActionTypeSuppress}))(t)
		must(h.api.AdminSetUserPassword(h.ctx, &cip.AdminSetUserPasswordInput{UserPoolId: aws.String(pool), Username: aws.String("eve"), Password: aws.String(password), Permanent: true}))(t)
		_, err := h.passwordAuth(client, "eve", password)
		if ae := wantErr(t, err, "InvalidLambdaResponseException"); !strings.Contains(ae.ErrorMessage(), "sub") {
			t.Fatalf("message %q does not name the claim", ae.ErrorMessage())
		}
	})
}
