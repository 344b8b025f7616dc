package integration_test

// SAML federation end to end: the pool under test (an oauthEnv, over
// HTTPS) signs users in through a real SAML 2.0 IdP, crewjam/saml's
// samlidp with its own user store, run by the test on loopback.

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"html/template"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/crewjam/saml/samlidp"
	"golang.org/x/oauth2"
)

// samlIdP is the test's SAML identity provider.
type samlIdP struct {
	url string
}

const (
	samlUser     = "alice"
	samlPassword = "correct horse battery staple"
	samlEmail    = "alice@corp.example"
	samlMail     = "urn:oid:0.9.2342.19200300.100.1.3" // the IdP's mail attribute
)

// samlLoginForm is the IdP's login form with ids on its controls, so the
// test browser can find and submit it as a person would.
var samlLoginForm = template.Must(template.New("login").Parse(`<html><body><p>{{.Toast}}</p>` +
	`<form method="post" action="{{.URL}}">` +
	`<input type="text" name="user" /><input type="password" name="password" />` +
	`<input type="hidden" name="SAMLRequest" value="{{.SAMLRequest}}" />` +
	`<input type="hidden" name="RelayState" value="{{.RelayState}}" />` +
	`<input id="idp-login" type="submit" value="Log In" /></form></body></html>`))

func newSAMLIdP(t *testing.T) *samlIdP {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test IdP"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	ts := httptest.NewUnstartedServer(nil)
	base, _ := url.Parse("http://" + ts.Listener.Addr().String())
	idp, err := samlidp.New(samlidp.Options{URL: *base, Key: key, Certificate: cert, Store: &samlidp.MemoryStore{}, LoginFormTemplate: samlLoginForm})
	if err != nil {
		t.Fatal(err)
	}
	ts.Config.Handler = idp
	ts.Start()
	t.Cleanup(ts.Close)
	s := &samlIdP{url: ts.URL}
	s.put(t, "/users/"+samlUser, "application/json", must(json.Marshal(map[string]any{"name": samlUser, "password": samlPassword, "email": samlEmail}))(t))
	return s
}

func (s *samlIdP) put(t *testing.T, path, contentType string, body []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPut, s.url+path, bytes.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("PUT %s: %d %s", path, resp.StatusCode, b)
	}
}

