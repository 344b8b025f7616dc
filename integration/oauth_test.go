package integration_test

// The OAuth 2.0 / OpenID Connect endpoints and the hosted login pages,
// driven from outside as a relying party would: golang.org/x/oauth2 with
// the endpoints from discovery, PKCE S256, go-oidc verifying id tokens,
// and a cookie-keeping HTTP client standing in for the browser (it fills
// the pages' forms, CSRF fields included). The guard transport fails any
// test that gets a 5xx from anywhere.

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/cognate-auth/cognate/userpool"
)

// scopeSet sorts a space-separated scope string for comparison.
func scopeSet(s string) string {
	f := strings.Fields(s)
	slices.Sort(f)
	return strings.Join(slices.Compact(f), " ")
}

// errorText is the text of the page's first element with class "error"
// that has any ("" when there is none).
var errorElemRe = regexp.MustCompile(`(?is)<([a-z0-9]+)\b[^>]*\bclass\s*=\s*["'][^"']*\berror\b[^"']*["'][^>]*>(.*?)</([a-z0-9]+)>`)
var tagRe = regexp.MustCompile(`(?s)<[^>]*>`)

func errorText(body string) string {
	for _, m := range errorElemRe.FindAllStringSubmatch(body, -1) {
		if txt := strings.TrimSpace(tagRe.ReplaceAllString(m[2], "")); txt != "" {
			return txt
		}
	}
	return ""
}

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

// TestOAuthCodeFlow follows one user and one public client through the
// authorization-code grant with PKCE: sign-in on the login page, the
// exchange, verification, the pool session, prompt=login, refresh,
// userInfo and revocation.
func TestOAuthCodeFlow(t *testing.T) {
	t.Parallel()
	e := newOAuthEnv(t)
	client, _ := e.oauthClient(clientSpec{})
	email := "ada@example.com"
	sub := e.newUser(email)
	conf := e.rpConfig(client, "")
	b := e.newBrowser()

	start := time.Now().Add(-2 * time.Second)
	req1, code1 := b.login(conf, email, password, oauth2.SetAuthURLParam("identity_provider", "COGNITO"))

	// The pool session cookie: HttpOnly, Secure (HTTPS), sent on a
	// top-level navigation from the relying party (not SameSite=Strict).
	if b.sessionCookie() == nil {
		t.Fatalf("no cognate_session_%s cookie after sign-in; Set-Cookie lines %q", e.pool, b.sessionSets)
	}
	if len(b.sessionSets) > 0 {
		line := strings.ToLower(b.sessionSets[len(b.sessionSets)-1])
		for _, want := range []string{"httponly", "secure", "path=/"} {
			if !strings.Contains(line, want) {
				t.Errorf("session Set-Cookie %q lacks %s", line, want)
			}
		}
		if strings.Contains(line, "samesite=strict") {
			t.Errorf("session cookie is SameSite=Strict: a relying party's link to /oauth2/authorize would not carry it: %q", line)
		}
	}

	tok := e.exchange(conf, req1, code1)
	if tok.TokenType != "Bearer" {
		t.Errorf("token_type %q, want Bearer", tok.TokenType)
	}
	if tok.RefreshToken == "" {
		t.Errorf("the code grant returned no refresh_token")
	}
	if exp := time.Until(tok.Expiry); exp < 3500*time.Second || exp > 3700*time.Second {
		t.Errorf("expires_in gives expiry in %v, want ~1h", exp)
	}
	idc := e.verifyID(client, idToken(tok), tok.AccessToken, req1.nonce)
	if idc.Sub != sub || idc.CognitoUsername != sub || idc.Email != email {
		t.Errorf("id token sub %q cognito:username %q email %q; want %q %q %q", idc.Sub, idc.CognitoUsername, idc.Email, sub, sub, email)
	}
	if idc.EmailVerified != true {
		t.Errorf("email_verified %#v, want true", idc.EmailVerified)
	}
	if idc.Name != "Ada Lovelace" {
		t.Errorf("name %q with the profile scope", idc.Name)
	}
	if at := time.Unix(idc.AuthTime, 0); at.Before(start) || at.After(time.Now().Add(2*time.Second)) {
		t.Errorf("auth_time %v, want the sign-in time (~%v)", at, start)
	}
	ac := e.verifyAccess(tok.AccessToken)
	if ac.ClientID != client || ac.Username != sub || ac.Sub != sub {
		t.Errorf("access token client_id %q username %q sub %q", ac.ClientID, ac.Username, ac.Sub)
	}
	if got := scopeSet(ac.Scope); got != "email openid profile" {
		t.Errorf("access token scope %q, want openid email profile", ac.Scope)
	}
	if ac.AuthTime != idc.AuthTime {
		t.Errorf("access auth_time %d, id auth_time %d", ac.AuthTime, idc.AuthTime)
	}
	if ac.Aud != nil {
		t.Errorf("access token has aud %v (Cognito's have none)", ac.Aud)
	}

	// userInfo as go-oidc calls it, and raw GET and POST.
	ui, err := e.prov.UserInfo(e.ctxRP(), oauth2.StaticTokenSource(tok))
	if err != nil {
		t.Fatalf("UserInfo: %v", err)
	}
	if ui.Subject != sub || ui.Email != email || !ui.EmailVerified {
		t.Errorf("userInfo sub %q email %q verified %v", ui.Subject, ui.Email, ui.EmailVerified)
	}
	for _, m := range []string{http.MethodGet, http.MethodPost} {
		r := e.userInfo(m, tok.AccessToken)
		if r.status != http.StatusOK || r.str("sub") != sub || r.str("email") != email {
			t.Errorf("%s userInfo: %s", m, r)
		}
		if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			t.Errorf("%s userInfo Content-Type %q", m, ct)
		}
	}

	// A second authorization rides the pool session: no login page, a
	// new code, and the original auth_time.
	req2 := newCodeRequest(conf)
	code2 := b.get(req2.url).wantCode(t, req2.state)
	if code2 == code1 {
		t.Fatalf("the session gave the same code twice")
	}
	tok2 := e.exchange(conf, req2, code2)
	idc2 := e.verifyID(client, idToken(tok2), tok2.AccessToken, req2.nonce)
	if idc2.AuthTime != idc.AuthTime {
		t.Errorf("auth_time through the session %d, want the sign-in's %d", idc2.AuthTime, idc.AuthTime)
	}
	if tok2.RefreshToken == "" || tok2.RefreshToken == tok.RefreshToken {
		t.Errorf("the second grant's refresh token is missing or the first's")
	}

	// prompt=login shows the login page despite the session.
	req3 := newCodeRequest(conf, oauth2.SetAuthURLParam("prompt", "login"))
	page := b.get(req3.url).wantPage(t, "/login")
	code3 := b.signIn(page, email, password).wantCode(t, req3.state)
	tok3 := e.exchange(conf, req3, code3)
	if idc3 := e.verifyID(client, idToken(tok3), tok3.AccessToken, req3.nonce); idc3.AuthTime < idc.AuthTime {
		t.Errorf("auth_time after prompt=login %d < first %d", idc3.AuthTime, idc.AuthTime)
	}

	// Refresh through the token source once the token has expired
	// locally: a new access token and id token, the same auth_time, the
	// refresh token kept (no rotation on this client).
	old := *tok
	expired := *tok
	expired.Expiry = time.Now().Add(-time.Minute)
	nt, err := conf.TokenSource(e.ctxRP(), &expired).Token()
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	if nt.AccessToken == old.AccessToken {
		t.Errorf("refresh returned the same access token")
	}
	if nt.RefreshToken != old.RefreshToken {
		t.Errorf("a client without rotation got a new refresh token")
	}
	rid := idToken(nt)
	if rid == "" {
		t.Errorf("the refresh grant returned no id_token")
	} else if c := e.verifyID(client, rid, nt.AccessToken, ""); c.AuthTime != idc.AuthTime || c.Sub != sub {
		t.Errorf("refreshed id token auth_time %d sub %q; want %d %q", c.AuthTime, c.Sub, idc.AuthTime, sub)
	}
	if c := e.verifyAccess(nt.AccessToken); scopeSet(c.Scope) != "email openid profile" || c.AuthTime != idc.AuthTime {
		t.Errorf("refreshed access token scope %q auth_time %d", c.Scope, c.AuthTime)
	}

	// Revocation: 200, and the refresh token is dead; revoking again is
	// still 200.
	for i := range 2 {
		r := e.postForm(e.disc.RevocationEndpoint, url.Values{"token": {old.RefreshToken}, "client_id": {client}}, "", "")
		if r.status != http.StatusOK {
			t.Fatalf("revoke #%d: %s", i+1, r)
		}
	}
	wantOAuthError(t, e.refreshRaw(client, old.RefreshToken), http.StatusBadRequest, "invalid_grant")
	if _, err := conf.TokenSource(e.ctxRP(), &expired).Token(); err == nil {
		t.Errorf("oauth2 refreshed with a revoked token")
	}
	// Access tokens minted from the revoked refresh token are dead too
	// (Cognito: revocation covers the tokens the refresh token issued).
	if r := e.userInfo(http.MethodGet, nt.AccessToken); r.status != http.StatusUnauthorized {
		t.Errorf("userInfo with an access token of a revoked refresh token: %s", r)
	}
	// The other grants are untouched.
	if r := e.refreshRaw(client, tok2.RefreshToken); r.status != http.StatusOK {
		t.Errorf("refresh of an unrelated grant after revocation: %s", r)
	}
}

