package integration_test

import (
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
)

// Defaults of a new app client and pool, checked against Cognito's API
// reference: what a CreateUserPoolClient or CreateUserPool with no
// optional member gets, as DescribeUserPoolClient and DescribeUserPool
// report it, and how the client then behaves. README "Differences from
// Amazon Cognito" lists where Cognate deliberately differs.

// cognitoDefaultFlows are the flows Cognito allows a client that lists
// none (UserPoolClientType.ExplicitAuthFlows).
var cognitoDefaultFlows = []types.ExplicitAuthFlowsType{
	types.ExplicitAuthFlowsTypeAllowCustomAuth, types.ExplicitAuthFlowsTypeAllowRefreshTokenAuth,
	types.ExplicitAuthFlowsTypeAllowUserSrpAuth,
}

// sameFlows compares flow lists as sets: Cognito promises no order.
func sameFlows(got, want []types.ExplicitAuthFlowsType) bool {
	return len(got) == len(want) && !slices.ContainsFunc(want, func(f types.ExplicitAuthFlowsType) bool { return !slices.Contains(got, f) })
}

// checkDefaultSettings checks the members every client gets when its
// request leaves them out: the token lives, session length, revocation,
// existence errors, OAuth off, all attributes readable and writable
// (none listed), rotation off.
func checkDefaultSettings(t *testing.T, c *types.UserPoolClientType) {
	t.Helper()
	u := c.TokenValidityUnits
	if u == nil {
		t.Fatal("no TokenValidityUnits")
	}
	// 60 minutes is Cognito's one hour, in the unit Cognate stores it.
	if aws.ToInt32(c.AccessTokenValidity) != 60 || u.AccessToken != types.TimeUnitsTypeMinutes ||
		aws.ToInt32(c.IdTokenValidity) != 60 || u.IdToken != types.TimeUnitsTypeMinutes {
		t.Errorf("access %d %s, id %d %s; want one hour each", aws.ToInt32(c.AccessTokenValidity), u.AccessToken, aws.ToInt32(c.IdTokenValidity), u.IdToken)
	}
	if c.RefreshTokenValidity != 30 || u.RefreshToken != types.TimeUnitsTypeDays {
		t.Errorf("refresh %d %s, want 30 days", c.RefreshTokenValidity, u.RefreshToken)
	}
	if aws.ToInt32(c.AuthSessionValidity) != 3 {
		t.Errorf("AuthSessionValidity %d, want 3", aws.ToInt32(c.AuthSessionValidity))
	}
	if !aws.ToBool(c.EnableTokenRevocation) {
		t.Error("EnableTokenRevocation off")
	}
	if c.EnablePropagateAdditionalUserContextData == nil || *c.EnablePropagateAdditionalUserContextData {
		t.Errorf("EnablePropagateAdditionalUserContextData %v, want false", c.EnablePropagateAdditionalUserContextData)
	}
	// ENABLED, not the API's LEGACY: a deliberate difference (README).
	if c.PreventUserExistenceErrors != types.PreventUserExistenceErrorTypesEnabled {
		t.Errorf("PreventUserExistenceErrors %s", c.PreventUserExistenceErrors)
	}
	if aws.ToBool(c.AllowedOAuthFlowsUserPoolClient) || len(c.AllowedOAuthFlows) != 0 || len(c.AllowedOAuthScopes) != 0 ||
		len(c.CallbackURLs) != 0 || len(c.LogoutURLs) != 0 || len(c.SupportedIdentityProviders) != 0 {
		t.Errorf("OAuth settings %v %v %v %v %v %v", aws.ToBool(c.AllowedOAuthFlowsUserPoolClient), c.AllowedOAuthFlows, c.AllowedOAuthScopes,
			c.CallbackURLs, c.LogoutURLs, c.SupportedIdentityProviders)
	}
	if len(c.ReadAttributes) != 0 || len(c.WriteAttributes) != 0 {
		t.Errorf("ReadAttributes %v WriteAttributes %v", c.ReadAttributes, c.WriteAttributes)
	}
	if r := c.RefreshTokenRotation; r == nil || r.Feature != types.FeatureTypeDisabled {
		t.Errorf("RefreshTokenRotation %+v, want DISABLED", r)
	}
}

// checkNoRotation: a refresh token of a client without rotation gets no
// new refresh token, keeps working however often it is used, and may
// also refresh through InitiateAuth REFRESH_TOKEN_AUTH (which rotating
// clients refuse).
func checkNoRotation(t *testing.T, e *env, client string, rt *string) {
	t.Helper()
	for range 2 {
		out := must(e.refresh(client, "", rt))(t)
		if out.RefreshToken != nil || out.AccessToken == nil {
			t.Fatalf("GetTokensFromRefreshToken: refresh token %v, access token %v", out.RefreshToken != nil, out.AccessToken != nil)
		}
	}
	out := must(e.api.InitiateAuth(e.ctx, &cip.InitiateAuthInput{
		ClientId: aws.String(client), AuthFlow: types.AuthFlowTypeRefreshTokenAuth,
		AuthParameters: map[string]string{"REFRESH_TOKEN": aws.ToString(rt)},
	}))(t)
	if out.AuthenticationResult == nil || out.AuthenticationResult.RefreshToken != nil {
		t.Fatalf("REFRESH_TOKEN_AUTH: %+v", out.AuthenticationResult)
	}
}

