package userpool

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/cognate-auth/cognate/storage"
)

// validAuthFlows are the ExplicitAuthFlows values Cognate implements: the
// model's others are the legacy names of the same flows.
var validAuthFlows = map[string]bool{
	"ALLOW_USER_SRP_AUTH": true, "ALLOW_USER_PASSWORD_AUTH": true, "ALLOW_REFRESH_TOKEN_AUTH": true,
	"ALLOW_CUSTOM_AUTH": true, "ALLOW_ADMIN_USER_PASSWORD_AUTH": true, "ALLOW_USER_AUTH": true,
}

// CreateUserPoolClient creates an app client, with a secret if asked.
func (s *Service) CreateUserPoolClient(ctx context.Context, in CreateUserPoolClientInput) (UserPoolClientOutput, error) {
	id, err := randomString("abcdefghijklmnopqrstuvwxyz0123456789", 26)
	if err != nil {
		return UserPoolClientOutput{}, internal("client id", err)
	}
	return s.CreateUserPoolClientWithID(ctx, id, in)
}

// CreateUserPoolClientWithID creates an app client with a chosen id
// (configured clients).
func (s *Service) CreateUserPoolClientWithID(ctx context.Context, id string, in CreateUserPoolClientInput) (UserPoolClientOutput, error) {
	if err := in.validate(); err != nil {
		return UserPoolClientOutput{}, err
	}
	p, err := s.pool(ctx, in.UserPoolId)
	if err != nil {
		return UserPoolClientOutput{}, err
	}
	if id == "" || len(id) > 128 {
		return UserPoolClientOutput{}, invalidParam("Invalid client id")
	}
	set, err := clientSettings(in.ClientSettingsInput, defaultClientSettings(), in.GenerateSecret)
	if err != nil {
		return UserPoolClientOutput{}, err
	}
	now := s.now()
	c := storage.Client{ClientID: id, PoolID: p.ID, Name: in.ClientName, CreatedAt: now, UpdatedAt: now, Settings: set}
	if in.GenerateSecret {
		if c.Secret, err = randomString("abcdefghijklmnopqrstuvwxyz0123456789", 51); err != nil {
			return UserPoolClientOutput{}, internal("client secret", err)
		}
	}
	if err := s.store.CreateClient(ctx, c); errors.Is(err, storage.ErrAlreadyExists) {
		return UserPoolClientOutput{}, invalidParam("User pool client %s already exists.", id)
	} else if err != nil {
		return UserPoolClientOutput{}, internal("create client", err)
	}
	return UserPoolClientOutput{UserPoolClient: clientType(c)}, nil
}

func defaultClientSettings() storage.ClientSettings {
	return storage.ClientSettings{
		AccessTokenValidity: 60, IDTokenValidity: 60, RefreshTokenValidity: 30,
		TokenValidityUnits:         storage.TokenValidityUnits{AccessToken: "minutes", IDToken: "minutes", RefreshToken: "days"},
		AuthSessionValidity:        3,
		PreventUserExistenceErrors: "ENABLED",
		EnableTokenRevocation:      true,
	}
}

// clientSettings applies in, which validate has checked against the
// model, over base, and checks the rules the model cannot express. Like
// Cognito's UpdateUserPoolClient, members left out take their defaults.
func clientSettings(in ClientSettingsInput, base storage.ClientSettings, confidential bool) (storage.ClientSettings, error) {
	set := base
	for _, f := range in.ExplicitAuthFlows {
		if !validAuthFlows[f] {
			return set, invalidParam("ExplicitAuthFlows value %s is a legacy name, which Cognate does not support: use the ALLOW_ names.", f)
		}
	}
	set.ExplicitAuthFlows = in.ExplicitAuthFlows
	var units TokenValidityUnitsType
	if in.TokenValidityUnits != nil {
		units = *in.TokenValidityUnits
	}
	setValidity(&set.AccessTokenValidity, &set.TokenValidityUnits.AccessToken, in.AccessTokenValidity, units.AccessToken, "hours")
	setValidity(&set.IDTokenValidity, &set.TokenValidityUnits.IDToken, in.IdTokenValidity, units.IdToken, "hours")
	setValidity(&set.RefreshTokenValidity, &set.TokenValidityUnits.RefreshToken, in.RefreshTokenValidity, units.RefreshToken, "days")
	if err := checkTokenLives(set); err != nil {
		return set, err
	}
	if in.AuthSessionValidity != 0 {
		set.AuthSessionValidity = in.AuthSessionValidity
	}
	if in.PreventUserExistenceErrors != "" {
		set.PreventUserExistenceErrors = in.PreventUserExistenceErrors
	}
	if in.EnableTokenRevocation != nil {
		set.EnableTokenRevocation = *in.EnableTokenRevocation
	}
	if r := in.RefreshTokenRotation; r != nil {
		set.RefreshTokenRotation = r.Feature == "ENABLED"
		set.RetryGracePeriodSeconds = r.RetryGracePeriodSeconds
	}
	set.ReadAttributes, set.WriteAttributes = in.ReadAttributes, in.WriteAttributes
	if err := oauthSettings(in, &set, confidential); err != nil {
		return set, err
	}
	return set, nil
}

