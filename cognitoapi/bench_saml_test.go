package cognitoapi_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"fmt"
	"html"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/crewjam/saml"
	"github.com/crewjam/saml/samlidp"

	"github.com/cognate-auth/cognate/server"
	"github.com/cognate-auth/cognate/userpool"
)

// BenchmarkSAMLVsSRPSignIn runs an SRP sign-in and a SAML sign-in in the
// same run, so their server CPU can be compared (the ratio in
// docs/PERFORMANCE.md):
//
//	go test ./cognitoapi -run '^$' -bench SAMLVsSRP -benchtime 100x -count 3
//
// The SAML sign-in is what a browser and an app do: GET /oauth2/authorize
// with identity_provider (the state sealed into a cookie, an AuthnRequest
// in the redirect to the IdP), the IdP's form posting the signed response
// to /saml2/idpresponse (signature and conditions checked, the request
// claimed, the user found and mapped, a pool session and a code), then the
// app's POST /oauth2/token. The IdP (crewjam/saml's samlidp) runs in the
// same process, with the timer stopped: its signing is not counted.
func BenchmarkSAMLVsSRPSignIn(b *testing.B) {
	b.Run("srp", BenchmarkSRPSignIn)
	b.Run("saml", benchmarkSAMLSignIn)
}

// benchSession is the IdP's session: the user the next response names,
// with no login form.
type benchSession struct{ nameID string }

func (s *benchSession) GetSession(http.ResponseWriter, *http.Request, *saml.IdpAuthnRequest) *saml.Session {
	return &saml.Session{
		ID: "bench", CreateTime: time.Now(), ExpireTime: time.Now().Add(time.Hour), Index: "1",
		NameID: s.nameID, NameIDFormat: string(saml.EmailAddressNameIDFormat), UserEmail: s.nameID,
	}
}

// newBenchSAMLIdP starts a samlidp on loopback whose sessions come from sess.
func newBenchSAMLIdP(b *testing.B, sess *benchSession) (*samlidp.Server, string) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		b.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "bench IdP"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour), KeyUsage: x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		b.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		b.Fatal(err)
	}
	ts := httptest.NewUnstartedServer(nil)
	base, _ := url.Parse("http://" + ts.Listener.Addr().String())
	idp, err := samlidp.New(samlidp.Options{URL: *base, Key: key, Certificate: cert, Store: &samlidp.MemoryStore{}})
	if err != nil {
		b.Fatal(err)
	}
	idp.IDP.SessionProvider = sess
	ts.Config.Handler = idp
	ts.Start()
	b.Cleanup(ts.Close)
	return idp, ts.URL
}

// formValue is a hidden input's value in the IdP's auto-posting form.
func formValue(b *testing.B, page, name string) string {
	m := regexp.MustCompile(`name="` + name + `" value="([^"]*)"`).FindStringSubmatch(page)
	if m == nil {
		b.Fatalf("no %s in the IdP's form: %s", name, page)
	}
	return html.UnescapeString(m[1])
}

