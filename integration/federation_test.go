package integration_test

import (
	"html"
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
)

// identitiesOf reads the identities claim of id-token claims.
func identitiesOf(t *testing.T, c map[string]any) []map[string]any {
	t.Helper()
	list, ok := c["identities"].([]any)
	if !ok {
		t.Fatalf("identities claim is %T (%v)", c["identities"], c["identities"])
	}
	var out []map[string]any
	for _, x := range list {
		m, _ := x.(map[string]any)
		out = append(out, m)
	}
	return out
}

func groupsOf(c map[string]any) []string {
	var out []string
	list, _ := c["cognito:groups"].([]any)
	for _, g := range list {
		s, _ := g.(string)
		out = append(out, s)
	}
	return out
}

func TestFederatedSignInThroughCognateUpstream(t *testing.T) {
	down := newOAuthEnv(t)
	up := newUpstream(t, down)
	up.addProvider(t, down, "Upstream", "corp.example")
	conf := down.fedClient(t, "Upstream")
	upSub := up.signUp(up.pub, "fed@example.com", attrT("name", "Fed User"))
	before := down.countUsers(down.pool)

	b := down.fedBrowser()
	r, code := b.fedSignIn(t, conf, up, "Upstream", "fed@example.com")
	tok := down.exchange(conf, r, code)
	down.verifyID(conf.ClientID, idToken(tok), tok.AccessToken, r.nonce)
	c := claims(t, idToken(tok))
	wantName := "Upstream_" + upSub
	if c["cognito:username"] != wantName || c["email"] != "fed@example.com" || c["name"] != "Fed User" || c["email_verified"] != true {
		t.Fatalf("id token claims %v", c)
	}
	ids := identitiesOf(t, c)
	if len(ids) != 1 || ids[0]["userId"] != upSub || ids[0]["providerName"] != "Upstream" || ids[0]["providerType"] != "OIDC" ||
		ids[0]["issuer"] != up.issuer || ids[0]["primary"] != "true" || ids[0]["dateCreated"] == "" {
		t.Fatalf("identities %v", ids)
	}
	if g := groupsOf(c); !slices.Contains(g, down.pool+"_Upstream") {
		t.Fatalf("cognito:groups %v", g)
	}
	if a := down.verifyAccess(tok.AccessToken); a.Username != wantName {
		t.Fatalf("access token username %q", a.Username)
	}
	u := must(down.api.AdminGetUser(down.ctx, &cip.AdminGetUserInput{UserPoolId: aws.String(down.pool), Username: aws.String(wantName)}))(t)
	if u.UserStatus != types.UserStatusTypeExternalProvider {
		t.Fatalf("federated user status %s", u.UserStatus)
	}
	if n := down.countUsers(down.pool); n != before+1 {
		t.Fatalf("%d users after the first sign-in, want %d", n, before+1)
	}

	t.Run("refresh", func(t *testing.T) {
		res := down.refreshRaw(conf.ClientID, tok.RefreshToken)
		if res.status != http.StatusOK || claims(t, res.str("id_token"))["cognito:username"] != wantName {
			t.Fatalf("refresh: %s", res)
		}
	})

	t.Run("mapping applied at every sign-in", func(t *testing.T) {
		must(down.api.UpdateIdentityProvider(down.ctx, &cip.UpdateIdentityProviderInput{
			UserPoolId: aws.String(down.pool), ProviderName: aws.String("Upstream"),
			AttributeMapping: map[string]string{"email": "email", "email_verified": "email_verified", "name": "name", "nickname": "email"},
		}))(t)
		b := down.fedBrowser()
		r, code := b.fedSignIn(t, conf, up, "Upstream", "fed@example.com")
		c := claims(t, idToken(down.exchange(conf, r, code)))
		if c["cognito:username"] != wantName || c["nickname"] != "fed@example.com" {
			t.Fatalf("second sign-in claims %v", c)
		}
		if n := down.countUsers(down.pool); n != before+1 {
			t.Fatalf("%d users after the second sign-in, want %d", n, before+1)
		}
	})

	t.Run("login page button", func(t *testing.T) {
		b := down.fedBrowser()
		r := newCodeRequest(conf)
		page := b.get(r.url).wantPage(t, "/login")
		m := regexpLink.FindStringSubmatch(page.body)
		if m == nil {
			t.Fatalf("no provider button on %s", page)
		}
		target, _ := page.url.Parse(html.UnescapeString(m[1]))
		if target.Query().Get("identity_provider") != "Upstream" || !strings.Contains(m[2], "Upstream") {
			t.Fatalf("provider button %q → %s", m[2], target)
		}
		login := b.get(target.String())
		if login.url.Host != strings.TrimPrefix(up.url, "http://") || login.url.Path != "/login" {
			t.Fatalf("the button leads to %s", login)
		}
		done := b.submit(login.form(t, "signin"), map[string]string{"username": "fed@example.com", "password": password}, up.url)
		done.wantCode(t, r.state)
	})

	t.Run("email domain routing", func(t *testing.T) {
		b := down.fedBrowser()
		r := newCodeRequest(conf)
		page := b.get(r.url).wantPage(t, "/login")
		login := b.submit(page.form(t, "corporate-signin"), map[string]string{"idp_identifier": "someone@corp.example"}, "")
		if login.url.Host != strings.TrimPrefix(up.url, "http://") || login.url.Path != "/login" {
			t.Fatalf("corporate sign-in leads to %s", login)
		}
		direct := down.fedBrowser().get(r.url + "&idp_identifier=CORP.example")
		if direct.url.Path != "/login" || direct.url.Host != strings.TrimPrefix(up.url, "http://") {
			t.Fatalf("idp_identifier leads to %s", direct)
		}
		unknown := down.fedBrowser().get(newCodeRequest(conf).url + "&idp_identifier=nobody.example")
		if unknown.callback == nil || unknown.callback.Query().Get("error") != "invalid_request" {
			t.Fatalf("unknown identifier: %s", unknown)
		}
	})
}

