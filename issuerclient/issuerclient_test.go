package issuerclient_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/cognate-auth/cognate/issuerclient"
)

// wantError asserts err is an issuer answer of type typ and whether it
// is terminal; it never wraps ErrUnavailable.
func wantError(t testing.TB, err error, typ string, terminal bool) *issuerclient.Error {
	t.Helper()
	var e *issuerclient.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v is not an *issuerclient.Error, want %s", err, typ)
	}
	if e.Type != typ {
		t.Fatalf("error type %q (%v), want %q", e.Type, err, typ)
	}
	if e.Status < 400 || e.Status > 499 {
		t.Fatalf("%s came with status %d", typ, e.Status)
	}
	if errors.Is(err, issuerclient.ErrUnavailable) {
		t.Fatalf("%v wraps ErrUnavailable", err)
	}
	if got := issuerclient.IsTerminal(err); got != terminal {
		t.Fatalf("IsTerminal(%v) = %v, want %v", err, got, terminal)
	}
	return e
}

func TestSignInSRP(t *testing.T) {
	legacy, _ := newAppClient(t, clientSpec{legacyError: true})
	cases := []struct {
		name     string
		client   string
		user     func(t *testing.T) string // returns the name to sign in with
		password string
		wantType string // "" = success
	}{
		{"by email", shared.pub, func(t *testing.T) string {
			e := newEmail(t)
			newUser(t, e, false)
			return e
		}, password, ""},
		{"by username", shared.pub, func(t *testing.T) string { return newUser(t, newEmail(t), false) }, password, ""},
		{"wrong password", shared.pub, func(t *testing.T) string {
			e := newEmail(t)
			newUser(t, e, false)
			return e
		}, password2, "NotAuthorizedException"},
		// The default client prevents user-existence errors: an unknown
		// user gets a decoy challenge that no answer satisfies.
		{"unknown user", shared.pub, newEmail, password, "NotAuthorizedException"},
		{"unknown user, legacy errors", legacy, newEmail, password, "UserNotFoundException"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newClient(t, tc.client, "")
			res, err := c.SignInSRP(t.Context(), tc.user(t), tc.password)
			if tc.wantType != "" {
				wantError(t, err, tc.wantType, true)
				return
			}
			if err != nil {
				t.Fatalf("SignInSRP: %v", err)
			}
			if res.Tokens == nil || res.Challenge != "" {
				t.Fatalf("result %+v, want tokens", res)
			}
			tk := res.Tokens
			if tk.AccessToken == "" || tk.IDToken == "" || tk.RefreshToken == "" || tk.ExpiresIn != 3600 {
				t.Fatalf("tokens %+v", tk)
			}
		})
	}
}

func TestNewPasswordRequired(t *testing.T) {
	c := newClient(t, shared.pub, "")
	email := newEmail(t)
	sub := newUser(t, email, true)
	res, err := c.SignInSRP(t.Context(), email, password)
	if err != nil {
		t.Fatalf("SignInSRP: %v", err)
	}
	if res.Challenge != "NEW_PASSWORD_REQUIRED" || res.Tokens != nil || res.Session == "" {
		t.Fatalf("result %+v, want NEW_PASSWORD_REQUIRED with a session", res)
	}
	if res.Username != sub {
		t.Fatalf("Username %q, want the pool's username %q", res.Username, sub)
	}
	if !strings.Contains(res.Parameters["userAttributes"], email) {
		t.Fatalf("ChallengeParameters %v lack the user's attributes", res.Parameters)
	}

	// A policy-breaking password is the issuer's verdict, not the end of
	// the sign-in: the same session may try again.
	_, err = c.RespondToChallenge(t.Context(), res.Challenge, res.Session, res.Username, map[string]string{"NEW_PASSWORD": "short"})
	wantError(t, err, "InvalidPasswordException", false)

	done, err := c.RespondToChallenge(t.Context(), res.Challenge, res.Session, res.Username, map[string]string{"NEW_PASSWORD": password2})
	if err != nil {
		t.Fatalf("RespondToChallenge: %v", err)
	}
	if done.Tokens == nil || done.Tokens.AccessToken == "" {
		t.Fatalf("result %+v, want tokens", done)
	}
	signIn(t, c, email, password2)
}

func TestRefreshRotation(t *testing.T) {
	id, _ := newAppClient(t, clientSpec{rotation: true, grace: 10})
	c := newClient(t, id, "")
	email := newEmail(t)
	newUser(t, email, false)
	tk := signIn(t, c, email, password)

	next, err := c.Refresh(t.Context(), tk.RefreshToken, "")
	if err != nil {
		t.Fatalf("Refresh: %v", err)
	}
	if next.AccessToken == "" || next.IDToken == "" || next.ExpiresIn <= 0 {
		t.Fatalf("refreshed tokens %+v", next)
	}
	if next.RefreshToken == "" || next.RefreshToken == tk.RefreshToken {
		t.Fatalf("rotation on, but refresh token %q (old %q)", next.RefreshToken, tk.RefreshToken)
	}
	// Within the client's grace period the old token still works
	// (a concurrent refresh by another node).
	if _, err := c.Refresh(t.Context(), tk.RefreshToken, ""); err != nil {
		t.Fatalf("refresh with the old token within the grace period: %v", err)
	}
	if _, err := c.Refresh(t.Context(), next.RefreshToken, ""); err != nil {
		t.Fatalf("refresh with the rotated token: %v", err)
	}
}

