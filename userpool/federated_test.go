package userpool_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/cognate-auth/cognate/federation"
	"github.com/cognate-auth/cognate/userpool"
)

func (e *env) oidcProvider(name string) {
	e.t.Helper()
	_, err := e.svc.CreateIdentityProvider(e.ctx, userpool.CreateIdentityProviderInput{
		UserPoolId: e.poolID, ProviderName: name, ProviderType: federation.TypeOIDC,
		ProviderDetails: map[string]string{
			"client_id": "cid", "client_secret": "the-secret", "attributes_request_method": "GET",
			"oidc_issuer": "https://idp.example", "authorize_scopes": "openid",
			"authorize_url": "https://idp.example/a", "token_url": "https://idp.example/t", "jwks_uri": "https://idp.example/k",
		},
		AttributeMapping: map[string]string{"email": "email", "email_verified": "email_verified"},
	})
	if err != nil {
		e.t.Fatal(err)
	}
}

func TestProviderSecretsSealedAtRest(t *testing.T) {
	e := newEnv(t, nil)
	e.oidcProvider("Okta")
	stored, err := e.store.GetIdentityProvider(e.ctx, e.poolID, "Okta")
	if err != nil {
		t.Fatal(err)
	}
	if v := stored.Details["client_secret"]; !strings.HasPrefix(v, "sealed:") || strings.Contains(v, "the-secret") {
		t.Fatalf("client_secret stored as %q", v)
	}
	got, err := e.svc.DescribeIdentityProvider(e.ctx, userpool.ProviderInput{UserPoolId: e.poolID, ProviderName: "Okta"})
	if err != nil || got.IdentityProvider.ProviderDetails["client_secret"] != "the-secret" {
		t.Fatalf("described %+v, %v", got.IdentityProvider.ProviderDetails, err)
	}
}

func TestFederationStateLivesTenMinutesAndIsUsedOnce(t *testing.T) {
	e := newEnv(t, nil)
	type flow struct{ S string }
	sealed, err := e.svc.SealFederationState(flow{S: "x"})
	if err != nil {
		t.Fatal(err)
	}
	var got flow
	steps := []struct {
		advance time.Duration
		sealed  string
		ok      bool
	}{
		{9 * time.Minute, sealed, true},
		{0, sealed[:len(sealed)-4] + "AAAA", false},
		{2 * time.Minute, sealed, false},
	}
	for i, s := range steps {
		e.clock.Advance(s.advance)
		err := e.svc.OpenFederationState(s.sealed, &got)
		if (err == nil) != s.ok || (err != nil && !errors.Is(err, userpool.ErrNotAuthorized)) {
			t.Fatalf("step %d: %v", i, err)
		}
	}
	for i, want := range []bool{true, false} {
		won, err := e.svc.ClaimFederationState(e.ctx, "state-1")
		if err != nil || won != want {
			t.Fatalf("claim %d: %v %v", i, won, err)
		}
	}
}

func TestFederatedSignInRules(t *testing.T) {
	e := newEnv(t, nil)
	e.oidcProvider("Okta")
	c, err := e.svc.UpdateUserPoolClient(e.ctx, userpool.UpdateUserPoolClientInput{ClientSettingsInput: userpool.ClientSettingsInput{
		UserPoolId: e.poolID, SupportedIdentityProviders: []string{"COGNITO", "Okta"},
		ExplicitAuthFlows: []string{"ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"},
	}, ClientId: e.client})
	if err != nil {
		t.Fatal(err)
	}
	id := func(sub string) federation.Identity {
		return federation.Identity{Subject: sub, Attributes: map[string]string{"sub": sub, "email": "x@example.com", "email_verified": "false"}}
	}
	cases := []struct {
		name, provider string
		id             federation.Identity
		want           string
		err            error
	}{
		{"first sign-in", "Okta", id("s1"), "Okta_s1", nil},
		{"again, same user", "Okta", id("s1"), "Okta_s1", nil},
		{"same email, other subject: another user", "Okta", id("s2"), "Okta_s2", nil},
		{"provider the client lacks", "Other", id("s3"), "", userpool.ErrUnsupportedIdentityProvider},
		{"no subject", "Okta", federation.Identity{}, "", userpool.ErrInvalidParameter},
		{"subject too long", "Okta", id(strings.Repeat("s", 130)), "", userpool.ErrInvalidParameter},
	}
	for _, tc := range cases {
		got, err := e.svc.FederatedSignIn(e.ctx, c.UserPoolClient.ClientId, tc.provider, tc.id)
		if got != tc.want || (tc.err == nil) != (err == nil) || (tc.err != nil && !errors.Is(err, tc.err)) {
			t.Errorf("%s: %q, %v; want %q, %v", tc.name, got, err, tc.want, tc.err)
		}
	}
	u, err := e.svc.AdminGetUser(e.ctx, userpool.AdminUserInput{UserPoolId: e.poolID, Username: "Okta_s1"})
	if err != nil || u.UserStatus != "EXTERNAL_PROVIDER" {
		t.Fatalf("federated user %+v, %v", u, err)
	}
}