// TestOAuthRefreshRotation runs the refresh_token grant for a client
// with rotation and one without, as golang.org/x/oauth2 does it.
func TestOAuthRefreshRotation(t *testing.T) {
	t.Parallel()
	e := newOAuthEnv(t)
	email := "rot@example.com"
	e.newUser(email)
	b := e.newBrowser()
	signedIn := false
	grant := func(client string) (*oauth2.Config, *oauth2.Token, idClaims) {
		t.Helper()
		conf := e.rpConfig(client, "")
		var r codeRequest
		var code string
		if signedIn {
			r = newCodeRequest(conf)
			code = b.get(r.url).wantCode(t, r.state)
		} else {
			r, code = b.login(conf, email, password)
			signedIn = true
		}
		tok := e.exchange(conf, r, code)
		return conf, tok, e.verifyID(client, idToken(tok), tok.AccessToken, r.nonce)
	}

	t.Run("rotation", func(t *testing.T) {
		client, _ := e.oauthClient(clientSpec{rotation: true})
		conf, tok, idc := grant(client)
		expired := *tok
		expired.Expiry = time.Now().Add(-time.Minute)
		nt, err := conf.TokenSource(e.ctxRP(), &expired).Token()
		if err != nil {
			t.Fatalf("refresh: %v", err)
		}
		if nt.RefreshToken == "" || nt.RefreshToken == tok.RefreshToken {
			t.Fatalf("a rotating client's refresh kept the refresh token")
		}
		if c := e.verifyID(client, idToken(nt), nt.AccessToken, ""); c.AuthTime != idc.AuthTime {
			t.Errorf("auth_time %d after refresh, want %d", c.AuthTime, idc.AuthTime)
		}
		// The new one rotates again.
		r := e.refreshRaw(client, nt.RefreshToken)
		if r.status != http.StatusOK || r.str("refresh_token") == "" || r.str("refresh_token") == nt.RefreshToken {
			t.Fatalf("second rotation: %s", r)
		}
		// Rotated-out tokens are refused (grace period 0).
		wantOAuthError(t, e.refreshRaw(client, tok.RefreshToken), http.StatusBadRequest, "invalid_grant")
		wantOAuthError(t, e.refreshRaw(client, nt.RefreshToken), http.StatusBadRequest, "invalid_grant")
		// Whether reuse of a rotated-out token also ends the newest one
		// (family revocation, as OAuth 2.1 recommends) is the server's
		// choice; record which.
		if last := e.refreshRaw(client, r.str("refresh_token")); last.status == http.StatusOK {
			t.Logf("after reuse of a rotated-out token the newest refresh token still works")
		} else {
			t.Logf("after reuse of a rotated-out token the whole family is revoked: %s", last)
		}
	})

	t.Run("no rotation", func(t *testing.T) {
		client, _ := e.oauthClient(clientSpec{})
		_, tok, _ := grant(client)
		for i := range 2 {
			r := e.refreshRaw(client, tok.RefreshToken)
			if r.status != http.StatusOK || r.str("access_token") == "" || r.str("id_token") == "" {
				t.Fatalf("refresh #%d: %s", i+1, r)
			}
			if r.str("token_type") != "Bearer" {
				t.Errorf("token_type %q", r.str("token_type"))
			}
			if rt, ok := r.json["refresh_token"]; ok {
				t.Errorf("refresh #%d without rotation returned refresh_token %v (Cognito returns none)", i+1, rt)
			}
		}
	})
}

// TestOAuthConfidentialClient: a client with a secret authenticates with
// client_secret_basic or client_secret_post, and not without it.
func TestOAuthConfidentialClient(t *testing.T) {
	t.Parallel()
	e := newOAuthEnv(t)
	client, secret := e.oauthClient(clientSpec{secret: true})
	if secret == "" {
		t.Fatal("no secret generated")
	}
	pubClient, _ := e.oauthClient(clientSpec{})
	email := "conf@example.com"
	e.newUser(email)
	b := e.newBrowser()
	conf := e.rpConfig(client, secret)
	r1, code1 := b.login(conf, email, password)
	tok := e.exchange(conf, r1, code1) // client_secret_basic
	e.verifyID(client, idToken(tok), tok.AccessToken, r1.nonce)

	post := *conf
	post.Endpoint.AuthStyle = oauth2.AuthStyleInParams
	r2 := newCodeRequest(&post)
	tok2 := e.exchange(&post, r2, b.get(r2.url).wantCode(t, r2.state)) // client_secret_post
	e.verifyID(client, idToken(tok2), tok2.AccessToken, r2.nonce)

	// Refresh with basic auth.
	expired := *tok
	expired.Expiry = time.Now().Add(-time.Minute)
	if _, err := conf.TokenSource(e.ctxRP(), &expired).Token(); err != nil {
		t.Errorf("refresh with client_secret_basic: %v", err)
	}

	form := func(r codeRequest, code string) url.Values {
		return url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {rpCallback},
			"code_verifier": {r.verifier}, "client_id": {client}}
	}
	for _, c := range []struct {
		name       string
		user, pass string
		extra      url.Values
	}{
		{"no secret", "", "", nil},
		{"wrong secret (basic)", client, secret + "x", nil},
		{"wrong secret (post)", "", "", url.Values{"client_secret": {"nope"}}},
		{"another client's id with this secret", pubClient, secret, nil},
		{"basic and a different client_id in the body", client, secret, url.Values{"client_id": {pubClient}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := newCodeRequest(conf)
			f := form(r, b.get(r.url).wantCode(t, r.state))
			for k, v := range c.extra {
				f[k] = v
			}
			res := e.token(f, c.user, c.pass)
			if c.extra.Get("client_id") == pubClient {
				if res.status < 400 || res.status > 401 || res.str("access_token") != "" {
					t.Fatalf("got %s", res)
				}
				return
			}
			if c.user == pubClient {
				// The public client cannot redeem this client's code.
				if res.status < 400 || res.status > 401 || res.str("access_token") != "" {
					t.Fatalf("got %s", res)
				}
				return
			}
			wantOAuthError(t, res, http.StatusUnauthorized, "invalid_client")
		})
	}
}

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

// TestOAuthImplicit: response_type=token puts the tokens in the
// callback's fragment, with the state, and no refresh token.
func TestOAuthImplicit(t *testing.T) {
	t.Parallel()
	e := newOAuthEnv(t)
	client, _ := e.oauthClient(clientSpec{flows: []string{"code", "implicit"}})
	codeOnly, _ := e.oauthClient(clientSpec{})
	email := "imp@example.com"
	sub := e.newUser(email)
	b := e.newBrowser()
	params := func(client, state, nonce string) url.Values {
		return url.Values{"response_type": {"token"}, "client_id": {client}, "redirect_uri": {rpCallback},
			"scope": {"openid email aws.cognito.signin.user.admin"}, "state": {state}, "nonce": {nonce}}
	}
	check := func(l landing, state, nonce string) {
		t.Helper()
		cb := l.wantCallback(t, rpCallback)
		if cb.RawQuery != "" {
			t.Errorf("implicit callback has a query %q (tokens belong in the fragment)", cb.RawQuery)
		}
		f, err := url.ParseQuery(cb.Fragment)
		if err != nil {
			t.Fatalf("fragment %q: %v", cb.Fragment, err)
		}
		if f.Get("error") != "" {
			t.Fatalf("implicit error %s: %s", f.Get("error"), f.Get("error_description"))
		}
		if f.Get("state") != state || !strings.EqualFold(f.Get("token_type"), "bearer") || f.Get("expires_in") != "3600" {
			t.Errorf("fragment state %q token_type %q expires_in %q", f.Get("state"), f.Get("token_type"), f.Get("expires_in"))
		}
		if f.Has("refresh_token") || f.Has("code") {
			t.Errorf("implicit fragment has refresh_token or code: %v", f)
		}
		at := f.Get("access_token")
		if c := e.verifyAccess(at); c.Username != sub || c.ClientID != client {
			t.Errorf("implicit access token username %q client %q", c.Username, c.ClientID)
		}
		if c := e.verifyID(client, f.Get("id_token"), at, nonce); c.Sub != sub {
			t.Errorf("implicit id token sub %q", c.Sub)
		}
	}
	page := b.authorize(params(client, "s1", "n1")).wantPage(t, "/login")
	check(b.signIn(page, email, password), "s1", "n1")
	// Through the pool session.
	check(b.authorize(params(client, "s2", "n2")), "s2", "n2")

	// A client not allowed the implicit flow gets an error redirect.
	l := b.authorize(params(codeOnly, "s3", "n3"))
	cb := l.wantCallback(t, rpCallback)
	q := cb.Query()
	if f, _ := url.ParseQuery(cb.Fragment); q.Get("error") == "" && f.Get("error") != "" {
		q = f
	}
	if q.Get("error") != "unauthorized_client" || q.Get("state") != "s3" {
		t.Errorf("implicit on a code-only client: %s", cb)
	}
	if strings.Contains(cb.String(), "access_token") {
		t.Errorf("tokens issued to a client without the implicit flow: %s", cb)
	}
}