// setValidity applies one token's requested validity. A value given
// without its unit is in Cognito's default unit for that token (hours;
// days for refresh tokens). A token given no value keeps both its value
// and its unit, so a request that sets only AccessTokenValidity, with
// TokenValidityUnits{AccessToken: "hours"}, does not turn the id token's
// default 60 minutes into 60 hours.
func setValidity(value *int64, unit *string, n int64, u, defUnit string) {
	if n == 0 {
		return
	}
	if u == "" {
		u = defUnit
	}
	*value, *unit = n, u
}

// checkTokenLives applies Cognito's limits to each token's life in its
// unit.
func checkTokenLives(set storage.ClientSettings) error {
	u := set.TokenValidityUnits
	for _, t := range []struct {
		member string
		n      int64
		unit   string
		life   tokenLife
		limits string
	}{
		{"AccessTokenValidity", set.AccessTokenValidity, u.AccessToken, accessTokenLife, "5 minutes and 1 day"},
		{"IdTokenValidity", set.IDTokenValidity, u.IDToken, accessTokenLife, "5 minutes and 1 day"},
		{"RefreshTokenValidity", set.RefreshTokenValidity, u.RefreshToken, refreshTokenLife, "60 minutes and 10 years"},
	} {
		if !t.life.holds(t.n, t.unit) {
			return invalidParam("Invalid range for token validity. %s %d %s is not between %s.", t.member, t.n, t.unit, t.limits)
		}
	}
	return nil
}

func oauthSettings(in ClientSettingsInput, set *storage.ClientSettings, confidential bool) error {
	for _, list := range [][]string{in.CallbackURLs, in.LogoutURLs} {
		for _, u := range list {
			if !validRedirectURL(u) {
				return invalidParam("Invalid URL %.256q: must be absolute, without a fragment, and https unless on localhost", u)
			}
		}
	}
	if in.DefaultRedirectURI != "" && !contains(in.CallbackURLs, in.DefaultRedirectURI) {
		return invalidParam("DefaultRedirectURI must be one of the CallbackURLs")
	}
	if in.AllowedOAuthFlowsUserPoolClient && (len(in.AllowedOAuthFlows) == 0 || len(in.AllowedOAuthScopes) == 0) {
		return invalidParam("AllowedOAuthFlows and AllowedOAuthScopes are required when AllowedOAuthFlowsUserPoolClient is true")
	}
	if err := checkOAuthScopes(in.AllowedOAuthScopes); err != nil {
		return err
	}
	machine := slices.Contains(in.AllowedOAuthFlows, "client_credentials")
	switch {
	case machine && len(in.AllowedOAuthFlows) > 1:
		return invalidParam("client_credentials flow can not be selected along with code flow or implicit flow.")
	case machine && !confidential:
		return invalidParam("client_credentials flow can not be selected if client does not have a client secret.")
	case in.AllowedOAuthFlowsUserPoolClient && !machine && len(in.CallbackURLs) == 0:
		return invalidParam("CallbackURLs are required for the code and implicit flows.")
	}
	set.CallbackURLs, set.LogoutURLs, set.DefaultRedirectURI = in.CallbackURLs, in.LogoutURLs, in.DefaultRedirectURI
	set.AllowedOAuthFlows, set.AllowedOAuthScopes = in.AllowedOAuthFlows, in.AllowedOAuthScopes
	set.AllowedOAuthFlowsUserPoolClient = in.AllowedOAuthFlowsUserPoolClient
	set.SupportedIdentityProviders = in.SupportedIdentityProviders
	return nil
}

