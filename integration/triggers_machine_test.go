package integration_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/cognate-auth/cognate/triggers"
)

// TestPreTokenGenerationV3ClientCredentials: a V3_0 trigger customises
// machine tokens (client_credentials); a V2_0 one is not asked about them.
func TestPreTokenGenerationV3ClientCredentials(t *testing.T) {
	e := newOAuthEnv(t)
	client, secret := e.oauthClient(clientSpec{
		flows: []string{"client_credentials"}, scopes: []string{"api/read", "api/write"}, secret: true,
		callbacks: []string{}, logouts: []string{},
	})
	var calls atomic.Int32
	var last atomic.Value
	hooks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		key, err := e.srv.Service().WebhookSecret(e.ctx, e.pool)
		if err != nil || triggers.Verify(key, r.Header.Get(triggers.HeaderTimestamp), r.Header.Get(triggers.HeaderSignature), body, time.Now()) != nil {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		calls.Add(1)
		var ev map[string]any
		json.Unmarshal(body, &ev)
		last.Store(ev)
		ev["response"] = map[string]any{"claimsAndScopeOverrideDetails": map[string]any{
			"accessTokenGeneration": map[string]any{"claimsToAddOrOverride": map[string]any{"tier": "gold"}, "scopesToSuppress": []any{"api/write"}},
		}}
		json.NewEncoder(w).Encode(ev)
	}))
	defer hooks.Close()
	setVersion := func(v types.PreTokenGenerationLambdaVersionType) {
		must(e.api.UpdateUserPool(e.ctx, &cip.UpdateUserPoolInput{UserPoolId: aws.String(e.pool),
			AutoVerifiedAttributes: []types.VerifiedAttributeType{types.VerifiedAttributeTypeEmail},
			LambdaConfig: &types.LambdaConfigType{PreTokenGenerationConfig: &types.PreTokenGenerationVersionConfigType{
				LambdaArn: aws.String(hooks.URL + "/token"), LambdaVersion: v}}}))(t)
	}
	machineToken := func() map[string]any {
		r := e.token(url.Values{"grant_type": {"client_credentials"}}, client, secret)
		if r.status != http.StatusOK {
			t.Fatalf("client_credentials: %s", r)
		}
		return claims(t, r.str("access_token"))
	}

	setVersion(types.PreTokenGenerationLambdaVersionTypeV30)
	c := machineToken()
	if c["tier"] != "gold" || c["scope"] != "api/read" || c["client_id"] != client {
		t.Fatalf("V3 machine token %v", c)
	}
	ev, _ := last.Load().(map[string]any)
	if ev["triggerSource"] != "TokenGeneration_ClientCredentials" || ev["version"] != "3" || path(ev, "callerContext", "clientId") != client {
		t.Fatalf("V3 event %v", ev)
	}

	setVersion(types.PreTokenGenerationLambdaVersionTypeV20)
	before := calls.Load()
	if c := machineToken(); c["tier"] != nil || scopeSet(c["scope"].(string)) != "api/read api/write" {
		t.Fatalf("V2 changed a machine token: %v", c)
	}
	if calls.Load() != before {
		t.Fatal("a V2 trigger was asked about a machine token")
	}
}

// TestUserMigrationOnLoginPage: a user unknown to the pool signs in on the
// managed login page; the migration webhook vouches for the password, and
// the authorization code flow completes for the new user.
func TestUserMigrationOnLoginPage(t *testing.T) {
	e := newOAuthEnv(t)
	client, _ := e.oauthClient(clientSpec{})
	hooks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var ev map[string]any
		json.NewDecoder(r.Body).Decode(&ev)
		if path(ev, "request", "password") != "Old-Password-9" || ev["triggerSource"] != "UserMigration_Authentication" {
			w.WriteHeader(http.StatusBadRequest)
			w.Write([]byte(`{"errorMessage":"Bad password"}`))
			return
		}
		ev["response"] = map[string]any{"userAttributes": map[string]any{"email": ev["userName"], "email_verified": "true"}, "finalUserStatus": "CONFIRMED"}
		json.NewEncoder(w).Encode(ev)
	}))
	defer hooks.Close()
	must(e.api.UpdateUserPool(e.ctx, &cip.UpdateUserPoolInput{UserPoolId: aws.String(e.pool),
		AutoVerifiedAttributes: []types.VerifiedAttributeType{types.VerifiedAttributeTypeEmail},
		LambdaConfig:           &types.LambdaConfigType{UserMigration: aws.String(hooks.URL + "/migrate")}}))(t)
	conf := e.rpConfig(client, "")
	b := e.newBrowser()
	r, code := b.login(conf, "moved@example.com", "Old-Password-9")
	tok := e.exchange(conf, r, code)
	if idc := e.verifyID(client, idToken(tok), tok.AccessToken, r.nonce); idc.Email != "moved@example.com" {
		t.Fatalf("migrated user's id token email %q", idc.Email)
	}
}