var regexpLink = regexp.MustCompile(`<a class="provider[^"]*" href="([^"]+)">([^<]+)</a>`)

func TestFederationLinking(t *testing.T) {
	down := newOAuthEnv(t)
	up := newUpstream(t, down)
	up.addProvider(t, down, "Upstream")
	conf := down.fedClient(t, "Upstream")
	upSub := up.signUp(up.pub, "linked@example.com")
	localSub := down.newUser("ada@example.com")
	local := must(down.api.AdminGetUser(down.ctx, &cip.AdminGetUserInput{UserPoolId: aws.String(down.pool), Username: aws.String("ada@example.com")}))(t)
	localName := aws.ToString(local.Username)

	src := &types.ProviderUserIdentifierType{ProviderName: aws.String("Upstream"), ProviderAttributeName: aws.String("Cognito_Subject"), ProviderAttributeValue: aws.String(upSub)}
	dst := &types.ProviderUserIdentifierType{ProviderName: aws.String("Cognito"), ProviderAttributeValue: aws.String(localName)}
	link := func(d, s *types.ProviderUserIdentifierType) error {
		_, err := down.api.AdminLinkProviderForUser(down.ctx, &cip.AdminLinkProviderForUserInput{UserPoolId: aws.String(down.pool), DestinationUser: d, SourceUser: s})
		return err
	}
	wantErr(t, link(&types.ProviderUserIdentifierType{ProviderName: aws.String("Cognito"), ProviderAttributeValue: aws.String("nobody")}, src), "UserNotFoundException")
	wantErr(t, link(dst, &types.ProviderUserIdentifierType{ProviderName: aws.String("Upstream"), ProviderAttributeName: aws.String("email"), ProviderAttributeValue: aws.String(upSub)}), "InvalidParameterException")
	wantErr(t, link(dst, &types.ProviderUserIdentifierType{ProviderName: aws.String("Nope"), ProviderAttributeName: aws.String("Cognito_Subject"), ProviderAttributeValue: aws.String(upSub)}), "ResourceNotFoundException")
	must(struct{}{}, link(dst, src))(t)
	wantErr(t, link(dst, src), "InvalidParameterException")

	before := down.countUsers(down.pool)
	r, code := down.fedBrowser().fedSignIn(t, conf, up, "Upstream", "linked@example.com")
	c := claims(t, idToken(down.exchange(conf, r, code)))
	if c["cognito:username"] != localName || c["sub"] != localSub || c["email"] != "ada@example.com" {
		t.Fatalf("linked sign-in claims %v", c)
	}
	if ids := identitiesOf(t, c); len(ids) != 1 || ids[0]["userId"] != upSub || ids[0]["providerName"] != "Upstream" {
		t.Fatalf("identities %v", ids)
	}
	if n := down.countUsers(down.pool); n != before {
		t.Fatalf("linked sign-in created a user: %d users, want %d", n, before)
	}
	// The local user still signs in with the password.
	must(down.passwordAuth(down.pub, "ada@example.com", password))(t)

	// Unlinked, the identity becomes a federated user of its own.
	must(down.api.AdminDisableProviderForUser(down.ctx, &cip.AdminDisableProviderForUserInput{UserPoolId: aws.String(down.pool), User: src}))(t)
	_, err := down.api.AdminDisableProviderForUser(down.ctx, &cip.AdminDisableProviderForUserInput{UserPoolId: aws.String(down.pool), User: src})
	wantErr(t, err, "UserNotFoundException")
	r, code = down.fedBrowser().fedSignIn(t, conf, up, "Upstream", "linked@example.com")
	if c := claims(t, idToken(down.exchange(conf, r, code))); c["cognito:username"] != "Upstream_"+upSub {
		t.Fatalf("after unlinking, claims %v", c)
	}
	got := must(down.api.AdminGetUser(down.ctx, &cip.AdminGetUserInput{UserPoolId: aws.String(down.pool), Username: aws.String(localName)}))(t)
	for _, a := range got.UserAttributes {
		if aws.ToString(a.Name) == "identities" {
			t.Fatalf("unlinked user keeps identities %s", aws.ToString(a.Value))
		}
	}
}

