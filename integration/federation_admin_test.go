package integration_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
)

// TestIdentityProviderAdmin drives every identity-provider operation
// through the SDK, with the exceptions Cognito answers.
func TestIdentityProviderAdmin(t *testing.T) {
	e := newEnv(t)
	evil := newEvilIdP(t) // any discoverable issuer will do
	pool := aws.String(e.pool)
	oidcDetails := map[string]string{
		"client_id": "cid", "client_secret": "csecret", "attributes_request_method": "POST",
		"oidc_issuer": evil.srv.URL, "authorize_scopes": "openid email",
	}
	create := func(name string, typ types.IdentityProviderTypeType, details map[string]string, ids ...string) (*cip.CreateIdentityProviderOutput, error) {
		return e.api.CreateIdentityProvider(e.ctx, &cip.CreateIdentityProviderInput{
			UserPoolId: pool, ProviderName: aws.String(name), ProviderType: typ, ProviderDetails: details, IdpIdentifiers: ids,
			AttributeMapping: map[string]string{"email": "email"},
		})
	}
	out := must(create("Okta", types.IdentityProviderTypeTypeOidc, oidcDetails, "okta.example"))(t)
	p := out.IdentityProvider
	if aws.ToString(p.ProviderName) != "Okta" || p.ProviderType != types.IdentityProviderTypeTypeOidc || p.ProviderDetails["client_secret"] != "csecret" ||
		p.AttributeMapping["username"] != "sub" || p.AttributeMapping["email"] != "email" || p.CreationDate == nil || len(p.IdpIdentifiers) != 1 {
		t.Fatalf("created %+v", p)
	}
	google := must(create("Google", types.IdentityProviderTypeTypeGoogle, map[string]string{
		"client_id": "g", "client_secret": "gs", "authorize_scopes": "openid email profile",
		"authorize_url": evil.srv.URL + "/authorize", "oidc_issuer": evil.srv.URL,
	}))(t).IdentityProvider
	if google.ProviderDetails["token_url"] != "https://www.googleapis.com/oauth2/v4/token" || google.ProviderDetails["authorize_url"] != evil.srv.URL+"/authorize" {
		t.Fatalf("Google preset details %v", google.ProviderDetails)
	}

	cases := []struct {
		name string
		err  error
		code string
	}{
		{"duplicate name", second(create("Okta", types.IdentityProviderTypeTypeOidc, oidcDetails)), "DuplicateProviderException"},
		{"identifier taken", second(create("Other", types.IdentityProviderTypeTypeOidc, oidcDetails, "OKTA.example")), "DuplicateProviderException"},
		{"details missing", second(create("Bare", types.IdentityProviderTypeTypeOidc, map[string]string{"client_id": "x"})), "InvalidParameterException"},
		{"bad request method", second(create("M", types.IdentityProviderTypeTypeOidc, with(oidcDetails, "attributes_request_method", "PUT"))), "InvalidParameterException"},
		{"unknown detail", second(create("U", types.IdentityProviderTypeTypeOidc, with(oidcDetails, "favourite_colour", "red"))), "InvalidParameterException"},
		{"undiscoverable issuer", second(create("D", types.IdentityProviderTypeTypeOidc, with(oidcDetails, "oidc_issuer", evil.srv.URL+"/nowhere"))), "InvalidParameterException"},
		{"plain http issuer elsewhere", second(create("H", types.IdentityProviderTypeTypeOidc, with(oidcDetails, "oidc_issuer", "http://idp.example.com"))), "InvalidParameterException"},
		{"social name", second(create("MyGoogle", types.IdentityProviderTypeTypeGoogle, map[string]string{"client_id": "g", "client_secret": "s", "authorize_scopes": "email"})), "InvalidParameterException"},
		{"SAML without metadata", second(create("Corp", types.IdentityProviderTypeTypeSaml, map[string]string{})), "InvalidParameterException"},
		{"reserved name", second(create("Cognito", types.IdentityProviderTypeTypeOidc, oidcDetails)), "InvalidParameterException"},
		{"unknown pool", second(e.api.DescribeIdentityProvider(e.ctx, &cip.DescribeIdentityProviderInput{UserPoolId: aws.String("us-east-1_nope"), ProviderName: aws.String("Okta")})), "ResourceNotFoundException"},
		{"unknown provider", second(e.api.DescribeIdentityProvider(e.ctx, &cip.DescribeIdentityProviderInput{UserPoolId: pool, ProviderName: aws.String("Nope")})), "ResourceNotFoundException"},
		{"unknown identifier", second(e.api.GetIdentityProviderByIdentifier(e.ctx, &cip.GetIdentityProviderByIdentifierInput{UserPoolId: pool, IdpIdentifier: aws.String("nope.example")})), "ResourceNotFoundException"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { wantErr(t, c.err, c.code) })
	}

	got := must(e.api.GetIdentityProviderByIdentifier(e.ctx, &cip.GetIdentityProviderByIdentifierInput{UserPoolId: pool, IdpIdentifier: aws.String("Okta.Example")}))(t)
	if aws.ToString(got.IdentityProvider.ProviderName) != "Okta" {
		t.Fatalf("by identifier: %+v", got.IdentityProvider)
	}
	upd := must(e.api.UpdateIdentityProvider(e.ctx, &cip.UpdateIdentityProviderInput{
		UserPoolId: pool, ProviderName: aws.String("Okta"), ProviderDetails: map[string]string{"authorize_scopes": "openid"},
		IdpIdentifiers: []string{"okta2.example"},
	}))(t).IdentityProvider
	if upd.ProviderDetails["authorize_scopes"] != "openid" || upd.ProviderDetails["client_secret"] != "csecret" || upd.IdpIdentifiers[0] != "okta2.example" ||
		!upd.LastModifiedDate.After(*p.LastModifiedDate) && !upd.LastModifiedDate.Equal(*p.LastModifiedDate) {
		t.Fatalf("updated %+v", upd)
	}
	desc := must(e.api.DescribeIdentityProvider(e.ctx, &cip.DescribeIdentityProviderInput{UserPoolId: pool, ProviderName: aws.String("Okta")}))(t)
	if desc.IdentityProvider.ProviderDetails["authorize_scopes"] != "openid" {
		t.Fatalf("described %+v", desc.IdentityProvider)
	}

	var names []string
	pg := cip.NewListIdentityProvidersPaginator(e.api, &cip.ListIdentityProvidersInput{UserPoolId: pool, MaxResults: aws.Int32(1)})
	for pg.HasMorePages() {
		page := must(pg.NextPage(e.ctx))(t)
		if len(page.Providers) > 1 {
			t.Fatalf("page of %d providers with MaxResults 1", len(page.Providers))
		}
		for _, p := range page.Providers {
			names = append(names, aws.ToString(p.ProviderName))
		}
	}
	if len(names) != 2 || names[0] != "Google" || names[1] != "Okta" {
		t.Fatalf("listed %v", names)
	}
	_, err := e.api.ListIdentityProviders(e.ctx, &cip.ListIdentityProvidersInput{UserPoolId: pool, MaxResults: aws.Int32(61)})
	wantErr(t, err, "InvalidParameterException")

	must(e.api.DeleteIdentityProvider(e.ctx, &cip.DeleteIdentityProviderInput{UserPoolId: pool, ProviderName: aws.String("Okta")}))(t)
	_, err = e.api.DeleteIdentityProvider(e.ctx, &cip.DeleteIdentityProviderInput{UserPoolId: pool, ProviderName: aws.String("Okta")})
	wantErr(t, err, "ResourceNotFoundException")
	_, err = e.api.DescribeIdentityProvider(e.ctx, &cip.DescribeIdentityProviderInput{UserPoolId: pool, ProviderName: aws.String("Okta")})
	wantErr(t, err, "ResourceNotFoundException")
}

func second[T any](_ T, err error) error { return err }

func with(m map[string]string, k, v string) map[string]string {
	out := map[string]string{k: v}
	for key, val := range m {
		if key != k {
			out[key] = val
		}
	}
	return out
}