func clientType(c storage.Client) UserPoolClientType {
	st := c.Settings
	t := UserPoolClientType{
		UserPoolId: c.PoolID, ClientName: c.Name, ClientId: c.ClientID, ClientSecret: c.Secret,
		LastModifiedDate: Epoch(c.UpdatedAt), CreationDate: Epoch(c.CreatedAt),
		RefreshTokenValidity: st.RefreshTokenValidity, AccessTokenValidity: st.AccessTokenValidity, IdTokenValidity: st.IDTokenValidity,
		TokenValidityUnits: TokenValidityUnitsType{AccessToken: st.TokenValidityUnits.AccessToken, IdToken: st.TokenValidityUnits.IDToken, RefreshToken: st.TokenValidityUnits.RefreshToken},
		ReadAttributes:     st.ReadAttributes, WriteAttributes: st.WriteAttributes, ExplicitAuthFlows: st.ExplicitAuthFlows,
		SupportedIdentityProviders: st.SupportedIdentityProviders, CallbackURLs: st.CallbackURLs, LogoutURLs: st.LogoutURLs,
		DefaultRedirectURI: st.DefaultRedirectURI, AllowedOAuthFlows: st.AllowedOAuthFlows, AllowedOAuthScopes: st.AllowedOAuthScopes,
		AllowedOAuthFlowsUserPoolClient: st.AllowedOAuthFlowsUserPoolClient, PreventUserExistenceErrors: st.PreventUserExistenceErrors,
		EnableTokenRevocation: st.EnableTokenRevocation, AuthSessionValidity: st.AuthSessionValidity,
	}
	if t.PreventUserExistenceErrors == "" {
		t.PreventUserExistenceErrors = "ENABLED"
	}
	// A client that lists no flows allows Cognito's default ones, and
	// Cognito describes it with them.
	if len(t.ExplicitAuthFlows) == 0 {
		t.ExplicitAuthFlows = slices.Clone(defaultFlows)
	}
	feature := "DISABLED"
	if st.RefreshTokenRotation {
		feature = "ENABLED"
	}
	t.RefreshTokenRotation = &RefreshTokenRotationType{Feature: feature, RetryGracePeriodSeconds: st.RetryGracePeriodSeconds}
	return t
}

// poolClient loads a client and checks it belongs to the named pool.
func (s *Service) poolClient(ctx context.Context, poolID, clientID string) (storage.Client, error) {
	if _, err := s.pool(ctx, poolID); err != nil {
		return storage.Client{}, err
	}
	c, _, err := s.client(ctx, clientID)
	if err == nil && c.PoolID != poolID {
		return c, errorf(ErrResourceNotFound, "User pool client %s does not exist.", clientID)
	}
	return c, err
}

// DescribeUserPoolClient describes an app client, secret included.
func (s *Service) DescribeUserPoolClient(ctx context.Context, in DescribeUserPoolClientInput) (UserPoolClientOutput, error) {
	c, err := s.poolClient(ctx, in.UserPoolId, in.ClientId)
	if err != nil {
		return UserPoolClientOutput{}, err
	}
	return UserPoolClientOutput{UserPoolClient: clientType(c)}, nil
}

// UpdateUserPoolClient replaces an app client's settings. The request is
// checked in full before the transaction, so a refused update leaves the
// client as it was.
func (s *Service) UpdateUserPoolClient(ctx context.Context, in UpdateUserPoolClientInput) (UserPoolClientOutput, error) {
	if err := in.validate(); err != nil {
		return UserPoolClientOutput{}, err
	}
	c, err := s.poolClient(ctx, in.UserPoolId, in.ClientId)
	if err != nil {
		return UserPoolClientOutput{}, err
	}
	// A client's secret is set at creation and never changes, so the one
	// read here is the one the transaction sees.
	set, err := clientSettings(in.ClientSettingsInput, defaultClientSettings(), c.Secret != "")
	if err != nil {
		return UserPoolClientOutput{}, err
	}
	var out storage.Client
	defer s.clientCache.drop(in.ClientId)
	err = s.store.UpdateClient(ctx, in.ClientId, func(c storage.Client) (storage.Client, error) {
		if in.ClientName != "" {
			c.Name = in.ClientName
		}
		c.Settings, c.UpdatedAt = set, s.now()
		out = c
		return c, nil
	})
	if err != nil {
		return UserPoolClientOutput{}, internal("update client", err)
	}
	return UserPoolClientOutput{UserPoolClient: clientType(out)}, nil
}

// checkOAuthScopes applies Cognito's rules: standard scopes, or
// resource-server scopes "server/name" of visible ASCII; email, phone and
// profile only with openid.
func checkOAuthScopes(scopes []string) error {
	needsOpenID := false
	for _, sc := range scopes {
		switch sc {
		case "openid", ScopeSignInUserAdmin:
		case "email", "phone", "profile":
			needsOpenID = true
		default:
			server, name, ok := strings.Cut(sc, "/")
			if !ok || server == "" || name == "" || strings.ContainsFunc(sc, func(r rune) bool {
				return r <= ' ' || r > '~' || r == '"' || r == '\\'
			}) {
				return invalidParam("Invalid scope %.64q: use openid, email, phone, profile, aws.cognito.signin.user.admin or <resource server>/<scope>.", sc)
			}
		}
	}
	if needsOpenID && !slices.Contains(scopes, "openid") {
		return invalidParam("The email, phone and profile scopes require the openid scope.")
	}
	return nil
}