// TestOAuthLogout: /logout ends the pool session and goes to a
// registered sign-out URL, or back to the login page.
func TestOAuthLogout(t *testing.T) {
	t.Parallel()
	e := newOAuthEnv(t)
	client, _ := e.oauthClient(clientSpec{})
	email := "out@example.com"
	e.newUser(email)
	b := e.newBrowser()
	conf := e.rpConfig(client, "")
	b.login(conf, email, password)

	// An unregistered logout_uri: no redirect anywhere.
	l := b.get(e.origin + "/logout?" + url.Values{"client_id": {client}, "logout_uri": {rpOther}}.Encode())
	if l.callback != nil || l.status < 400 || l.status > 499 || l.header.Get("Location") != "" {
		t.Errorf("logout with an unregistered logout_uri: %s", l)
	}

	otherOut := "https://" + rpHost + "/other-signed-out"
	e.oauthClient(clientSpec{logouts: []string{otherOut}})
	l = b.get(e.origin + "/logout?" + url.Values{"client_id": {client}, "logout_uri": {otherOut}}.Encode())
	if l.callback != nil || l.status < 400 || l.status > 499 {
		t.Errorf("logout with another client's logout_uri: %s", l)
	}
	l = b.get(e.origin + "/logout?" + url.Values{"client_id": {"nosuchclient"}, "logout_uri": {rpSignOut}}.Encode())
	if l.callback != nil || l.status < 400 || l.status > 499 {
		t.Errorf("logout with an unknown client: %s", l)
	}

	l = b.get(e.origin + "/logout?" + url.Values{"client_id": {client}, "logout_uri": {rpSignOut}}.Encode())
	if cb := l.wantCallback(t, rpSignOut); cb.String() != rpSignOut {
		t.Errorf("logout redirected to %s, want exactly %s", cb, rpSignOut)
	}
	if c := b.sessionCookie(); c != nil {
		t.Errorf("the session cookie survived logout: %v", c)
	}
	// The session is over server-side too: the next authorization asks
	// for a password.
	r := newCodeRequest(conf)
	b.get(r.url).wantPage(t, "/login")

	// Replaying the old cookie value does not bring the session back.
	b2 := e.newBrowser()
	b2.login(conf, email, password)
	saved := b2.sessionCookie()
	b2.get(e.origin+"/logout?"+url.Values{"client_id": {client}, "logout_uri": {rpSignOut}}.Encode()).wantCallback(t, rpSignOut)
	b3 := e.newBrowser()
	u, _ := url.Parse(e.origin + "/")
	b3.c.Jar.SetCookies(u, []*http.Cookie{{Name: saved.Name, Value: saved.Value, Path: "/"}})
	r = newCodeRequest(conf)
	b3.get(r.url).wantPage(t, "/login")

	// The redirect_uri form of /logout goes back to the login page, which
	// then completes that authorization request.
	b4 := e.newBrowser()
	b4.login(conf, email, password)
	l = b4.get(e.origin + "/logout?" + url.Values{
		"client_id": {client}, "redirect_uri": {rpCallback}, "response_type": {"code"}, "state": {"st8"}, "scope": {"openid"},
	}.Encode())
	page := l.wantPage(t, "/login")
	if got := page.url.Query().Get("client_id"); got != client {
		t.Errorf("login page after logout has client_id %q", got)
	}
	if b4.sessionCookie() != nil {
		t.Errorf("session cookie kept by the redirect_uri form of logout")
	}
	if code := b4.signIn(page, email, password).wantCode(t, "st8"); code == "" {
		t.Errorf("no code")
	}
}

// TestOAuthHostedSignUp: sign up on the hosted pages, confirm with the
// emailed code, and end at the callback.
func TestOAuthHostedSignUp(t *testing.T) {
	t.Parallel()
	e := newOAuthEnv(t)
	client, _ := e.oauthClient(clientSpec{})
	conf := e.rpConfig(client, "")
	b := e.newBrowser()
	r := newCodeRequest(conf)
	login := b.get(r.url).wantPage(t, "/login")
	if !regexp.MustCompile(`href="[^"]*/signup\b`).MatchString(login.body) {
		t.Errorf("login page has no link to /signup")
	}
	if !regexp.MustCompile(`href="[^"]*/forgotPassword\b`).MatchString(login.body) {
		t.Errorf("login page has no link to /forgotPassword")
	}
	signup := b.get(e.origin+"/signup?"+login.url.RawQuery).wantPage(t, "/signup")
	f := signup.form(t, "signup")
	email := "hosted@example.com"

	// A weak password is refused on the page, and nobody is created.
	l := b.submit(f, map[string]string{"username": email, "password": "short", "name": "Grace Hopper"}, "")
	if l.callback != nil || l.status >= 500 || errorText(l.body) == "" {
		t.Errorf("weak password at sign-up: want the page again with an error, got %s", l)
	}
	if n := e.countUsers(e.pool); n != 0 {
		t.Errorf("%d users after a refused sign-up", n)
	}

	f = b.get(e.origin+"/signup?"+login.url.RawQuery).wantPage(t, "/signup").form(t, "signup")
	confirm := b.submit(f, map[string]string{"username": email, "password": password, "name": "Grace Hopper"}, "").wantPage(t, "/confirm")
	code := e.code(email, "sign_up")

	// A wrong code: an error on the page, still unconfirmed.
	cf := confirm.form(t, "confirm")
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	l = b.submit(cf, map[string]string{"code": wrong}, "")
	if l.callback != nil || errorText(l.body) == "" {
		t.Errorf("wrong confirmation code: want the page with an error, got %s", l)
	}
	if u := must(e.adminGet(e.pool, email))(t); u.UserStatus != types.UserStatusTypeUnconfirmed {
		t.Errorf("status after a wrong code %s", u.UserStatus)
	}

	// Resend: a new code in the outbox.
	before := len(e.outbox())
	l = b.submit(confirm.form(t, "resend"), nil, "")
	if l.callback != nil || l.status != http.StatusOK {
		t.Errorf("resend: %s", l)
	}
	if after := e.outbox(); len(after) != before+1 {
		t.Errorf("resend sent %d messages", len(after)-before)
	}
	code = e.code(email, "sign_up")

	page := confirm
	if l.url.Path == "/confirm" {
		page = l
	}
	l = b.submit(page.form(t, "confirm"), map[string]string{"code": code}, "")
	if l.callback == nil && l.url.Path == "/login" {
		l = b.signIn(l, email, password)
	}
	tok := e.exchange(conf, r, l.wantCode(t, r.state))
	c := e.verifyID(client, idToken(tok), tok.AccessToken, r.nonce)
	if c.Email != email || c.EmailVerified != true || c.Name != "Grace Hopper" {
		t.Errorf("hosted sign-up id token email %q verified %v name %q", c.Email, c.EmailVerified, c.Name)
	}
}

