package integration_test

// Federation tests: the pool under test (an oauthEnv, over HTTPS) signs
// users in through an OpenID Connect upstream that is a second Cognate
// server (its pool's hosted UI, a confidential app client there), or,
// for the attacks that need a provider misbehaving on purpose, through a
// hostile provider the test runs (evilIdP) that signs whatever id token
// the case asks for.

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"golang.org/x/oauth2"

	"github.com/cognate-auth/cognate/userpool"
)

// upstream is the second Cognate: its pool is the identity provider.
type upstream struct {
	*env
	clientID, secret string
	issuer           string
}

// newUpstream starts the upstream server with a confidential client whose
// callback is the pool under test's /oauth2/idpresponse.
func newUpstream(t *testing.T, down *oauthEnv) *upstream {
	t.Helper()
	up := &upstream{env: newEnv(t)}
	out, err := up.srv.Service().CreateUserPoolClient(up.ctx, userpool.CreateUserPoolClientInput{
		ClientSettingsInput: userpool.ClientSettingsInput{
			UserPoolId: up.pool, ClientName: "downstream",
			AllowedOAuthFlowsUserPoolClient: true, AllowedOAuthFlows: []string{"code"},
			AllowedOAuthScopes: []string{"openid", "email", "profile"},
			CallbackURLs:       []string{down.origin + "/oauth2/idpresponse"},
			ExplicitAuthFlows:  []string{"ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"},
		},
		GenerateSecret: true,
	})
	if err != nil {
		t.Fatalf("upstream client: %v", err)
	}
	up.clientID, up.secret = out.UserPoolClient.ClientId, out.UserPoolClient.ClientSecret
	up.issuer = up.url + "/" + up.pool
	return up
}

// addProvider configures the upstream in the pool under test as an OIDC
// provider, through the SDK.
func (u *upstream) addProvider(t *testing.T, down *oauthEnv, name string, ids ...string) {
	t.Helper()
	must(down.api.CreateIdentityProvider(down.ctx, &cip.CreateIdentityProviderInput{
		UserPoolId: aws.String(down.pool), ProviderName: aws.String(name), ProviderType: types.IdentityProviderTypeTypeOidc,
		ProviderDetails: map[string]string{
			"client_id": u.clientID, "client_secret": u.secret, "attributes_request_method": "GET",
			"oidc_issuer": u.issuer, "authorize_scopes": "openid email profile",
		},
		AttributeMapping: map[string]string{"email": "email", "email_verified": "email_verified", "name": "name"},
		IdpIdentifiers:   ids,
	}))(t)
}

// fedClient creates an app client of the pool under test that offers the
// providers, and returns its relying-party configuration.
func (e *oauthEnv) fedClient(t *testing.T, providers ...string) *oauth2.Config {
	t.Helper()
	out := must(e.api.CreateUserPoolClient(e.ctx, &cip.CreateUserPoolClientInput{
		UserPoolId: aws.String(e.pool), ClientName: aws.String("fed-rp"),
		AllowedOAuthFlowsUserPoolClient: true, AllowedOAuthFlows: []types.OAuthFlowType{types.OAuthFlowTypeCode},
		AllowedOAuthScopes: allScopes, CallbackURLs: []string{rpCallback}, LogoutURLs: []string{rpSignOut},
		SupportedIdentityProviders: append([]string{"COGNITO"}, providers...),
		ExplicitAuthFlows:          []types.ExplicitAuthFlowsType{types.ExplicitAuthFlowsTypeAllowRefreshTokenAuth, types.ExplicitAuthFlowsTypeAllowUserSrpAuth},
	}))(t)
	return e.rpConfig(aws.ToString(out.UserPoolClient.ClientId), "")
}

// fedBrowser is a browser that follows redirects across both servers and
// stops at the relying party.
func (e *oauthEnv) fedBrowser() *browser {
	b := e.newBrowser()
	jar, _ := cookiejar.New(nil)
	b.c.Jar = jar
	b.c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if req.URL.Host == rpHost || len(via) >= 15 {
			return http.ErrUseLastResponse
		}
		return nil
	}
	return b
}