func benchmarkSAMLSignIn(b *testing.B) {
	ctx := context.Background()
	const base, callback = "http://127.0.0.1:9229", "https://app.example/cb"
	srv, err := server.New(ctx, server.Config{DataDir: b.TempDir(), PublicURL: base, Out: io.Discard})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { srv.Close() })
	svc, h := srv.Service(), srv.Handler()
	sess := &benchSession{}
	idp, idpURL := newBenchSAMLIdP(b, sess)
	p, err := svc.CreateUserPool(ctx, userpool.CreateUserPoolInput{PoolName: "bench-saml"})
	if err != nil {
		b.Fatal(err)
	}
	pool := p.UserPool.Id
	if _, err := svc.CreateIdentityProvider(ctx, userpool.CreateIdentityProviderInput{
		UserPoolId: pool, ProviderName: "Bench", ProviderType: "SAML",
		ProviderDetails:  map[string]string{"MetadataURL": idpURL + "/metadata"},
		AttributeMapping: map[string]string{"email": "urn:oid:0.9.2342.19200300.100.1.3"},
	}); err != nil {
		b.Fatal(err)
	}
	c, err := svc.CreateUserPoolClient(ctx, userpool.CreateUserPoolClientInput{ClientSettingsInput: userpool.ClientSettingsInput{
		UserPoolId: pool, ClientName: "bench-saml", ExplicitAuthFlows: []string{"ALLOW_REFRESH_TOKEN_AUTH"},
		AllowedOAuthFlowsUserPoolClient: true, AllowedOAuthFlows: []string{"code"}, AllowedOAuthScopes: []string{"openid", "email"},
		CallbackURLs: []string{callback}, SupportedIdentityProviders: []string{"Bench"},
	}})
	if err != nil {
		b.Fatal(err)
	}
	serve := func(req *http.Request) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	// The pool registers with the IdP through the metadata Cognate serves.
	md := serve(httptest.NewRequest(http.MethodGet, base+"/saml2/metadata?"+url.Values{"user_pool_id": {pool}, "provider_name": {"Bench"}}.Encode(), nil))
	if md.Code != http.StatusOK {
		b.Fatalf("SP metadata: %d %s", md.Code, md.Body)
	}
	put := httptest.NewRecorder()
	idp.ServeHTTP(put, httptest.NewRequest(http.MethodPut, "/services/Bench", strings.NewReader(md.Body.String())))
	if put.Code != http.StatusNoContent {
		b.Fatalf("register the SP: %d %s", put.Code, put.Body)
	}

	client := c.UserPoolClient.ClientId
	const verifier = "bench-verifier-0123456789-0123456789-0123456789"
	sum := sha256.Sum256([]byte(verifier))
	authorize := base + "/oauth2/authorize?" + url.Values{
		"response_type": {"code"}, "client_id": {client}, "redirect_uri": {callback}, "scope": {"openid email"},
		"identity_provider": {"Bench"}, "state": {"app-state"},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"},
	}.Encode()
	var cpu time.Duration
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		sess.nameID = fmt.Sprintf("user-%02d@example.com", i%benchUsers)
		i++
		b.StartTimer()

		c0 := cpuTime()
		start := serve(httptest.NewRequest(http.MethodGet, authorize, nil))
		cpu += cpuTime() - c0

		b.StopTimer()
		to := start.Header().Get("Location")
		if start.Code != http.StatusFound || !strings.HasPrefix(to, idpURL) {
			b.Fatalf("authorize: %d %q", start.Code, to)
		}
		sso := httptest.NewRecorder()
		idp.IDP.ServeSSO(sso, httptest.NewRequest(http.MethodGet, to, nil))
		form := url.Values{"SAMLResponse": {formValue(b, sso.Body.String(), "SAMLResponse")}, "RelayState": {formValue(b, sso.Body.String(), "RelayState")}}
		back := httptest.NewRequest(http.MethodPost, base+"/saml2/idpresponse", strings.NewReader(form.Encode()))
		back.Header.Set("Content-Type", "application/x-www-form-urlencoded")
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
		tok := url.Values{"grant_type": {"authorization_code"}, "client_id": {client}, "code": {app.Query().Get("code")},
			"redirect_uri": {callback}, "code_verifier": {verifier}}
		tokReq := httptest.NewRequest(http.MethodPost, base+"/oauth2/token", strings.NewReader(tok.Encode()))
		tokReq.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		b.StartTimer()

		c0 = cpuTime()
		res := serve(tokReq)
		cpu += cpuTime() - c0

		if res.Code != http.StatusOK || !strings.Contains(res.Body.String(), `"id_token"`) {
			b.Fatalf("token: %d %s", res.Code, res.Body)
		}
	}
	reportCPU(b, cpu)
}