// TestOAuthForgotPassword: the hosted reset flow, then sign-in with the
// new password.
func TestOAuthForgotPassword(t *testing.T) {
	t.Parallel()
	e := newOAuthEnv(t)
	client, _ := e.oauthClient(clientSpec{})
	email := "forgot@example.com"
	e.newUser(email)
	conf := e.rpConfig(client, "")
	b := e.newBrowser()
	r := newCodeRequest(conf)
	login := b.get(r.url).wantPage(t, "/login")
	fp := b.get(e.origin+"/forgotPassword?"+login.url.RawQuery).wantPage(t, "/forgotPassword")
	cfp := b.submit(fp.form(t, "send-code"), map[string]string{"username": email}, "").wantPage(t, "/confirmForgotPassword")
	code := e.code(email, "forgot_password")
	f := cfp.form(t, "reset")
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	l := b.submit(f, map[string]string{"code": wrong, "password": password2}, "")
	if l.callback != nil || errorText(l.body) == "" {
		t.Errorf("wrong reset code: want an error on the page, got %s", l)
	}
	if l.url.Path == "/confirmForgotPassword" && l.status == http.StatusOK {
		f = l.form(t, "reset")
	}
	l = b.submit(f, map[string]string{"code": code, "password": password2}, "")
	if l.callback == nil && l.url.Path != "/login" {
		t.Fatalf("after the reset: %s", l)
	}
	if l.callback == nil {
		l = b.signIn(l, email, password2)
	}
	tok := e.exchange(conf, r, l.wantCode(t, r.state))
	e.verifyID(client, idToken(tok), tok.AccessToken, r.nonce)
	if _, err := e.passwordAuth(e.pub, email, password); err == nil {
		t.Errorf("the old password still works")
	}
	// Unknown users get the same next page (no user-existence leak) and
	// no message.
	b2 := e.newBrowser()
	login2 := b2.get(newCodeRequest(conf).url).wantPage(t, "/login")
	n := len(e.outbox())
	fp2 := b2.get(e.origin+"/forgotPassword?"+login2.url.RawQuery).wantPage(t, "/forgotPassword")
	b2.submit(fp2.form(t, "send-code"), map[string]string{"username": "nobody@example.com"}, "").wantPage(t, "/confirmForgotPassword")
	if len(e.outbox()) != n {
		t.Errorf("a reset code was sent for an unknown user")
	}
}

// TestOAuthNewPassword: an admin-created user signs in with the
// temporary password and sets a new one on the hosted page.
func TestOAuthNewPassword(t *testing.T) {
	t.Parallel()
	e := newOAuthEnv(t)
	client, _ := e.oauthClient(clientSpec{})
	email := "admin-made@example.com"
	temp := "Temp-Pass-123"
	out := must(e.api.AdminCreateUser(e.ctx, &cip.AdminCreateUserInput{
		UserPoolId: aws.String(e.pool), Username: aws.String(email), TemporaryPassword: aws.String(temp),
		MessageAction:  types.MessageActionTypeSuppress,
		UserAttributes: []types.AttributeType{attrT("email", email), attrT("email_verified", "true")},
	}))(t)
	sub, _ := attr(out.User.Attributes, "sub")
	conf := e.rpConfig(client, "")
	b := e.newBrowser()
	r := newCodeRequest(conf)
	// The new-password form (#set-password, posting to /newPassword) may
	// be rendered in answer to the login POST rather than at a URL of its
	// own.
	page := b.signIn(b.get(r.url).wantPage(t, "/login"), email, temp)
	if page.callback != nil || page.status != http.StatusOK {
		t.Fatalf("want the new-password page, got %s", page)
	}
	if f := page.form(t, "set-password"); f.action.Path != "/newPassword" || !f.has("password") {
		t.Errorf("new-password form posts to %s with fields %v", f.action.Path, f.fields)
	}
	l := b.submit(page.form(t, "set-password"), map[string]string{"password": "weak"}, "")
	if l.callback != nil || errorText(l.body) == "" {
		t.Errorf("weak new password: want an error on the page, got %s", l)
	}
	if l.callback == nil && l.status == http.StatusOK {
		page = l
	}
	l = b.submit(page.form(t, "set-password"), map[string]string{"password": password}, "")
	tok := e.exchange(conf, r, l.wantCode(t, r.state))
	if c := e.verifyID(client, idToken(tok), tok.AccessToken, r.nonce); c.Sub != sub {
		t.Errorf("sub %q, want %q", c.Sub, sub)
	}
	if u := must(e.adminGet(e.pool, email))(t); u.UserStatus != types.UserStatusTypeConfirmed {
		t.Errorf("status %s after the new password", u.UserStatus)
	}
}

// TestOAuthLoginPage: errors on the login page, login_hint, lang.
func TestOAuthLoginPage(t *testing.T) {
	t.Parallel()
	e := newOAuthEnv(t)
	client, _ := e.oauthClient(clientSpec{})
	email := "page@example.com"
	e.newUser(email)
	conf := e.rpConfig(client, "")
	b := e.newBrowser()

	login := b.get(newCodeRequest(conf).url).wantPage(t, "/login")
	if ct := login.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Errorf("login page Content-Type %q", ct)
	}
	wrongPw := b.signIn(login, email, "Wrong-Pass-1")
	msgWrong := errorText(wrongPw.body)
	if wrongPw.callback != nil || msgWrong == "" {
		t.Fatalf("wrong password: want the login page with an error, got %s", wrongPw)
	}
	if b.sessionCookie() != nil {
		t.Errorf("a session cookie was set for a wrong password")
	}
	if !regexp.MustCompile(`(?is)<input\b[^>]*\bname="password"[^>]*\baria-invalid="true"|<input\b[^>]*\baria-invalid="true"[^>]*\bname="password"`).MatchString(wrongPw.body) {
		t.Errorf("the password input is not aria-invalid after a wrong password")
	}
	page := login
	if wrongPw.url.Path == "/login" && wrongPw.status == http.StatusOK {
		page = wrongPw
	}
	unknown := b.signIn(page, "nobody@example.com", "Wrong-Pass-1")
	if msg := errorText(unknown.body); unknown.callback != nil || msg != msgWrong {
		t.Errorf("unknown user: message %q, want the wrong-password message %q (no user-existence leak)", msg, msgWrong)
	}
	// The right password still works afterwards, from the re-shown page.
	if unknown.url.Path == "/login" && unknown.status == http.StatusOK {
		page = unknown
	}
	b.signIn(page, email, password).wantCallback(t, rpCallback)

	// login_hint fills the username.
	b2 := e.newBrowser()
	hinted := b2.get(newCodeRequest(conf, oauth2.SetAuthURLParam("login_hint", email)).url).wantPage(t, "/login")
	if got := hinted.form(t, "signin").fields.Get("username"); got != email {
		t.Errorf("login_hint: username field %q, want %q", got, email)
	}

	// lang=fr renders French.
	fr := b2.get(newCodeRequest(conf, oauth2.SetAuthURLParam("lang", "fr")).url).wantPage(t, "/login")
	if !regexp.MustCompile(`(?i)<html\b[^>]*\blang="fr`).MatchString(fr.body) {
		t.Errorf("lang=fr: <html> is not lang=fr")
	}
	if !strings.Contains(strings.ToLower(fr.body), "mot de passe") {
		t.Errorf("lang=fr: no French on the page (no \"mot de passe\")")
	}
	// The French page's form still signs in.
	frCode := b2.signIn(fr, email, password)
	frCode.wantCallback(t, rpCallback)
}