// step makes one request without following redirects, with the
// browser's cookies, and returns the Location it was sent to.
func (b *browser) step(t *testing.T, u string) *url.URL {
	t.Helper()
	c := *b.c
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := c.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	resp.Body.Close()
	loc, err := resp.Request.URL.Parse(resp.Header.Get("Location"))
	if err != nil || resp.StatusCode != http.StatusFound {
		t.Fatalf("GET %s: %d, Location %q", u, resp.StatusCode, resp.Header.Get("Location"))
	}
	return loc
}

// fedSignIn runs a full federated sign-in through the upstream's login
// page and returns the request and the code the relying party got.
func (b *browser) fedSignIn(t *testing.T, conf *oauth2.Config, up *upstream, provider, user string) (codeRequest, string) {
	t.Helper()
	r := newCodeRequest(conf, oauth2.SetAuthURLParam("identity_provider", provider))
	page := b.get(r.url)
	if page.url.Host != strings.TrimPrefix(up.url, "http://") || page.url.Path != "/login" {
		t.Fatalf("want the upstream's login page, got %s", page)
	}
	done := b.submit(page.form(t, "signin"), map[string]string{"username": user, "password": password}, up.url)
	return r, done.wantCode(t, r.state)
}

// refused asserts a federated callback ended on an error page of the pool
// under test with the given status.
func refused(t *testing.T, l landing, status int) {
	t.Helper()
	if l.callback != nil || l.status != status || !strings.Contains(l.body, `class="mark alert"`) {
		t.Fatalf("want a %d error page, got %s", status, l)
	}
}

// evilIdP is an OpenID Connect provider that answers the token request
// with the id token the test sets: what the pool must refuse.
type evilIdP struct {
	srv   *httptest.Server
	key   *rsa.PrivateKey
	other *rsa.PrivateKey // signs "bad signature" tokens
	mu    sync.Mutex
	token func(nonce string) string
	nonce string // the nonce of the last authorization request seen
}

func newEvilIdP(t *testing.T) *evilIdP {
	t.Helper()
	k1, _ := rsa.GenerateKey(rand.Reader, 2048)
	k2, _ := rsa.GenerateKey(rand.Reader, 2048)
	e := &evilIdP{key: k1, other: k2}
	mux := http.NewServeMux()
	e.srv = httptest.NewServer(mux)
	t.Cleanup(e.srv.Close)
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{
			"issuer": e.srv.URL, "authorization_endpoint": e.srv.URL + "/authorize", "token_endpoint": e.srv.URL + "/token",
			"jwks_uri": e.srv.URL + "/jwks", "id_token_signing_alg_values_supported": []string{"RS256"},
			"response_types_supported": []string{"code"}, "subject_types_supported": []string{"public"},
		})
	})
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, r *http.Request) {
		n := base64.RawURLEncoding.EncodeToString(e.key.N.Bytes())
		ex := base64.RawURLEncoding.EncodeToString(big.NewInt(int64(e.key.E)).Bytes())
		_ = json.NewEncoder(w).Encode(map[string]any{"keys": []any{map[string]string{"kty": "RSA", "kid": "k1", "alg": "RS256", "use": "sig", "n": n, "e": ex}}})
	})
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		e.mu.Lock()
		tok := e.token(e.nonce)
		e.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"access_token": "at", "token_type": "Bearer", "expires_in": 300, "id_token": tok})
	})
	return e
}

// sign makes an RS256 JWT of claims with key.
func sign(t *testing.T, key *rsa.PrivateKey, claims map[string]any) string {
	t.Helper()
	h, _ := json.Marshal(map[string]string{"alg": "RS256", "kid": "k1", "typ": "JWT"})
	c, _ := json.Marshal(claims)
	input := base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(c)
	sum := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// claimsFor are a well-formed id token's claims for the provider.
func (e *evilIdP) claimsFor(clientID, sub, nonce string) map[string]any {
	now := time.Now()
	return map[string]any{
		"iss": e.srv.URL, "aud": clientID, "sub": sub, "nonce": nonce, "email": sub + "@evil.example",
		"email_verified": false, "iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(),
	}
}
