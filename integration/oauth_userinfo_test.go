package integration_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// TestOAuthUserInfo: the userinfo endpoint wants an access token with
// the openid scope.
func TestOAuthUserInfo(t *testing.T) {
	t.Parallel()
	e := newOAuthEnv(t)
	client, _ := e.oauthClient(clientSpec{})
	email := "ui@example.com"
	sub := e.newUser(email)
	b := e.newBrowser()

	// openid plus the admin scope: userInfo and the Cognito API both work.
	withOpenID := e.rpConfig(client, "", "openid", "email", "aws.cognito.signin.user.admin")
	r1, c1 := b.login(withOpenID, email, password)
	tok := e.exchange(withOpenID, r1, c1)
	if r := e.userInfo(http.MethodGet, tok.AccessToken); r.status != 200 || r.str("sub") != sub || r.str("email") != email {
		t.Errorf("userInfo with openid: %s", r)
	}
	if _, err := e.getUser(aws.String(tok.AccessToken)); err != nil {
		t.Errorf("GetUser with an OAuth token carrying aws.cognito.signin.user.admin: %v", err)
	}

	// No openid: no id token, userInfo refuses the access token.
	noOpenID := e.rpConfig(client, "", "aws.cognito.signin.user.admin")
	r2 := newCodeRequest(noOpenID)
	tok2 := e.exchange(noOpenID, r2, b.get(r2.url).wantCode(t, r2.state))
	if idToken(tok2) != "" {
		t.Errorf("an id token was issued without the openid scope")
	}
	if got := scopeSet(e.verifyAccess(tok2.AccessToken).Scope); got != "aws.cognito.signin.user.admin" {
		t.Errorf("scope %q", got)
	}
	for _, m := range []string{http.MethodGet, http.MethodPost} {
		r := e.userInfo(m, tok2.AccessToken)
		if r.status != http.StatusUnauthorized {
			t.Errorf("%s userInfo without openid: %s", m, r)
		}
		if !strings.Contains(r.header.Get("WWW-Authenticate"), "error=") {
			t.Errorf("%s userInfo 401 without a WWW-Authenticate error: %q", m, r.header.Get("WWW-Authenticate"))
		}
	}

	// openid without the admin scope: the Cognito API refuses it.
	onlyOpenID := e.rpConfig(client, "", "openid")
	r3 := newCodeRequest(onlyOpenID)
	tok3 := e.exchange(onlyOpenID, r3, b.get(r3.url).wantCode(t, r3.state))
	if r := e.userInfo(http.MethodGet, tok3.AccessToken); r.status != 200 || r.str("sub") != sub {
		t.Errorf("userInfo with openid only: %s", r)
	}
	if _, err := e.getUser(aws.String(tok3.AccessToken)); err == nil {
		t.Errorf("GetUser accepted an access token without aws.cognito.signin.user.admin")
	} else {
		wantErr(t, err, "NotAuthorizedException")
	}

	// Tokens from the JSON API (scope aws.cognito.signin.user.admin),
	// no token, a garbage token.
	api := e.signIn(e.pub, email, password)
	for name, tokStr := range map[string]string{"API token": aws.ToString(api.AccessToken), "none": "", "garbage": "abc.def.ghi", "id token": idToken(tok)} {
		if r := e.userInfo(http.MethodGet, tokStr); r.status != http.StatusUnauthorized {
			t.Errorf("userInfo with %s: %s", name, r)
		}
	}
}