// TestOAuthBadAuthorize: what the authorization endpoint does with bad
// requests. Problems with the client or redirect_uri show an error page
// (never a redirect); others redirect to the callback with error and the
// state.
func TestOAuthBadAuthorize(t *testing.T) {
	t.Parallel()
	e := newOAuthEnv(t)
	client, _ := e.oauthClient(clientSpec{})
	otherCallback := "https://" + rpHost + "/other-app"
	e.oauthClient(clientSpec{callbacks: []string{otherCallback}})
	email := "bad@example.com"
	e.newUser(email)
	v := oauth2.GenerateVerifier()

	errorPage := []struct {
		name   string
		params url.Values
	}{
		{"unregistered redirect_uri", authParams(client, "st", v, "redirect_uri", rpOther)},
		{"redirect_uri with a longer path", authParams(client, "st", v, "redirect_uri", rpCallback+"/more")},
		{"redirect_uri with a query", authParams(client, "st", v, "redirect_uri", rpCallback+"?x=1")},
		{"redirect_uri of another case", authParams(client, "st", v, "redirect_uri", strings.ToUpper(rpCallback))},
		{"http redirect_uri", authParams(client, "st", v, "redirect_uri", "http://"+rpHost+"/callback")},
		{"no redirect_uri", authParams(client, "st", v, "redirect_uri", "")},
		{"unknown client", authParams("nosuchclient0000000000000", "st", v)},
		{"no client_id", authParams("", "st", v, "client_id", "")},
		{"OAuth-disabled client", authParams(e.pub, "st", v)},
		{"markup in redirect_uri", authParams(client, "st", v, "redirect_uri", "https://rp.example/<script>alert(1)</script>")},
		{"another client's redirect_uri", authParams(client, "st", v, "redirect_uri", otherCallback)},
	}
	for _, c := range errorPage {
		t.Run(c.name, func(t *testing.T) {
			l := e.newBrowser().authorize(c.params)
			if l.callback != nil || l.header.Get("Location") != "" {
				t.Fatalf("redirected: %s", l)
			}
			if l.status < 400 || l.status > 499 {
				t.Fatalf("status %d, want 4xx; %s", l.status, l)
			}
			if strings.Contains(l.body, "<script>alert(1)</script>") {
				t.Errorf("the error page reflects markup unescaped")
			}
			if strings.Contains(l.body, `name="password"`) {
				t.Errorf("the error page offers a login form")
			}
		})
	}

	errorRedirect := []struct {
		name   string
		params url.Values
		codes  []string
	}{
		{"unsupported response_type", authParams(client, "st", v, "response_type", "id_token"), []string{"unsupported_response_type", "invalid_request"}},
		{"two response_types", authParams(client, "st", v, "response_type", "code token"), []string{"unsupported_response_type", "invalid_request"}},
		{"no response_type", authParams(client, "st", v, "response_type", ""), []string{"unsupported_response_type", "invalid_request"}},
		{"scope not allowed", authParams(client, "st", v, "scope", "openid admin/all"), []string{"invalid_scope"}},
		{"PKCE plain", authParams(client, "st", v, "code_challenge_method", "plain", "code_challenge", v), []string{"invalid_request"}},
		{"unknown PKCE method", authParams(client, "st", v, "code_challenge_method", "S512"), []string{"invalid_request"}},
	}
	for _, c := range errorRedirect {
		t.Run(c.name, func(t *testing.T) {
			l := e.newBrowser().authorize(c.params)
			cb := l.wantCallback(t, rpCallback)
			q := cb.Query()
			if !slices.Contains(c.codes, q.Get("error")) {
				t.Fatalf("error %q (%s), want one of %v", q.Get("error"), q.Get("error_description"), c.codes)
			}
			if q.Get("state") != "st" {
				t.Errorf("state %q not echoed", q.Get("state"))
			}
			if q.Get("error_description") == "" {
				t.Errorf("no error_description")
			}
			if q.Has("code") {
				t.Errorf("an error redirect carries a code")
			}
		})
	}

	// The same errors reach the callback for a signed-in browser too, and
	// the state survives any characters.
	b := e.newBrowser()
	conf := e.rpConfig(client, "")
	b.login(conf, email, password)
	odd := `a b&c=d/é+%"><script>x</script>`
	l := b.authorize(authParams(client, odd, v, "scope", "openid admin/all"))
	if q := l.wantCallback(t, rpCallback).Query(); q.Get("state") != odd || q.Get("error") != "invalid_scope" {
		t.Errorf("signed in, bad scope: error %q state %q", q.Get("error"), q.Get("state"))
	}
	if code := b.authorize(authParams(client, odd, v)).wantCode(t, odd); code == "" {
		t.Error("no code")
	}
	// No state sent: none comes back.
	l = b.authorize(authParams(client, "", v))
	if q := l.wantCallback(t, rpCallback).Query(); !q.Has("code") || q.Has("state") {
		t.Errorf("without state: callback %s", l.callback)
	}
	// The state is escaped where the login page carries it.
	b2 := e.newBrowser()
	page := b2.authorize(authParams(client, odd, v)).wantPage(t, "/login")
	if strings.Contains(page.body, "<script>x</script>") {
		t.Errorf("the login page reflects the state unescaped")
	}
	b2.signIn(page, email, password).wantCode(t, odd)
	// Nor are login_hint and lang reflected as markup.
	for _, p := range []string{"login_hint", "lang"} {
		markup := `"><script>alert(1)</script>`
		l := e.newBrowser().authorize(authParams(client, "st", v, p, markup))
		if strings.Contains(l.body, "<script>alert(1)</script>") {
			t.Errorf("%s is reflected unescaped: %s", p, l)
		}
	}

	// Oversized values: a 4xx or a normal answer, never a 5xx (the guard
	// fails the test on those).
	big := strings.Repeat("A", 20_000)
	for _, c := range []struct {
		name   string
		params url.Values
	}{
		{"state", authParams(client, big, v)},
		{"scope", authParams(client, "st", v, "scope", big)},
		{"nonce", authParams(client, "st", v, "nonce", big)},
		{"login_hint", authParams(client, "st", v, "login_hint", big)},
		{"code_challenge", authParams(client, "st", v, "code_challenge", big)},
		{"client_id", authParams(big, "st", v)},
		{"redirect_uri", authParams(client, "st", v, "redirect_uri", rpCallback+"?"+big)},
		{"lang", authParams(client, "st", v, "lang", big)},
	} {
		t.Run("oversized "+c.name, func(t *testing.T) {
			for _, br := range []*browser{e.newBrowser(), b} {
				l := br.authorize(c.params)
				if l.status >= 500 {
					t.Fatalf("%s", l)
				}
				if l.callback != nil && l.callback.Query().Has("code") && c.name == "code_challenge" {
					t.Errorf("a 20 kB code_challenge was accepted (S256 challenges are 43 characters)")
				}
			}
		})
	}
	t.Run("duplicate parameters", func(t *testing.T) {
		q := authParams(client, "st", v)
		q.Add("client_id", "other")
		q.Add("redirect_uri", rpOther)
		l := e.newBrowser().authorize(q)
		if l.status >= 500 || (l.callback != nil && l.callback.Query().Has("code")) {
			t.Fatalf("%s", l)
		}
	})
}