func TestRefreshWithoutRotation(t *testing.T) {
	id, _ := newAppClient(t, clientSpec{})
	c := newClient(t, id, "")
	email := newEmail(t)
	newUser(t, email, false)
	tk := signIn(t, c, email, password)
	for range 2 {
		next, err := c.Refresh(t.Context(), tk.RefreshToken, "")
		if err != nil {
			t.Fatalf("Refresh: %v", err)
		}
		if next.RefreshToken != "" || next.AccessToken == "" {
			t.Fatalf("rotation off, got %+v", next)
		}
	}
}

func TestRefreshTerminal(t *testing.T) {
	noGrace, _ := newAppClient(t, clientSpec{rotation: true, grace: 0})
	cases := []struct {
		name   string
		client string
		// spoil uses the sign-in's tokens so that refreshing with the
		// returned token must fail with typ.
		spoil func(t *testing.T, c *issuerclient.Client, tk *issuerclient.Tokens) string
		typ   string
	}{
		{"reuse after grace", noGrace, func(t *testing.T, c *issuerclient.Client, tk *issuerclient.Tokens) string {
			if _, err := c.Refresh(t.Context(), tk.RefreshToken, ""); err != nil {
				t.Fatalf("first refresh: %v", err)
			}
			return tk.RefreshToken
		}, "RefreshTokenReuseException"},
		{"rotated token after reuse", noGrace, func(t *testing.T, c *issuerclient.Client, tk *issuerclient.Tokens) string {
			next, err := c.Refresh(t.Context(), tk.RefreshToken, "")
			if err != nil {
				t.Fatalf("first refresh: %v", err)
			}
			_, err = c.Refresh(t.Context(), tk.RefreshToken, "")
			wantError(t, err, "RefreshTokenReuseException", true)
			return next.RefreshToken
		}, "NotAuthorizedException"},
		{"revoked", shared.pub, func(t *testing.T, c *issuerclient.Client, tk *issuerclient.Tokens) string {
			if err := c.RevokeToken(t.Context(), tk.RefreshToken); err != nil {
				t.Fatalf("RevokeToken: %v", err)
			}
			return tk.RefreshToken
		}, "NotAuthorizedException"},
		{"unknown", shared.pub, func(*testing.T, *issuerclient.Client, *issuerclient.Tokens) string {
			return "not-a-refresh-token"
		}, "NotAuthorizedException"},
		{"user deleted", shared.pub, func(t *testing.T, c *issuerclient.Client, tk *issuerclient.Tokens) string {
			u, err := c.GetUser(t.Context(), tk.AccessToken)
			if err != nil {
				t.Fatalf("GetUser: %v", err)
			}
			if _, err := svc().AdminDeleteUser(t.Context(), adminUser(u.Username)); err != nil {
				t.Fatalf("AdminDeleteUser: %v", err)
			}
			return tk.RefreshToken
		}, "NotAuthorizedException"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newClient(t, tc.client, "")
			email := newEmail(t)
			newUser(t, email, false)
			rt := tc.spoil(t, c, signIn(t, c, email, password))
			_, err := c.Refresh(t.Context(), rt, "")
			wantError(t, err, tc.typ, true)
		})
	}
}

func TestGetUser(t *testing.T) {
	c := newClient(t, shared.pub, "")
	email := newEmail(t)
	sub := newUser(t, email, false)
	tk := signIn(t, c, email, password)
	u, err := c.GetUser(t.Context(), tk.AccessToken)
	if err != nil {
		t.Fatalf("GetUser: %v", err)
	}
	if u.Username != sub || u.Attributes["email"] != email || u.Attributes["sub"] != sub || u.Attributes["name"] != "Ada" {
		t.Fatalf("GetUser = %+v, want %s / %s", u, sub, email)
	}
	_, err = c.GetUser(t.Context(), tk.IDToken)
	wantError(t, err, "NotAuthorizedException", true)
}

