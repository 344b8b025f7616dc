package integration_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// TestOAuthClientCredentials: machine tokens for a confidential client
// with resource-server scopes, through golang.org/x/oauth2/clientcredentials.
func TestOAuthClientCredentials(t *testing.T) {
	t.Parallel()
	e := newOAuthEnv(t)
	client, secret := e.oauthClient(clientSpec{
		flows: []string{"client_credentials"}, scopes: []string{"api/read", "api/write"}, secret: true,
		callbacks: []string{}, logouts: []string{},
	})
	for _, style := range []oauth2.AuthStyle{oauth2.AuthStyleInHeader, oauth2.AuthStyleInParams} {
		cc := clientcredentials.Config{ClientID: client, ClientSecret: secret, TokenURL: e.disc.TokenEndpoint, Scopes: []string{"api/read"}, AuthStyle: style}
		tok, err := cc.Token(e.ctxRP())
		if err != nil {
			t.Fatalf("client_credentials (auth style %d): %v", style, err)
		}
		if tok.TokenType != "Bearer" || tok.RefreshToken != "" || idToken(tok) != "" {
			t.Errorf("token_type %q, refresh %q, id_token %q", tok.TokenType, tok.RefreshToken, idToken(tok))
		}
		c := e.verifyAccess(tok.AccessToken)
		if c.Scope != "api/read" || c.ClientID != client || c.Sub != client {
			t.Errorf("machine token scope %q client_id %q sub %q", c.Scope, c.ClientID, c.Sub)
		}
		if c.Username != "" {
			t.Errorf("machine token names a user %q", c.Username)
		}
		// A machine token is not a user's: userInfo refuses it.
		if r := e.userInfo(http.MethodGet, tok.AccessToken); r.status != http.StatusUnauthorized {
			t.Errorf("userInfo with a machine token: %s", r)
		}
	}
	// No scope asked: every resource-server scope of the client.
	r := e.token(url.Values{"grant_type": {"client_credentials"}}, client, secret)
	if r.status != http.StatusOK {
		t.Fatalf("client_credentials without scope: %s", r)
	}
	if got := scopeSet(e.verifyAccess(r.str("access_token")).Scope); got != "api/read api/write" {
		t.Errorf("scope without a request %q", got)
	}
	if _, ok := r.json["refresh_token"]; ok {
		t.Errorf("client_credentials returned a refresh token")
	}

	bad := []struct {
		name         string
		form         url.Values
		user, secret string
		status       int
		code         string
	}{
		{"scope not allowed", url.Values{"scope": {"api/delete"}}, client, secret, 400, "invalid_scope"},
		{"openid", url.Values{"scope": {"openid"}}, client, secret, 400, "invalid_scope"},
		{"wrong secret", nil, client, "nope", 401, "invalid_client"},
		{"unknown client", nil, "nosuchclient", secret, 401, "invalid_client"},
	}
	for _, c := range bad {
		t.Run(c.name, func(t *testing.T) {
			f := url.Values{"grant_type": {"client_credentials"}}
			for k, v := range c.form {
				f[k] = v
			}
			wantOAuthError(t, e.token(f, c.user, c.secret), c.status, c.code)
		})
	}
	t.Run("clients not allowed the grant", func(t *testing.T) {
		codeClient, codeSecret := e.oauthClient(clientSpec{secret: true})
		wantOAuthError(t, e.token(url.Values{"grant_type": {"client_credentials"}}, codeClient, codeSecret), 400, "unauthorized_client")
		pub, _ := e.oauthClient(clientSpec{})
		r := e.token(url.Values{"grant_type": {"client_credentials"}, "client_id": {pub}}, "", "")
		if (r.status != 400 && r.status != 401) || (r.str("error") != "unauthorized_client" && r.str("error") != "invalid_client") {
			t.Fatalf("public client: %s", r)
		}
	})
}

// TestClientCredentialsOnlyForConfidentialMachineClients: an app client
// may have the client_credentials grant only with a secret and without
// the code or implicit flows, so a machine grant never shares a client
// with user sign-in.
func TestClientCredentialsOnlyForConfidentialMachineClients(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	create := func(secret bool, flows ...types.OAuthFlowType) error {
		_, err := e.api.CreateUserPoolClient(e.ctx, &cip.CreateUserPoolClientInput{
			UserPoolId: aws.String(e.pool), ClientName: aws.String("machine"), GenerateSecret: secret,
			AllowedOAuthFlowsUserPoolClient: true, AllowedOAuthFlows: flows, AllowedOAuthScopes: []string{"api/read"},
			CallbackURLs: []string{"https://rp.example/cb"},
		})
		return err
	}
	wantErr(t, create(true, types.OAuthFlowTypeClientCredentials, types.OAuthFlowTypeCode), "InvalidParameterException")
	wantErr(t, create(true, types.OAuthFlowTypeClientCredentials, types.OAuthFlowTypeImplicit), "InvalidParameterException")
	wantErr(t, create(false, types.OAuthFlowTypeClientCredentials), "InvalidParameterException")
	if err := create(true, types.OAuthFlowTypeClientCredentials); err != nil {
		t.Fatalf("a confidential machine client: %v", err)
	}
}