// TestOAuthBadToken: bad requests to the token endpoint.
func TestOAuthBadToken(t *testing.T) {
	t.Parallel()
	e := newOAuthEnv(t)
	client, _ := e.oauthClient(clientSpec{})
	other, _ := e.oauthClient(clientSpec{})
	email := "tok@example.com"
	e.newUser(email)
	conf := e.rpConfig(client, "")
	b := e.newBrowser()
	b.login(conf, email, password)
	fresh := func(conf *oauth2.Config) (codeRequest, string) {
		r := newCodeRequest(conf)
		return r, b.get(r.url).wantCode(t, r.state)
	}
	form := func(r codeRequest, code string, kv ...string) url.Values {
		f := url.Values{"grant_type": {"authorization_code"}, "client_id": {client}, "code": {code},
			"redirect_uri": {rpCallback}, "code_verifier": {r.verifier}}
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] == "" {
				f.Del(kv[i])
			} else {
				f.Set(kv[i], kv[i+1])
			}
		}
		return f
	}

	t.Run("wrong PKCE verifier", func(t *testing.T) {
		r, code := fresh(conf)
		_, err := conf.Exchange(e.ctxRP(), code, oauth2.VerifierOption(oauth2.GenerateVerifier()))
		var re *oauth2.RetrieveError
		if err == nil || !asRetrieve(err, &re) || re.ErrorCode != "invalid_grant" || re.Response.StatusCode != 400 {
			t.Fatalf("wrong verifier: %v", err)
		}
		_ = r
	})
	t.Run("no verifier", func(t *testing.T) {
		r, code := fresh(conf)
		wantOAuthError(t, e.token(form(r, code, "code_verifier", ""), "", ""), 400, "invalid_grant")
	})
	t.Run("short verifier", func(t *testing.T) {
		r, code := fresh(conf)
		wantOAuthError(t, e.token(form(r, code, "code_verifier", "abc"), "", ""), 400, "invalid_grant")
	})
	t.Run("replayed code", func(t *testing.T) {
		r, code := fresh(conf)
		tok := e.exchange(conf, r, code)
		_, err := conf.Exchange(e.ctxRP(), code, oauth2.VerifierOption(r.verifier))
		var re *oauth2.RetrieveError
		if err == nil || !asRetrieve(err, &re) || re.ErrorCode != "invalid_grant" {
			t.Fatalf("replay: %v", err)
		}
		// The first exchange's grant is revoked: its refresh token is
		// refused.
		wantOAuthError(t, e.refreshRaw(client, tok.RefreshToken), 400, "invalid_grant")
		if r := e.userInfo(http.MethodGet, tok.AccessToken); r.status != http.StatusUnauthorized {
			t.Errorf("the replayed grant's access token still works at userInfo: %s", r)
		}
	})
	t.Run("redirect_uri differs", func(t *testing.T) {
		r, code := fresh(conf)
		wantOAuthError(t, e.token(form(r, code, "redirect_uri", rpOther), "", ""), 400, "invalid_grant")
	})
	t.Run("no redirect_uri", func(t *testing.T) {
		r, code := fresh(conf)
		res := e.token(form(r, code, "redirect_uri", ""), "", "")
		if res.status != 400 || (res.str("error") != "invalid_request" && res.str("error") != "invalid_grant") {
			t.Fatalf("%s", res)
		}
	})
	t.Run("another client's code", func(t *testing.T) {
		r, code := fresh(conf)
		wantOAuthError(t, e.token(form(r, code, "client_id", other), "", ""), 400, "invalid_grant")
	})
	t.Run("garbage code", func(t *testing.T) {
		r, _ := fresh(conf)
		wantOAuthError(t, e.token(form(r, "not-a-code"), "", ""), 400, "invalid_grant")
	})
	t.Run("no code", func(t *testing.T) {
		r, _ := fresh(conf)
		res := e.token(form(r, "", "code", ""), "", "")
		if res.status != 400 || (res.str("error") != "invalid_request" && res.str("error") != "invalid_grant") {
			t.Fatalf("%s", res)
		}
	})
	t.Run("unknown client", func(t *testing.T) {
		r, code := fresh(conf)
		wantOAuthError(t, e.token(form(r, code, "client_id", "nosuchclient"), "", ""), 401, "invalid_client")
	})
	t.Run("unsupported grant_type", func(t *testing.T) {
		wantOAuthError(t, e.token(url.Values{"grant_type": {"password"}, "client_id": {client}, "username": {email}, "password": {password}}, "", ""), 400, "unsupported_grant_type")
	})
	t.Run("no grant_type", func(t *testing.T) {
		res := e.token(url.Values{"client_id": {client}}, "", "")
		if res.status != 400 || (res.str("error") != "invalid_request" && res.str("error") != "unsupported_grant_type") {
			t.Fatalf("%s", res)
		}
	})
	t.Run("garbage refresh token", func(t *testing.T) {
		wantOAuthError(t, e.refreshRaw(client, "garbage"), 400, "invalid_grant")
	})
	t.Run("another client's refresh token", func(t *testing.T) {
		r, code := fresh(conf)
		tok := e.exchange(conf, r, code)
		wantOAuthError(t, e.refreshRaw(other, tok.RefreshToken), 400, "invalid_grant")
	})
	t.Run("JSON body", func(t *testing.T) {
		req := must(http.NewRequestWithContext(e.ctx, http.MethodPost, e.disc.TokenEndpoint,
			strings.NewReader(`{"grant_type":"client_credentials","client_id":"`+client+`"}`)))(t)
		req.Header.Set("Content-Type", "application/json")
		if res := e.send(req); res.status < 400 || res.status > 499 || res.str("access_token") != "" {
			t.Fatalf("%s", res)
		}
	})
	t.Run("GET", func(t *testing.T) {
		req := must(http.NewRequestWithContext(e.ctx, http.MethodGet, e.disc.TokenEndpoint+"?grant_type=refresh_token&client_id="+client, nil))(t)
		if res := e.send(req); res.status < 400 || res.status > 499 {
			t.Fatalf("%s", res)
		}
	})
	t.Run("oversized", func(t *testing.T) {
		r, code := fresh(conf)
		for name, f := range map[string]url.Values{
			"code":          form(r, strings.Repeat("c", 100_000)),
			"verifier":      form(r, code, "code_verifier", strings.Repeat("v", 100_000)),
			"refresh_token": {"grant_type": {"refresh_token"}, "client_id": {client}, "refresh_token": {strings.Repeat("r", 100_000)}},
			"scope":         {"grant_type": {"client_credentials"}, "client_id": {client}, "scope": {strings.Repeat("s ", 50_000)}},
			"body":          {"grant_type": {"authorization_code"}, "pad": {strings.Repeat("p", 3<<20)}},
		} {
			if res := e.token(f, "", ""); res.status < 400 || res.status > 499 {
				t.Errorf("oversized %s: %s", name, res)
			}
		}
		// The code survives the failed attempts above or not, but never
		// yields tokens to a wrong verifier.
		res := e.token(form(r, code, "code_verifier", oauth2.GenerateVerifier()), "", "")
		if res.str("access_token") != "" {
			t.Fatalf("tokens for a wrong verifier: %s", res)
		}
	})
	t.Run("security headers", func(t *testing.T) {
		r, code := fresh(conf)
		res := e.token(form(r, code), "", "")
		if res.status != 200 {
			t.Fatalf("%s", res)
		}
		if cc := res.header.Get("Cache-Control"); !strings.Contains(cc, "no-store") {
			t.Errorf("token response Cache-Control %q, want no-store (RFC 6749 §5.1)", cc)
		}
		if ct := res.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			t.Errorf("token response Content-Type %q", ct)
		}
	})
}

func asRetrieve(err error, re **oauth2.RetrieveError) bool { return errors.As(err, re) }

// TestOAuthLoginCSRF: the login form only accepts its own CSRF token,
// from a same-origin page.
func TestOAuthLoginCSRF(t *testing.T) {
	t.Parallel()
	e := newOAuthEnv(t)
	client, _ := e.oauthClient(clientSpec{})
	email := "csrf@example.com"
	e.newUser(email)
	conf := e.rpConfig(client, "")

	// refused asserts a submission issued nothing: no redirect to the
	// relying party, no session, and the next authorization asks for a
	// password.
	refused := func(t *testing.T, b *browser, l landing) {
		t.Helper()
		if l.callback != nil {
			t.Fatalf("the submission was accepted: %s", l)
		}
		if l.status >= 500 {
			t.Fatalf("%s", l)
		}
		if b.sessionCookie() != nil {
			t.Fatalf("a session cookie was set")
		}
		b.get(newCodeRequest(conf).url).wantPage(t, "/login")
	}
	loginForm := func(b *browser) *form {
		return b.get(newCodeRequest(conf).url).wantPage(t, "/login").form(t, "signin")
	}

	t.Run("forged token", func(t *testing.T) {
		b := e.newBrowser()
		f := loginForm(b)
		name := f.csrfField(t)
		refused(t, b, b.submit(f, map[string]string{"username": email, "password": password, name: randomToken()}, ""))
	})
	t.Run("no token", func(t *testing.T) {
		b := e.newBrowser()
		f := loginForm(b)
		f.fields.Del(f.csrfField(t))
		refused(t, b, b.submit(f, map[string]string{"username": email, "password": password}, ""))
	})
	t.Run("another browser's token", func(t *testing.T) {
		attacker, victim := e.newBrowser(), e.newBrowser()
		af := loginForm(attacker)
		vf := loginForm(victim)
		name := af.csrfField(t)
		l := victim.submit(vf, map[string]string{"username": email, "password": password, name: af.fields.Get(name)}, "")
		if l.callback != nil {
			t.Errorf("a CSRF token from another browser was accepted (tokens are not bound to the browser): login CSRF is possible where Origin is absent")
			return
		}
		refused(t, victim, l)
	})
	t.Run("cross-site POST", func(t *testing.T) {
		b := e.newBrowser()
		f := loginForm(b)
		refused(t, b, b.submit(f, map[string]string{"username": email, "password": password}, "https://evil.example"))
	})
	t.Run("cross-site POST with Origin null", func(t *testing.T) {
		b := e.newBrowser()
		f := loginForm(b)
		refused(t, b, b.submit(f, map[string]string{"username": email, "password": password}, "null"))
	})
	t.Run("cross-site sign-up", func(t *testing.T) {
		b := e.newBrowser()
		login := b.get(newCodeRequest(conf).url).wantPage(t, "/login")
		f := b.get(e.origin+"/signup?"+login.url.RawQuery).wantPage(t, "/signup").form(t, "signup")
		users := e.countUsers(e.pool)
		msgs := len(e.outbox())
		l := b.submit(f, map[string]string{"username": "victim@example.com", "password": password, "name": "V"}, "https://evil.example")
		if l.status >= 500 || l.url.Path == "/confirm" && l.status == 200 {
			t.Errorf("cross-site sign-up accepted: %s", l)
		}
		if n := e.countUsers(e.pool); n != users {
			t.Errorf("cross-site sign-up created a user")
		}
		if len(e.outbox()) != msgs {
			t.Errorf("cross-site sign-up sent a message")
		}
	})
	t.Run("same-origin still works", func(t *testing.T) {
		b := e.newBrowser()
		r := newCodeRequest(conf)
		page := b.get(r.url).wantPage(t, "/login")
		b.signIn(page, email, password).wantCode(t, r.state)
	})
}

