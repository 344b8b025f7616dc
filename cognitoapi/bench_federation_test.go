package cognitoapi_test

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cognate-auth/cognate/server"
	"github.com/cognate-auth/cognate/userpool"
)

// BenchmarkFederatedVsSRPSignIn runs an SRP sign-in and a federated
// (OIDC) sign-in in the same run, so their server CPU can be compared
// (the ratio in docs/PERFORMANCE.md):
//
//	go test ./cognitoapi -run '^$' -bench FederatedVsSRP -benchtime 100x -count 3
//
// The federated sign-in is what a browser and an app do: GET
// /oauth2/authorize?identity_provider=… (the state sealed into a cookie,
// the redirect to the provider), GET /oauth2/idpresponse (the state
// checked and claimed, the provider's code redeemed over HTTP, its id
// token verified, the user found and mapped, a pool session and a code),
// then the app's POST /oauth2/token (two RS256 signatures). The provider
// runs in the same process; its id token is signed with the timer
// stopped, so what it adds is only answering the token request.
func BenchmarkFederatedVsSRPSignIn(b *testing.B) {
	b.Run("srp", BenchmarkSRPSignIn)
	b.Run("federated", benchmarkFederatedSignIn)
}

// benchIdP is an OIDC provider whose id token the benchmark prepares.
type benchIdP struct {
	srv   *httptest.Server
	key   *rsa.PrivateKey
	token atomic.Value // []byte: the next token answer
}

func newBenchIdP(b *testing.B) *benchIdP {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		b.Fatal(err)
	}
	p := &benchIdP{key: key}
	mux := http.NewServeMux()
	p.srv = httptest.NewServer(mux)
	b.Cleanup(p.srv.Close)
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{
			"issuer": p.srv.URL, "authorization_endpoint": p.srv.URL + "/authorize", "token_endpoint": p.srv.URL + "/token",
			"jwks_uri": p.srv.URL + "/jwks", "id_token_signing_alg_values_supported": []string{"RS256"},
		})
	})
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{"keys": []any{map[string]string{
			"kty": "RSA", "kid": "k", "alg": "RS256", "use": "sig",
			"n": base64.RawURLEncoding.EncodeToString(key.N.Bytes()), "e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(key.E)).Bytes()),
		}}})
	})
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(p.token.Load().([]byte))
	})
	return p
}

// prepare signs the id token the next token request gets.
func (p *benchIdP) prepare(b *testing.B, sub, nonce string) {
	h, _ := json.Marshal(map[string]string{"alg": "RS256", "kid": "k"})
	now := time.Now()
	c, _ := json.Marshal(map[string]any{
		"iss": p.srv.URL, "aud": "bench-client", "sub": sub, "nonce": nonce, "email": sub + "@example.com", "email_verified": true,
		"iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(),
	})
	input := base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(c)
	sum := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPKCS1v15(rand.Reader, p.key, crypto.SHA256, sum[:])
	if err != nil {
		b.Fatal(err)
	}
	body, _ := json.Marshal(map[string]any{"access_token": "at", "token_type": "Bearer", "expires_in": 300, "id_token": input + "." + base64.RawURLEncoding.EncodeToString(sig)})
	p.token.Store(body)
}

func benchmarkFederatedSignIn(b *testing.B) {
	ctx := context.Background()
	const base, callback = "http://127.0.0.1:9229", "https://app.example/cb"
	srv, err := server.New(ctx, server.Config{DataDir: b.TempDir(), PublicURL: base, Out: io.Discard})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { srv.Close() })
	svc, h, idp := srv.Service(), srv.Handler(), newBenchIdP(b)
	p, err := svc.CreateUserPool(ctx, userpool.CreateUserPoolInput{PoolName: "bench-federation"})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := svc.CreateIdentityProvider(ctx, userpool.CreateIdentityProviderInput{
		UserPoolId: p.UserPool.Id, ProviderName: "Bench", ProviderType: "OIDC",
		ProviderDetails: map[string]string{
			"client_id": "bench-client", "client_secret": "s", "attributes_request_method": "GET",
			"oidc_issuer": idp.srv.URL, "authorize_scopes": "openid email",
		},
		AttributeMapping: map[string]string{"email": "email", "email_verified": "email_verified"},
	}); err != nil {
		b.Fatal(err)
	}
	c, err := svc.CreateUserPoolClient(ctx, userpool.CreateUserPoolClientInput{ClientSettingsInput: userpool.ClientSettingsInput{
		UserPoolId: p.UserPool.Id, ClientName: "bench-federation", ExplicitAuthFlows: []string{"ALLOW_REFRESH_TOKEN_AUTH"},
		AllowedOAuthFlowsUserPoolClient: true, AllowedOAuthFlows: []string{"code"}, AllowedOAuthScopes: []string{"openid", "email"},
		CallbackURLs: []string{callback}, SupportedIdentityProviders: []string{"Bench"},
	}})
	if err != nil {
		b.Fatal(err)
	}
	client := c.UserPoolClient.ClientId
	const verifier = "bench-verifier-0123456789-0123456789-0123456789"
	sum := sha256.Sum256([]byte(verifier))
	authorize := base + "/oauth2/authorize?" + url.Values{
		"response_type": {"code"}, "client_id": {client}, "redirect_uri": {callback}, "scope": {"openid email"},
		"identity_provider": {"Bench"}, "state": {"app-state"},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"},
	}.Encode()
	serve := func(req *http.Request) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	var cpu time.Duration
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		sub := fmt.Sprintf("user-%02d", i%benchUsers)
		i++
		b.StartTimer()

		c0 := cpuTime()
		start := serve(httptest.NewRequest(http.MethodGet, authorize, nil))
		cpu += cpuTime() - c0

		b.StopTimer()
		to, err := url.Parse(start.Header().Get("Location"))
		if err != nil || start.Code != http.StatusFound || !strings.HasPrefix(to.String(), idp.srv.URL) {
			b.Fatalf("authorize: %d %q", start.Code, start.Header().Get("Location"))
		}
		idp.prepare(b, sub, to.Query().Get("nonce"))
		back := httptest.NewRequest(http.MethodGet, base+"/oauth2/idpresponse?code=c&state="+url.QueryEscape(to.Query().Get("state")), nil)
		for _, ck := range start.Result().Cookies() {
			back.AddCookie(ck)
		}
		b.StartTimer()

		c0 = cpuTime()
		done := serve(back)
		cpu += cpuTime() - c0

		b.StopTimer()
		app, err := url.Parse(done.Header().Get("Location"))
		if err != nil || !strings.HasPrefix(app.String(), callback) || app.Query().Get("code") == "" {
			b.Fatalf("idpresponse: %d %q %s", done.Code, done.Header().Get("Location"), done.Body)
		}
		form := url.Values{"grant_type": {"authorization_code"}, "client_id": {client}, "code": {app.Query().Get("code")},
			"redirect_uri": {callback}, "code_verifier": {verifier}}
		tokReq := httptest.NewRequest(http.MethodPost, base+"/oauth2/token", strings.NewReader(form.Encode()))
		tokReq.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		b.StartTimer()

		c0 = cpuTime()
		tok := serve(tokReq)
		cpu += cpuTime() - c0

		if tok.Code != http.StatusOK || !strings.Contains(tok.Body.String(), `"id_token"`) {
			b.Fatalf("token: %d %s", tok.Code, tok.Body)
		}
	}
	reportCPU(b, cpu)
}
