package issuerclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// errNoOAuthDomain: an OAuth call on a Client without Config.OAuthDomain.
var errNoOAuthDomain = errors.New("issuer: no OAuthDomain configured")

// tokenResponse is the token endpoint's answer (RFC 6749 §5.1).
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	IDToken      string `json:"id_token"`
	RefreshToken string `json:"refresh_token"`
	ExpiresIn    int    `json:"expires_in"`
}

// ExchangeCode redeems an authorization code at /oauth2/token, with the
// redirect URI and PKCE verifier that are not "".
func (c *Client) ExchangeCode(ctx context.Context, code, redirectURI, verifier string) (Tokens, error) {
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}}
	if redirectURI != "" {
		form.Set("redirect_uri", redirectURI)
	}
	if verifier != "" {
		form.Set("code_verifier", verifier)
	}
	return c.tokenGrant(ctx, "authorization_code", form)
}

// RefreshOAuth redeems a refresh token at /oauth2/token. RefreshToken is
// "" when the issuer did not rotate it.
func (c *Client) RefreshOAuth(ctx context.Context, refreshToken string) (Tokens, error) {
	return c.tokenGrant(ctx, "refresh_token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refreshToken}})
}

func (c *Client) tokenGrant(ctx context.Context, op string, form url.Values) (Tokens, error) {
	status, body, err := c.postForm(ctx, "/oauth2/token", op, form)
	if err != nil {
		return Tokens{}, err
	}
	if status != http.StatusOK {
		return Tokens{}, oauthError(op, status, body)
	}
	var tr tokenResponse
	if json.Unmarshal(body, &tr) != nil || tr.AccessToken == "" {
		return Tokens{}, malformed(op, status, body)
	}
	return Tokens(tr), nil
}

// RevokeOAuth revokes a refresh token at /oauth2/revoke (RFC 7009).
func (c *Client) RevokeOAuth(ctx context.Context, refreshToken string) error {
	const op = "revoke"
	status, body, err := c.postForm(ctx, "/oauth2/revoke", op, url.Values{"token": {refreshToken}, "token_type_hint": {"refresh_token"}})
	if err != nil {
		return err
	}
	if status != http.StatusOK {
		return oauthError(op, status, body)
	}
	return nil
}

// postForm posts a form to an OAuth endpoint with the client's
// authentication: client_secret_basic for a confidential client (id and
// secret form-encoded first, RFC 6749 §2.3.1), client_id in the form for
// a public one.
func (c *Client) postForm(ctx context.Context, path, op string, form url.Values) (int, []byte, error) {
	if c.oauth == "" {
		return 0, nil, errNoOAuthDomain
	}
	if c.cfg.ClientSecret == "" {
		form.Set("client_id", c.cfg.ClientID)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.oauth+path, strings.NewReader(form.Encode()))
	if err != nil {
		return 0, nil, fmt.Errorf("issuer: %s: %w", op, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if c.cfg.ClientSecret != "" {
		req.SetBasicAuth(url.QueryEscape(c.cfg.ClientID), url.QueryEscape(c.cfg.ClientSecret))
	}
	return c.do(req, op)
}

// oauthError reads an OAuth error answer (RFC 6749 §5.2): {"error":
// "...", "error_description": "..."}.
func oauthError(op string, status int, body []byte) error {
	var eb struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if json.Unmarshal(body, &eb) != nil || eb.Error == "" {
		return malformed(op, status, body)
	}
	return classify(&Error{Type: eb.Error, Message: eb.Description, Status: status})
}
