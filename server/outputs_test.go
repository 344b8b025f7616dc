package server

import (
	"encoding/json"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/cognate-auth/cognate/storage"
)

// custom.cognate names the endpoint and the issuer a pool's tokens carry
// (the one its discovery document states), so a backend can verify them
// without deriving Amazon Cognito's issuer from the pool id; custom.events
// stays.
func TestOutputsNameCognatesEndpointAndIssuer(t *testing.T) {
	dir := t.TempDir()
	s := newTestServer(t, Config{DataDir: dir, PublicURL: "http://127.0.0.1:8123/", TLSAddr: TLSOff})
	var out amplifyOutputs
	readJSON(t, filepath.Join(dir, "amplify_outputs.json"), &out)
	if out.Custom == nil {
		t.Fatal("outputs have no custom member")
	}
	var disc struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	w := serve(t, s, "GET", "/"+s.Pool.ID+"/.well-known/openid-configuration", "127.0.0.1:1")
	if err := json.Unmarshal(w.Body.Bytes(), &disc); err != nil {
		t.Fatalf("discovery %d: %v", w.Code, err)
	}
	want := outputsCognate{UserPoolEndpoint: "http://127.0.0.1:8123", Issuer: "http://127.0.0.1:8123/" + s.Pool.ID}
	if out.Custom.Cognate != want || disc.Issuer != want.Issuer || disc.JWKSURI != want.Issuer+"/.well-known/jwks.json" {
		t.Fatalf("custom.cognate = %+v, discovery %+v; want %+v", out.Custom.Cognate, disc, want)
	}
	if ev := out.Custom.Events; ev == nil || ev.URL != "http://127.0.0.1:8123/event" || ev.APIKey == "" {
		t.Fatalf("custom.events = %+v", ev)
	}
}

// auth.oauth is there for a client allowed the code flow, with the
// managed login's HTTPS host as the domain (Amplify builds
// https://<domain>/oauth2/…), its scopes, callback and sign-out URLs, and
// its social providers by Amplify's names; never over plain HTTP.
func TestOutputsOAuthForACodeFlowClient(t *testing.T) {
	c := storage.Client{Settings: storage.ClientSettings{
		AllowedOAuthFlowsUserPoolClient: true, AllowedOAuthFlows: []string{"code"},
		AllowedOAuthScopes: []string{"openid", "email"}, SupportedIdentityProviders: []string{"COGNITO", "Google", "MySAML"},
		CallbackURLs: []string{"http://localhost:3000/api/auth/sign-in-callback"}, LogoutURLs: []string{"http://localhost:3000/api/auth/sign-out-callback"},
	}}
	want := &outputsOAuth{
		IdentityProviders: []string{"GOOGLE"}, Domain: "localhost:9443", Scopes: []string{"openid", "email"},
		RedirectSignInURI: c.Settings.CallbackURLs, RedirectSignOutURI: c.Settings.LogoutURLs, ResponseType: "code",
	}
	if got := oauthFor(c, "https://localhost:9443"); !reflect.DeepEqual(got, want) {
		t.Fatalf("oauthFor = %+v, want %+v", got, want)
	}
	if got := oauthFor(c, "http://localhost:9229"); got != nil {
		t.Fatalf("over HTTP: %+v, want none", got)
	}
	implicit := c
	implicit.Settings.AllowedOAuthFlows = []string{"implicit"}
	noCallback := c
	noCallback.Settings.CallbackURLs = nil
	for _, c := range []storage.Client{implicit, noCallback, {}} {
		if got := oauthFor(c, "https://localhost:9443"); got != nil {
			t.Fatalf("client %+v: %+v, want none", c, got)
		}
	}
}