// service is the SP metadata the IdP holds for a service provider.
func (s *samlIdP) service(t *testing.T, id string) string {
	t.Helper()
	resp, err := http.Get(s.url + "/services/" + id)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// addSAMLProvider configures the IdP in the pool under test through the
// SDK, and registers the pool at the IdP with the metadata Cognate serves.
func (s *samlIdP) addSAMLProvider(t *testing.T, down *oauthEnv, name string, details map[string]string) {
	t.Helper()
	d := map[string]string{"MetadataURL": s.url + "/metadata"}
	for k, v := range details {
		d[k] = v
	}
	must(down.api.CreateIdentityProvider(down.ctx, &cip.CreateIdentityProviderInput{
		UserPoolId: aws.String(down.pool), ProviderName: aws.String(name), ProviderType: types.IdentityProviderTypeTypeSaml,
		ProviderDetails:  d,
		AttributeMapping: map[string]string{"email": samlMail},
	}))(t)
	resp, err := down.rp.Get(down.origin + "/saml2/metadata?" + url.Values{"user_pool_id": {down.pool}, "provider_name": {name}}.Encode())
	if err != nil {
		t.Fatal(err)
	}
	md, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !bytes.Contains(md, []byte("urn:amazon:cognito:sp:"+down.pool)) {
		t.Fatalf("SP metadata: %d %s", resp.StatusCode, md)
	}
	s.put(t, "/services/"+name, "application/samlmetadata+xml", md)
}

// samlSignIn runs an SP-initiated sign-in: the authorization, the IdP's
// login form, the IdP's form posting the response back; it returns the
// landing after the post and the form posted (for replays).
func (b *browser) samlSignIn(t *testing.T, idp *samlIdP, authorizeURL string) (landing, *form) {
	t.Helper()
	login := b.get(authorizeURL)
	if !strings.HasPrefix(login.url.String(), idp.url+"/sso") || login.status != http.StatusOK {
		t.Fatalf("want the IdP's login form, got %s", login)
	}
	post := b.submit(login.form(t, "idp-login"), map[string]string{"user": samlUser, "password": samlPassword}, idp.url)
	f := post.form(t, "SAMLSubmitButton")
	return b.submit(f, nil, idp.url), f
}

func TestFederatedSignInThroughSAML(t *testing.T) {
	down := newOAuthEnv(t)
	idp := newSAMLIdP(t)
	idp.addSAMLProvider(t, down, "Corp", map[string]string{"EncryptedResponses": "true", "IDPSignout": "true"})
	conf := down.fedClient(t, "Corp")
	before := down.countUsers(down.pool)

	desc := must(down.api.DescribeIdentityProvider(down.ctx, &cip.DescribeIdentityProviderInput{UserPoolId: aws.String(down.pool), ProviderName: aws.String("Corp")}))(t)
	if d := desc.IdentityProvider.ProviderDetails; d["SSORedirectBindingURI"] != idp.url+"/sso" || d["ActiveEncryptionCertificate"] == "" {
		t.Fatalf("described details %v", d)
	}

	cert := must(down.api.GetSigningCertificate(down.ctx, &cip.GetSigningCertificateInput{UserPoolId: aws.String(down.pool)}))(t)
	if c := aws.ToString(cert.Certificate); c == "" || !strings.Contains(idp.service(t, "Corp"), c) {
		t.Fatalf("GetSigningCertificate %q is not the certificate of the SP metadata", c)
	}
	_, err := down.api.GetSigningCertificate(down.ctx, &cip.GetSigningCertificateInput{UserPoolId: aws.String("us-east-1_Nope")})
	wantErr(t, err, "ResourceNotFoundException")

	b := down.fedBrowser()
	r := newCodeRequest(conf, oauth2.SetAuthURLParam("identity_provider", "Corp"))
	done, posted := b.samlSignIn(t, idp, r.url)
	code := done.wantCode(t, r.state)
	tok := down.exchange(conf, r, code)
	down.verifyID(conf.ClientID, idToken(tok), tok.AccessToken, r.nonce)
	c := claims(t, idToken(tok))
	wantName := "Corp_" + samlEmail
	if c["cognito:username"] != wantName || c["email"] != samlEmail {
		t.Fatalf("id token claims %v", c)
	}
	ids := identitiesOf(t, c)
	if len(ids) != 1 || ids[0]["userId"] != samlEmail || ids[0]["providerName"] != "Corp" || ids[0]["providerType"] != "SAML" || ids[0]["issuer"] != idp.url+"/metadata" {
		t.Fatalf("identities %v", ids)
	}
	if g := groupsOf(c); !slices.Contains(g, down.pool+"_Corp") {
		t.Fatalf("cognito:groups %v", g)
	}
	if n := down.countUsers(down.pool); n != before+1 {
		t.Fatalf("%d users after the sign-in, want %d", n, before+1)
	}

	t.Run("replayed response refused", func(t *testing.T) {
		refused(t, b.submit(posted, nil, idp.url), http.StatusBadRequest)
		other := down.fedBrowser()
		refused(t, other.submit(posted, nil, idp.url), http.StatusBadRequest)
	})

	t.Run("tampered response refused, nothing created", func(t *testing.T) {
		b := down.fedBrowser()
		r := newCodeRequest(conf, oauth2.SetAuthURLParam("identity_provider", "Corp"))
		login := b.get(r.url)
		post := b.submit(login.form(t, "idp-login"), map[string]string{"user": samlUser, "password": samlPassword}, idp.url)
		f := post.form(t, "SAMLSubmitButton")
		raw, _ := base64.StdEncoding.DecodeString(f.fields.Get("SAMLResponse"))
		f.fields.Set("SAMLResponse", base64.StdEncoding.EncodeToString(bytes.Replace(raw, []byte("<saml:Issuer"), []byte("<!-- x --><saml:Issuer"), 1)))
		refused(t, b.submit(f, nil, idp.url), http.StatusBadRequest)
		if n := down.countUsers(down.pool); n != before+1 {
			t.Fatalf("%d users after a refused response, want %d", n, before+1)
		}
	})

	t.Run("sign-out at the IdP", func(t *testing.T) {
		out := b.get(down.origin + "/logout?" + url.Values{"client_id": {conf.ClientID}, "logout_uri": {rpSignOut}}.Encode())
		if !strings.HasPrefix(out.url.String(), idp.url+"/slo") {
			t.Fatalf("sign-out did not go to the IdP: %s", out)
		}
		back := b.submit(out.form(t, "SAMLSubmitButton"), nil, idp.url)
		if back.callback == nil || back.callback.String() != rpSignOut {
			t.Fatalf("after the IdP's LogoutResponse: %s", back)
		}
		again := b.get(newCodeRequest(conf, oauth2.SetAuthURLParam("identity_provider", "Corp")).url)
		if !strings.Contains(again.body, `id="idp-login"`) {
			t.Fatalf("the IdP session outlived sign-out: %s", again)
		}
	})

	t.Run("IdP-initiated only with IDPInit", func(t *testing.T) {
		relay := url.Values{"identity_provider": {"Corp"}, "client_id": {conf.ClientID}, "redirect_uri": {rpCallback}, "response_type": {"code"}, "scope": {"openid email"}}.Encode()
		idp.put(t, "/shortcuts/cognate", "application/json", must(json.Marshal(map[string]any{"name": "cognate", "service_provider": "urn:amazon:cognito:sp:" + down.pool, "relay_state": relay}))(t))
		b := down.fedBrowser()
		idpInitiated := func() landing {
			page := b.get(idp.url + "/login/cognate")
			if strings.Contains(page.body, `id="idp-login"`) {
				// Signed in at the IdP first (its /login), then back to the
				// shortcut.
				b.submit(page.form(t, "idp-login"), map[string]string{"user": samlUser, "password": samlPassword}, idp.url)
				page = b.get(idp.url + "/login/cognate")
			}
			return b.submit(page.form(t, "SAMLSubmitButton"), nil, idp.url)
		}
		refused(t, idpInitiated(), http.StatusBadRequest)
		must(down.api.UpdateIdentityProvider(down.ctx, &cip.UpdateIdentityProviderInput{
			UserPoolId: aws.String(down.pool), ProviderName: aws.String("Corp"), ProviderDetails: map[string]string{"IDPInit": "true"},
		}))(t)
		cb := idpInitiated().wantCallback(t, rpCallback)
		tok, err := conf.Exchange(down.ctxRP(), cb.Query().Get("code"))
		if err != nil {
			t.Fatal(err)
		}
		if c := claims(t, idToken(tok)); c["cognito:username"] != wantName {
			t.Fatalf("IdP-initiated id token claims %v", c)
		}
	})
}