func TestSecretClient(t *testing.T) {
	id, secret := newAppClient(t, clientSpec{secret: true, rotation: true, grace: 10})
	email := newEmail(t)
	newUser(t, email, false)

	c := newClient(t, id, secret)
	tk := signIn(t, c, email, password)
	next, err := c.Refresh(t.Context(), tk.RefreshToken, "")
	if err != nil {
		t.Fatalf("Refresh with ClientSecret: %v", err)
	}
	if err := c.RevokeToken(t.Context(), next.RefreshToken); err != nil {
		t.Fatalf("RevokeToken with ClientSecret: %v", err)
	}
	_, err = c.Refresh(t.Context(), next.RefreshToken, "")
	wantError(t, err, "NotAuthorizedException", true)

	for name, cl := range map[string]*issuerclient.Client{
		"wrong secret": newClient(t, id, secret+"x"),
		"no secret":    newClient(t, id, ""),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := cl.SignInSRP(t.Context(), email, password)
			e := wantError(t, err, "NotAuthorizedException", true)
			if !strings.Contains(strings.ToLower(e.Message), "secret") {
				t.Fatalf("message %q does not blame the secret", e.Message)
			}
		})
	}
}

func TestOAuth(t *testing.T) {
	for _, confidential := range []bool{false, true} {
		name := "public"
		if confidential {
			name = "confidential"
		}
		t.Run(name, func(t *testing.T) {
			id, secret := newAppClient(t, clientSpec{secret: confidential, oauthFlows: []string{"code"}})
			c := newClient(t, id, secret)
			sub := newUser(t, newEmail(t), false)

			code, verifier := authCode(t, id, sub)
			tk, err := c.ExchangeCode(t.Context(), code, callback, verifier)
			if err != nil {
				t.Fatalf("ExchangeCode: %v", err)
			}
			if tk.AccessToken == "" || tk.IDToken == "" || tk.RefreshToken == "" || tk.ExpiresIn != 3600 {
				t.Fatalf("tokens %+v", tk)
			}
			next, err := c.RefreshOAuth(t.Context(), tk.RefreshToken)
			if err != nil {
				t.Fatalf("RefreshOAuth: %v", err)
			}
			if next.AccessToken == "" || next.RefreshToken != "" {
				t.Fatalf("refreshed tokens %+v (rotation off: no new refresh token)", next)
			}
			if err := c.RevokeOAuth(t.Context(), tk.RefreshToken); err != nil {
				t.Fatalf("RevokeOAuth: %v", err)
			}
			_, err = c.RefreshOAuth(t.Context(), tk.RefreshToken)
			wantError(t, err, "invalid_grant", true)

			// A code works once; a replay also ends the sign-in the
			// first redemption started.
			code, verifier = authCode(t, id, sub)
			tk, err = c.ExchangeCode(t.Context(), code, callback, verifier)
			if err != nil {
				t.Fatalf("ExchangeCode: %v", err)
			}
			_, err = c.ExchangeCode(t.Context(), code, callback, verifier)
			wantError(t, err, "invalid_grant", true)
			_, err = c.RefreshOAuth(t.Context(), tk.RefreshToken)
			wantError(t, err, "invalid_grant", true)
		})
	}
}

func TestExchangeCodeRefused(t *testing.T) {
	id, _ := newAppClient(t, clientSpec{oauthFlows: []string{"code"}})
	sub := newUser(t, newEmail(t), false)
	cases := []struct {
		name     string
		clientID string
		redirect string
		verifier func(real string) string
		typ      string
		terminal bool
	}{
		{"wrong verifier", id, callback, func(string) string { return strings.Repeat("a", 43) }, "invalid_grant", true},
		{"no verifier", id, callback, func(string) string { return "" }, "invalid_grant", true},
		{"wrong redirect", id, "https://rp.example/other", func(v string) string { return v }, "invalid_grant", true},
		{"unknown client", "nosuchclient", callback, func(v string) string { return v }, "invalid_client", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, verifier := authCode(t, id, sub)
			_, err := newClient(t, tc.clientID, "").ExchangeCode(t.Context(), code, tc.redirect, tc.verifier(verifier))
			wantError(t, err, tc.typ, tc.terminal)
		})
	}
}

func TestNotConfigured(t *testing.T) {
	oauthOnly, err := issuerclient.New(issuerclient.Config{ClientID: "c", OAuthDomain: shared.url})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := oauthOnly.GetUser(context.Background(), "x"); err == nil || errors.Is(err, issuerclient.ErrUnavailable) || issuerclient.IsTerminal(err) {
		t.Fatalf("JSON API without Endpoint: %v", err)
	}
	if _, err := oauthOnly.SignInSRP(context.Background(), "u", "p"); err == nil || issuerclient.IsTerminal(err) {
		t.Fatalf("SRP without UserPoolID: %v", err)
	}
	apiOnly := newClient(t, shared.pub, "")
	cfg := apiOnly.Config()
	cfg.OAuthDomain = ""
	apiOnly, err = issuerclient.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := apiOnly.RefreshOAuth(context.Background(), "x"); err == nil || errors.Is(err, issuerclient.ErrUnavailable) || issuerclient.IsTerminal(err) {
		t.Fatalf("OAuth without OAuthDomain: %v", err)
	}
}
