package integration_test

import (
	"net/http"
	"slices"
	"testing"
)

func TestOAuthDiscovery(t *testing.T) {
	t.Parallel()
	e := newOAuthEnv(t)
	d := e.disc
	if d.Issuer != e.issuer {
		t.Errorf("issuer %q, want %q", d.Issuer, e.issuer)
	}
	for name, got := range map[string]string{
		"authorization_endpoint": d.AuthorizationEndpoint, "token_endpoint": d.TokenEndpoint,
		"userinfo_endpoint": d.UserinfoEndpoint, "revocation_endpoint": d.RevocationEndpoint,
	} {
		want := e.origin + map[string]string{
			"authorization_endpoint": "/oauth2/authorize", "token_endpoint": "/oauth2/token",
			"userinfo_endpoint": "/oauth2/userInfo", "revocation_endpoint": "/oauth2/revoke",
		}[name]
		if got != want {
			t.Errorf("%s %q, want %q", name, got, want)
		}
	}
	if d.JwksURI != e.issuer+"/.well-known/jwks.json" {
		t.Errorf("jwks_uri %q", d.JwksURI)
	}
	if !slices.Contains(d.ResponseTypes, "code") {
		t.Errorf("response_types_supported %v lacks code", d.ResponseTypes)
	}
	t.Logf("advertised: response_types %v, grant_types %v, scopes %v, PKCE %v, client auth %v",
		d.ResponseTypes, d.GrantTypes, d.ScopesSupported, d.ChallengeMethods, d.TokenAuthMethods)
	// The endpoint go-oidc took from the document is the one advertised.
	if ep := e.prov.Endpoint(); ep.AuthURL != d.AuthorizationEndpoint || ep.TokenURL != d.TokenEndpoint {
		t.Errorf("go-oidc endpoint %+v", ep)
	}
	// An unknown pool has no discovery document.
	r := e.send(must(http.NewRequestWithContext(e.ctx, http.MethodGet, e.origin+"/us-east-1_Nope00000/.well-known/openid-configuration", nil))(t))
	if r.status != http.StatusNotFound {
		t.Errorf("discovery of an unknown pool: %s", r)
	}
}
