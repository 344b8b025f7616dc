package server

import (
	"encoding/json"
	"path/filepath"
	"testing"
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