// TestNewClientDefaults: a client created with only a pool and a name.
func TestNewClientDefaults(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	created := must(e.api.CreateUserPoolClient(e.ctx, &cip.CreateUserPoolClientInput{
		UserPoolId: aws.String(e.pool), ClientName: aws.String("bare"),
	}))(t).UserPoolClient
	id := aws.ToString(created.ClientId)
	described := must(e.api.DescribeUserPoolClient(e.ctx, &cip.DescribeUserPoolClientInput{
		UserPoolId: aws.String(e.pool), ClientId: aws.String(id),
	}))(t).UserPoolClient
	for name, c := range map[string]*types.UserPoolClientType{"created": created, "described": described} {
		t.Run(name, func(t *testing.T) {
			checkDefaultSettings(t, c)
			if c.ClientSecret != nil {
				t.Error("a secret nobody asked for")
			}
			if !sameFlows(c.ExplicitAuthFlows, cognitoDefaultFlows) {
				t.Errorf("ExplicitAuthFlows %v, want %v", c.ExplicitAuthFlows, cognitoDefaultFlows)
			}
		})
	}

	// The default flows are the ones enforced: SRP signs in, a password
	// sent in the clear does not.
	e.signUp(e.pub, "bare@example.com")
	if _, err := e.passwordAuth(id, "bare@example.com", password); err == nil {
		t.Fatal("USER_PASSWORD_AUTH allowed on a client that lists no flows")
	}
	tok := e.srpSignIn(e.pool, id, "bare@example.com", password)
	if tok.ExpiresIn != 3600 {
		t.Errorf("ExpiresIn %d, want 3600", tok.ExpiresIn)
	}
	checkNoRotation(t, e, id, tok.RefreshToken)
}

// TestBootstrapClientDefaults: the web client `cognate serve` creates on
// first start asks for SRP and password sign-in and otherwise has a new
// Cognito client's settings; in particular it does not rotate refresh
// tokens.
func TestBootstrapClientDefaults(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := must(e.api.DescribeUserPoolClient(e.ctx, &cip.DescribeUserPoolClientInput{
		UserPoolId: aws.String(e.pool), ClientId: aws.String(e.pub),
	}))(t).UserPoolClient
	if aws.ToString(c.ClientName) != "web" || c.ClientSecret != nil {
		t.Fatalf("bootstrap client %q, secret %v", aws.ToString(c.ClientName), c.ClientSecret != nil)
	}
	checkDefaultSettings(t, c)
	if !sameFlows(c.ExplicitAuthFlows, allFlows) {
		t.Errorf("ExplicitAuthFlows %v, want %v", c.ExplicitAuthFlows, allFlows)
	}
	e.signUp(e.pub, "web@example.com")
	checkNoRotation(t, e, e.pub, e.signIn(e.pub, "web@example.com", password).RefreshToken)
}

// TestNewPoolDefaults: a pool created with only a name.
func TestNewPoolDefaults(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	created := must(e.api.CreateUserPool(e.ctx, &cip.CreateUserPoolInput{PoolName: aws.String("bare")}))(t).UserPool
	described := must(e.api.DescribeUserPool(e.ctx, &cip.DescribeUserPoolInput{UserPoolId: created.Id}))(t).UserPool
	for name, p := range map[string]*types.UserPoolType{"created": created, "described": described} {
		t.Run(name, func(t *testing.T) {
			if p.Policies == nil || p.Policies.PasswordPolicy == nil {
				t.Fatal("no password policy")
			}
			pp := p.Policies.PasswordPolicy
			if aws.ToInt32(pp.MinimumLength) != 8 || !pp.RequireUppercase || !pp.RequireLowercase || !pp.RequireNumbers || !pp.RequireSymbols ||
				pp.TemporaryPasswordValidityDays != 7 {
				t.Errorf("password policy %+v, want 8 characters of every kind and 7-day temporary passwords", *pp)
			}
			if p.MfaConfiguration != types.UserPoolMfaTypeOff {
				t.Errorf("MfaConfiguration %s", p.MfaConfiguration)
			}
			if p.DeletionProtection != types.DeletionProtectionTypeInactive {
				t.Errorf("DeletionProtection %q", p.DeletionProtection)
			}
			if p.UserPoolTier != types.UserPoolTierTypeEssentials {
				t.Errorf("UserPoolTier %q", p.UserPoolTier)
			}
			if p.AdminCreateUserConfig == nil || p.AdminCreateUserConfig.AllowAdminCreateUserOnly {
				t.Errorf("AdminCreateUserConfig %+v: self sign-up should be allowed", p.AdminCreateUserConfig)
			}
			if len(p.UsernameAttributes) != 0 || len(p.AliasAttributes) != 0 || len(p.AutoVerifiedAttributes) != 0 {
				t.Errorf("UsernameAttributes %v AliasAttributes %v AutoVerifiedAttributes %v", p.UsernameAttributes, p.AliasAttributes, p.AutoVerifiedAttributes)
			}
		})
	}
}