// TestOAuthPageHeaders: the hosted pages cannot be framed or cached.
func TestOAuthPageHeaders(t *testing.T) {
	t.Parallel()
	e := newOAuthEnv(t)
	client, _ := e.oauthClient(clientSpec{})
	b := e.newBrowser()
	login := b.get(newCodeRequest(e.rpConfig(client, "")).url).wantPage(t, "/login")
	for _, p := range []string{"/login", "/signup", "/forgotPassword"} {
		l := b.get(e.origin+p+"?"+login.url.RawQuery).wantPage(t, p)
		xfo := strings.ToUpper(l.header.Get("X-Frame-Options"))
		csp := l.header.Get("Content-Security-Policy")
		if xfo != "DENY" && xfo != "SAMEORIGIN" && !strings.Contains(csp, "frame-ancestors") {
			t.Errorf("%s can be framed (no X-Frame-Options, no CSP frame-ancestors): clickjacking", p)
		}
		if cc := l.header.Get("Cache-Control"); !strings.Contains(cc, "no-store") && !strings.Contains(cc, "no-cache") && !strings.Contains(cc, "private") {
			t.Errorf("%s Cache-Control %q: a page with a CSRF token must not be cached", p, cc)
		}
	}
}

// TestOAuthSessionSecurity: the pool session cookie cannot be fixed by an
// attacker, is renewed at each sign-in, honours prompt=none, and ends
// with the user's ability to sign in.
func TestOAuthSessionSecurity(t *testing.T) {
	t.Parallel()
	e := newOAuthEnv(t)
	client, _ := e.oauthClient(clientSpec{})
	email := "sess@example.com"
	e.newUser(email)
	conf := e.rpConfig(client, "")
	root, _ := url.Parse(e.origin + "/")

	t.Run("fixation", func(t *testing.T) {
		b := e.newBrowser()
		planted := "attacker-chosen-session-value-0123456789"
		b.c.Jar.SetCookies(root, []*http.Cookie{{Name: "cognate_session_" + e.pool, Value: planted, Path: "/"}})
		r := newCodeRequest(conf)
		// A planted value is no session.
		page := b.get(r.url).wantPage(t, "/login")
		b.signIn(page, email, password).wantCode(t, r.state)
		if c := b.sessionCookie(); c == nil || c.Value == planted {
			t.Fatalf("after sign-in the session cookie is %v (the planted value was kept)", c)
		}
	})
	t.Run("renewed at each sign-in", func(t *testing.T) {
		b := e.newBrowser()
		b.login(conf, email, password)
		first := b.sessionCookie()
		b.login(conf, email, password, oauth2.SetAuthURLParam("prompt", "login"))
		second := b.sessionCookie()
		if first == nil || second == nil || first.Value == second.Value {
			t.Errorf("the session cookie was not renewed by a new sign-in: %v → %v", first, second)
		}
	})
	t.Run("prompt=none", func(t *testing.T) {
		b := e.newBrowser()
		r := newCodeRequest(conf, oauth2.SetAuthURLParam("prompt", "none"))
		cb := b.get(r.url).wantCallback(t, rpCallback)
		if q := cb.Query(); q.Get("error") != "login_required" && q.Get("error") != "interaction_required" || q.Get("state") != r.state || q.Has("code") {
			t.Errorf("prompt=none without a session: %s", cb)
		}
		b.login(conf, email, password)
		r = newCodeRequest(conf, oauth2.SetAuthURLParam("prompt", "none"))
		e.exchange(conf, r, b.get(r.url).wantCode(t, r.state))
	})
	t.Run("disabled user", func(t *testing.T) {
		other := "disabled@example.com"
		e.newUser(other)
		b := e.newBrowser()
		rPending, pending := b.login(conf, other, password) // a code not yet redeemed
		r1, c1 := func() (codeRequest, string) {
			r := newCodeRequest(conf)
			return r, b.get(r.url).wantCode(t, r.state)
		}()
		tok := e.exchange(conf, r1, c1)
		must(e.api.AdminDisableUser(e.ctx, &cip.AdminDisableUserInput{UserPoolId: aws.String(e.pool), Username: aws.String(other)}))(t)
		// The live session no longer authorizes.
		r := newCodeRequest(conf)
		if l := b.get(r.url); l.callback != nil && l.callback.Query().Has("code") {
			t.Errorf("a disabled user's session still yields codes")
		}
		// An outstanding code, the refresh token and userInfo are refused.
		if _, err := conf.Exchange(e.ctxRP(), pending, oauth2.VerifierOption(rPending.verifier)); err == nil {
			t.Errorf("a disabled user's outstanding code was redeemed")
		}
		wantOAuthError(t, e.refreshRaw(client, tok.RefreshToken), 400, "invalid_grant")
		if res := e.userInfo(http.MethodGet, tok.AccessToken); res.status != http.StatusUnauthorized {
			t.Errorf("userInfo for a disabled user: %s", res)
		}
		// The hosted login refuses the user too, with no session.
		b2 := e.newBrowser()
		l := b2.signIn(b2.get(newCodeRequest(conf).url).wantPage(t, "/login"), other, password)
		if l.callback != nil || b2.sessionCookie() != nil || errorText(l.body) == "" {
			t.Errorf("a disabled user signed in on the hosted page: %s", l)
		}
	})
}

// TestOAuthRevoke: the revocation endpoint only revokes a client's own
// tokens, and a confidential client must authenticate.
func TestOAuthRevoke(t *testing.T) {
	t.Parallel()
	e := newOAuthEnv(t)
	pubA, _ := e.oauthClient(clientSpec{})
	pubB, _ := e.oauthClient(clientSpec{})
	conf, secret := e.oauthClient(clientSpec{secret: true})
	email := "rev@example.com"
	e.newUser(email)
	b := e.newBrowser()
	confA := e.rpConfig(pubA, "")
	rA, cA := b.login(confA, email, password)
	tokA := e.exchange(confA, rA, cA)
	confC := e.rpConfig(conf, secret)
	rC := newCodeRequest(confC)
	tokC := e.exchange(confC, rC, b.get(rC.url).wantCode(t, rC.state))

	revoke := func(form url.Values, user, pass string) tokenResult {
		return e.postForm(e.disc.RevocationEndpoint, form, user, pass)
	}
	// Another client cannot revoke A's token.
	res := revoke(url.Values{"token": {tokA.RefreshToken}, "client_id": {pubB}}, "", "")
	if res.status >= 500 {
		t.Fatalf("%s", res)
	}
	if r := e.refreshRaw(pubA, tokA.RefreshToken); r.status != http.StatusOK {
		t.Errorf("client B's revoke request (answer %s) killed client A's refresh token: %s", res, r)
	}
	// A confidential client's token: no secret, a wrong secret → 401
	// invalid_client and the token lives on.
	wantOAuthError(t, revoke(url.Values{"token": {tokC.RefreshToken}, "client_id": {conf}}, "", ""), 401, "invalid_client")
	wantOAuthError(t, revoke(url.Values{"token": {tokC.RefreshToken}}, conf, "wrong"), 401, "invalid_client")
	if r := e.token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tokC.RefreshToken}}, conf, secret); r.status != http.StatusOK {
		t.Errorf("the confidential client's token died after unauthenticated revoke attempts: %s", r)
	}
	// With the secret it is revoked.
	if r := revoke(url.Values{"token": {tokC.RefreshToken}}, conf, secret); r.status != http.StatusOK {
		t.Fatalf("revoke with client_secret_basic: %s", r)
	}
	wantOAuthError(t, e.token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tokC.RefreshToken}}, conf, secret), 400, "invalid_grant")
	// Malformed requests.
	res = revoke(url.Values{"client_id": {pubA}}, "", "")
	if res.status != 400 || res.str("error") != "invalid_request" {
		t.Errorf("revoke without a token: %s", res)
	}
	if r := revoke(url.Values{"token": {"garbage"}, "client_id": {pubA}}, "", ""); r.status != http.StatusOK && r.status != http.StatusBadRequest {
		t.Errorf("revoke of garbage: %s", r)
	}
	if r := revoke(url.Values{"token": {strings.Repeat("t", 200_000)}, "client_id": {pubA}}, "", ""); r.status >= 500 {
		t.Errorf("revoke of an oversized token: %s", r)
	}
}

