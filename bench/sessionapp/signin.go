package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/cognate-auth/cognate/issuerclient"
)

// signIn signs username in with SRP and returns the Cookie header a
// browser signed in by Amplify (or by the session routes) sends: the
// token cookies under Amplify's names, with two unrelated cookies around
// them as real pages have.
func signIn(ctx context.Context, cfg config, username, password string) (string, error) {
	ic, err := newIssuer(cfg, nil)
	if err != nil {
		return "", err
	}
	res, err := ic.SignInSRP(ctx, username, password)
	if err != nil {
		return "", fmt.Errorf("sign-in: %w", err)
	}
	if res.Tokens == nil {
		return "", fmt.Errorf("sign-in: the pool asks for %s; use a confirmed user with a permanent password", res.Challenge)
	}
	return cookieHeader(cfg.client, res.Tokens)
}

// cookieHeader names the tokens as Amplify does. The cookie names carry
// the access token's username; only names that js-cookie leaves as they
// are (the sub-like usernames of email-alias pools) are supported here.
func cookieHeader(clientID string, t *issuerclient.Tokens) (string, error) {
	user, err := tokenUsername(t.AccessToken)
	if err != nil {
		return "", err
	}
	for _, c := range user {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return "", fmt.Errorf("username %q needs js-cookie encoding, which this tool does not do", user)
		}
	}
	pre := "CognitoIdentityServiceProvider." + clientID + "."
	return strings.Join([]string{
		"theme=dark", "_ga=GA1.1.123456789.1700000000",
		pre + "LastAuthUser=" + user,
		pre + user + ".accessToken=" + t.AccessToken,
		pre + user + ".idToken=" + t.IDToken,
		pre + user + ".refreshToken=" + t.RefreshToken,
		pre + user + ".clockDrift=0",
	}, "; "), nil
}

// tokenUsername reads the username claim of a JWT without verifying it
// (the token comes straight from the issuer; the servers verify it).
func tokenUsername(jwt string) (string, error) {
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return "", errors.New("the access token is not a JWT")
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return "", fmt.Errorf("access token payload: %w", err)
	}
	var claims struct {
		Username string `json:"username"`
	}
	if err := json.Unmarshal(b, &claims); err != nil {
		return "", fmt.Errorf("access token payload: %w", err)
	}
	if claims.Username == "" {
		return "", errors.New("the access token has no username claim")
	}
	return claims.Username, nil
}