func TestFederationAttacks(t *testing.T) {
	down := newOAuthEnv(t)
	up := newUpstream(t, down)
	up.addProvider(t, down, "Upstream")
	evil := newEvilIdP(t)
	must(down.api.CreateIdentityProvider(down.ctx, &cip.CreateIdentityProviderInput{
		UserPoolId: aws.String(down.pool), ProviderName: aws.String("Evil"), ProviderType: types.IdentityProviderTypeTypeOidc,
		ProviderDetails: map[string]string{
			"client_id": "evil-client", "client_secret": "s3cret", "attributes_request_method": "GET",
			"oidc_issuer": evil.srv.URL, "authorize_scopes": "openid email",
		},
		AttributeMapping: map[string]string{"email": "email", "email_verified": "email_verified"},
	}))(t)
	conf := down.fedClient(t, "Upstream", "Evil")
	up.signUp(up.pub, "victim@example.com")
	down.newUser("owner@example.com")
	callback := down.origin + "/oauth2/idpresponse"

	// start begins a federated sign-in and returns the browser and the
	// state and nonce it sent the provider.
	start := func(t *testing.T, provider string) (*browser, string, string) {
		b := down.fedBrowser()
		loc := b.step(t, newCodeRequest(conf, oauth2.SetAuthURLParam("identity_provider", provider)).url)
		q := loc.Query()
		if q.Get("state") == "" || q.Get("nonce") == "" || q.Get("code_challenge") == "" || q.Get("code_challenge_method") != "S256" {
			t.Fatalf("authorization request to the provider: %s", loc)
		}
		return b, q.Get("state"), q.Get("nonce")
	}

	t.Run("upstream error", func(t *testing.T) {
		b, state, _ := start(t, "Upstream")
		refused(t, b.get(callback+"?error=access_denied&state="+url.QueryEscape(state)), http.StatusForbidden)
	})
	t.Run("no state", func(t *testing.T) {
		b, _, _ := start(t, "Upstream")
		refused(t, b.get(callback+"?code=abc"), http.StatusBadRequest)
	})
	t.Run("state of another browser", func(t *testing.T) {
		_, state, _ := start(t, "Upstream")
		refused(t, down.fedBrowser().get(callback+"?code=abc&state="+url.QueryEscape(state)), http.StatusBadRequest)
	})
	t.Run("forged state", func(t *testing.T) {
		b, _, _ := start(t, "Upstream")
		refused(t, b.get(callback+"?code=abc&state="+randomToken()), http.StatusBadRequest)
	})
	t.Run("replayed callback", func(t *testing.T) {
		b, _, _ := start(t, "Upstream")
		b.c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
			if req.URL.Path == "/oauth2/idpresponse" || req.URL.Host == rpHost {
				return http.ErrUseLastResponse
			}
			return nil
		}
		// Restart with this browser's own cookie for the flow.
		r := newCodeRequest(conf, oauth2.SetAuthURLParam("identity_provider", "Upstream"))
		page := b.get(r.url)
		back := b.submit(page.form(t, "signin"), map[string]string{"username": "victim@example.com", "password": password}, up.url)
		if back.callback == nil || back.callback.Path != "/oauth2/idpresponse" {
			t.Fatalf("want the provider's redirect back, got %s", back)
		}
		origin, _ := url.Parse(down.origin)
		saved := b.c.Jar.Cookies(origin)
		b.get(back.callback.String()).wantCode(t, r.state)
		b.c.Jar.SetCookies(origin, saved)
		refused(t, b.get(back.callback.String()), http.StatusBadRequest)
	})

	evilCases := []struct {
		name   string
		token  func(t *testing.T, nonce string) string
		status int
	}{
		{"wrong audience", func(t *testing.T, n string) string {
			c := evil.claimsFor("someone-else", "e1", n)
			return sign(t, evil.key, c)
		}, http.StatusBadRequest},
		{"wrong issuer", func(t *testing.T, n string) string {
			c := evil.claimsFor("evil-client", "e2", n)
			c["iss"] = "https://accounts.example.com"
			return sign(t, evil.key, c)
		}, http.StatusBadRequest},
		{"wrong nonce", func(t *testing.T, n string) string {
			return sign(t, evil.key, evil.claimsFor("evil-client", "e3", "not-"+n))
		}, http.StatusBadRequest},
		{"bad signature", func(t *testing.T, n string) string {
			return sign(t, evil.other, evil.claimsFor("evil-client", "e4", n))
		}, http.StatusBadRequest},
		{"expired", func(t *testing.T, n string) string {
			c := evil.claimsFor("evil-client", "e5", n)
			c["exp"] = time.Now().Add(-time.Hour).Unix()
			return sign(t, evil.key, c)
		}, http.StatusBadRequest},
	}
	before := down.countUsers(down.pool)
	for _, tc := range evilCases {
		t.Run(tc.name, func(t *testing.T) {
			b, state, nonce := start(t, "Evil")
			evil.mu.Lock()
			evil.token = func(string) string { return tc.token(t, nonce) }
			evil.mu.Unlock()
			refused(t, b.get(callback+"?code=abc&state="+url.QueryEscape(state)), tc.status)
		})
	}
	if n := down.countUsers(down.pool); n != before {
		t.Fatalf("refused sign-ins left %d users, want %d", n, before)
	}

	t.Run("unverified email never links", func(t *testing.T) {
		b, state, nonce := start(t, "Evil")
		evil.mu.Lock()
		evil.token = func(string) string {
			c := evil.claimsFor("evil-client", "e6", nonce)
			c["email"] = "owner@example.com"
			return sign(t, evil.key, c)
		}
		evil.mu.Unlock()
		l := b.get(callback + "?code=abc&state=" + url.QueryEscape(state))
		code := l.wantCode(t, "")
		res := down.token(url.Values{"grant_type": {"authorization_code"}, "client_id": {conf.ClientID}, "code": {code}, "redirect_uri": {rpCallback}}, "", "")
		if res.status != http.StatusBadRequest {
			// The code was issued for a PKCE request: the exchange needs
			// the verifier, which this hand-made request lacks.
			t.Fatalf("exchange without verifier: %s", res)
		}
		u := must(down.api.AdminGetUser(down.ctx, &cip.AdminGetUserInput{UserPoolId: aws.String(down.pool), Username: aws.String("Evil_e6")}))(t)
		for _, a := range u.UserAttributes {
			if aws.ToString(a.Name) == "email_verified" && aws.ToString(a.Value) != "false" {
				t.Fatalf("unverified email marked verified")
			}
		}
		owner := must(down.api.AdminGetUser(down.ctx, &cip.AdminGetUserInput{UserPoolId: aws.String(down.pool), Username: aws.String("owner@example.com")}))(t)
		for _, a := range owner.UserAttributes {
			if aws.ToString(a.Name) == "identities" {
				t.Fatalf("the owner of the email got linked: %s", aws.ToString(a.Value))
			}
		}
	})
}