// TestOAuthRaces: single-use artefacts stay single-use under concurrent
// redemption.
func TestOAuthRaces(t *testing.T) {
	t.Parallel()
	e := newOAuthEnv(t)
	client, _ := e.oauthClient(clientSpec{})
	rotating, _ := e.oauthClient(clientSpec{rotation: true})
	email := "race@example.com"
	e.newUser(email)
	b := e.newBrowser()
	conf := e.rpConfig(client, "")
	b.login(conf, email, password)
	const n = 8
	parallel := func(do func() tokenResult) (ok int, results []string) {
		out := make(chan tokenResult, n)
		start := make(chan struct{})
		for range n {
			go func() { <-start; out <- do() }()
		}
		close(start)
		for range n {
			r := <-out
			if r.status == http.StatusOK {
				ok++
			}
			results = append(results, fmt.Sprint(r.status))
		}
		return ok, results
	}

	t.Run("one code, many exchanges", func(t *testing.T) {
		r := newCodeRequest(conf)
		code := b.get(r.url).wantCode(t, r.state)
		f := url.Values{"grant_type": {"authorization_code"}, "client_id": {client}, "code": {code},
			"redirect_uri": {rpCallback}, "code_verifier": {r.verifier}}
		if ok, res := parallel(func() tokenResult { return e.token(f, "", "") }); ok > 1 {
			t.Errorf("a code was redeemed %d times concurrently: %v", ok, res)
		}
	})
	t.Run("one rotating refresh token, many refreshes", func(t *testing.T) {
		rc := e.rpConfig(rotating, "")
		r := newCodeRequest(rc)
		tok := e.exchange(rc, r, b.get(r.url).wantCode(t, r.state))
		if ok, res := parallel(func() tokenResult { return e.refreshRaw(rotating, tok.RefreshToken) }); ok > 1 {
			t.Errorf("a rotating refresh token (grace 0) was used %d times concurrently: %v", ok, res)
		}
	})
}

// TestOAuthLoginPostTampering: what the login POST carries is checked
// again; editing the form cannot send a code to an unregistered URI,
// widen the scopes, or reuse another pool's session.
func TestOAuthLoginPostTampering(t *testing.T) {
	t.Parallel()
	e := newOAuthEnv(t)
	client, _ := e.oauthClient(clientSpec{scopes: []string{"openid", "email"}})
	email := "tamper@example.com"
	e.newUser(email)
	conf := e.rpConfig(client, "", "openid")

	// tamper rewrites a parameter wherever the form carries it: in the
	// action's query and in hidden fields.
	tamper := func(f *form, name, value string) {
		q := f.action.Query()
		if q.Has(name) {
			q.Set(name, value)
			f.action.RawQuery = q.Encode()
		}
		if f.has(name) {
			f.fields.Set(name, value)
		}
	}
	t.Run("redirect_uri", func(t *testing.T) {
		b := e.newBrowser()
		f := b.get(newCodeRequest(conf).url).wantPage(t, "/login").form(t, "signin")
		tamper(f, "redirect_uri", "https://evil.example/cb")
		l := b.submit(f, map[string]string{"username": email, "password": password}, "")
		if l.callback != nil && l.callback.Host != rpHost {
			t.Fatalf("the login POST redirected to %s", l.callback)
		}
		if l.callback != nil && l.callback.Query().Has("code") {
			t.Errorf("a code was issued for a tampered redirect_uri: %s", l.callback)
		}
	})
	t.Run("scope", func(t *testing.T) {
		b := e.newBrowser()
		r := newCodeRequest(conf)
		f := b.get(r.url).wantPage(t, "/login").form(t, "signin")
		tamper(f, "scope", "openid email profile aws.cognito.signin.user.admin")
		l := b.submit(f, map[string]string{"username": email, "password": password}, "")
		if l.callback == nil || !l.callback.Query().Has("code") {
			return // refused: fine
		}
		tok, err := conf.Exchange(e.ctxRP(), l.callback.Query().Get("code"), oauth2.VerifierOption(r.verifier))
		if err != nil {
			return
		}
		if sc := scopeSet(e.verifyAccess(tok.AccessToken).Scope); strings.Contains(sc, "profile") || strings.Contains(sc, "admin") {
			t.Errorf("tampered login POST widened the scope beyond the client's: %q", sc)
		}
	})
	t.Run("GET /login with bad parameters", func(t *testing.T) {
		for name, q := range map[string]url.Values{
			"unknown client":            {"client_id": {"nosuchclient"}, "redirect_uri": {rpCallback}, "response_type": {"code"}},
			"unregistered redirect":     {"client_id": {client}, "redirect_uri": {rpOther}, "response_type": {"code"}},
			"no parameters":             {},
			"unsupported response type": {"client_id": {client}, "redirect_uri": {rpCallback}, "response_type": {"id_token"}},
		} {
			l := e.newBrowser().get(e.origin + "/login?" + q.Encode())
			if l.status >= 500 || (l.status == 200 && strings.Contains(l.body, `id="signin"`) && name != "unsupported response type") {
				t.Errorf("%s: %s", name, l)
			}
			if l.callback != nil && l.callback.Host != rpHost {
				t.Errorf("%s: redirected to %s", name, l.callback)
			}
		}
	})
	t.Run("another pool's session", func(t *testing.T) {
		out, err := e.srv.Service().CreateUserPool(e.ctx, userpool.CreateUserPoolInput{PoolName: "second", UsernameAttributes: []string{"email"}, AutoVerifiedAttributes: []string{"email"}})
		if err != nil {
			t.Fatal(err)
		}
		pool2 := out.UserPool.Id
		c2, err := e.srv.Service().CreateUserPoolClient(e.ctx, userpool.CreateUserPoolClientInput{ClientSettingsInput: userpool.ClientSettingsInput{
			UserPoolId: pool2, ClientName: "p2", AllowedOAuthFlowsUserPoolClient: true, AllowedOAuthFlows: []string{"code"},
			AllowedOAuthScopes: []string{"openid"}, CallbackURLs: []string{rpCallback},
		}})
		if err != nil {
			t.Fatal(err)
		}
		b := e.newBrowser()
		b.login(conf, email, password)
		conf2 := e.rpConfig(c2.UserPoolClient.ClientId, "", "openid")
		l := b.get(newCodeRequest(conf2).url)
		if l.callback != nil && l.callback.Query().Has("code") {
			t.Fatalf("pool %s's session authorized a client of pool %s", e.pool, pool2)
		}
		l.wantPage(t, "/login")
		// The user of the first pool does not exist in the second.
		if l2 := b.signIn(l, email, password); l2.callback != nil {
			t.Errorf("pool 1's user signed in to pool 2: %s", l2)
		}
	})
}

// TestOAuthMoreAuthorize: Cognito behaviours of the authorization
// endpoint a relying party relies on.
func TestOAuthMoreAuthorize(t *testing.T) {
	t.Parallel()
	e := newOAuthEnv(t)
	client, _ := e.oauthClient(clientSpec{})
	implicitOnly, _ := e.oauthClient(clientSpec{flows: []string{"implicit"}})
	email := "more@example.com"
	e.newUser(email)
	b := e.newBrowser()
	conf := e.rpConfig(client, "")
	b.login(conf, email, password)
	v := oauth2.GenerateVerifier()

	// No scope: every scope the client allows (Cognito).
	r := codeRequest{verifier: v, state: "s"}
	code := b.authorize(authParams(client, "s", v, "scope", "")).wantCode(t, "s")
	tok := e.exchange(conf, r, code)
	if got, want := scopeSet(e.verifyAccess(tok.AccessToken).Scope), scopeSet(strings.Join(allScopes, " ")); got != want {
		t.Errorf("no scope asked: granted %q, want the client's %q", got, want)
	}
	// response_type=code on an implicit-only client.
	q := b.authorize(authParams(implicitOnly, "s", v)).wantCallback(t, rpCallback).Query()
	if q.Get("error") != "unauthorized_client" || q.Has("code") {
		t.Errorf("code on an implicit-only client: %v", q)
	}
	// An identity provider the client does not have: no code, no 5xx.
	l := b.authorize(authParams(client, "s", v, "identity_provider", "Google"))
	if l.callback != nil && l.callback.Query().Has("code") {
		t.Errorf("identity_provider=Google gave a Cognito code: %s", l.callback)
	}
	// The email is case-insensitive on the login page.
	b2 := e.newBrowser()
	r2 := newCodeRequest(conf)
	b2.signIn(b2.get(r2.url).wantPage(t, "/login"), strings.ToUpper(email), password).wantCode(t, r2.state)
	// Without PKCE (optional in Cognito), the code flow works and the
	// exchange needs no verifier.
	q3 := authParams(client, "s3", v, "code_challenge", "", "code_challenge_method", "")
	code3 := b.authorize(q3).wantCode(t, "s3")
	res := e.token(url.Values{"grant_type": {"authorization_code"}, "client_id": {client}, "code": {code3}, "redirect_uri": {rpCallback}}, "", "")
	if res.status != 200 {
		t.Errorf("exchange of a code without PKCE: %s", res)
	}
}
