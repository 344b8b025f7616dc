package saml_test

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/cognate-auth/cognate/federation"
	"github.com/cognate-auth/cognate/federation/saml"
)

// TestSignInWithRealIdP drives the whole SP-initiated sign-in: the SP's
// redirect with an AuthnRequest, the IdP's own login form and user store,
// the IdP's POST back to the ACS, and the identity the ACS returns, for
// each way a provider can be configured.
func TestSignInWithRealIdP(t *testing.T) {
	cases := []struct {
		name    string
		details map[string]string
		signed  bool
	}{
		{"metadata URL", map[string]string{}, false},
		{"signed requests", map[string]string{saml.DetailRequestSigningAlgorithm: "rsa-sha256"}, true},
		{"encrypted assertions", map[string]string{saml.DetailEncryptedResponses: "true"}, false},
		{"all options", map[string]string{saml.DetailRequestSigningAlgorithm: "rsa-sha256", saml.DetailEncryptedResponses: "true", saml.DetailIDPSignout: "true", saml.DetailIDPInit: "true"}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, tc.details)
			c := browser(t)
			c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
				if strings.HasSuffix(req.URL.Path, "/sso") {
					q := req.URL.Query()
					if q.Get("SAMLRequest") == "" || q.Get("RelayState") == "" {
						t.Errorf("redirect to the IdP without SAMLRequest or RelayState: %s", req.URL)
					}
					if got := q.Get("Signature") != "" && q.Get("SigAlg") == "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"; got != tc.signed {
						t.Errorf("AuthnRequest signed = %v, want %v", got, tc.signed)
					}
				}
				return nil
			}
			if tc.signed {
				e.signInToIdP(c)
			}
			f := e.signInAtIdP(c)
			status, body := post(t, c, f)
			if status != http.StatusOK {
				t.Fatalf("ACS: %d %s", status, body)
			}
			var id federation.Identity
			if err := json.Unmarshal([]byte(body), &id); err != nil {
				t.Fatal(err)
			}
			if id.Subject != idpUser.email || id.Issuer != e.idpSrv.URL+"/metadata" || id.EmailVerified {
				t.Fatalf("identity = %+v", id)
			}
			if got := id.Attributes["urn:oid:0.9.2342.19200300.100.1.3"]; got != idpUser.email {
				t.Errorf("mail attribute = %q (attributes %v)", got, id.Attributes)
			}
			raw, _ := base64.StdEncoding.DecodeString(f.values.Get("SAMLResponse"))
			if enc := strings.Contains(string(raw), "EncryptedAssertion"); enc != (tc.details[saml.DetailEncryptedResponses] == "true") {
				t.Errorf("assertion encrypted = %v, details %v", enc, tc.details)
			}
			// The exchange is spent: the same POST again is refused.
			if status, body := post(t, c, f); status != http.StatusForbidden {
				t.Fatalf("second POST: %d %s", status, body)
			}
		})
	}
}

// TestSignOutWithRealIdP: after a sign-in, sign-out sends the IdP a
// signed LogoutRequest by the redirect binding, and the IdP's signed
// LogoutResponse, posted back, ends it; without IDPSignout there is no
// SAML sign-out.
func TestSignOutWithRealIdP(t *testing.T) {
	e := newEnv(t, map[string]string{saml.DetailIDPSignout: "true"})
	c := browser(t)
	if status, body := post(t, c, e.signInAtIdP(c)); status != http.StatusOK {
		t.Fatalf("ACS: %d %s", status, body)
	}
	var toIdP *url.URL
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if strings.HasSuffix(req.URL.Path, "/slo") {
			toIdP = req.URL
		}
		return nil
	}
	resp, err := c.Get(e.sp.URL + "/signout")
	if err != nil {
		t.Fatal(err)
	}
	page := readPage(t, resp, http.StatusOK)
	if toIdP == nil || toIdP.Query().Get("SAMLRequest") == "" || toIdP.Query().Get("Signature") == "" {
		t.Fatalf("sign-out redirect to the IdP = %v", toIdP)
	}
	f := parseForm(t, page, resp.Request.URL)
	if f.action != e.sp.URL+saml.LogoutPath || f.values.Get("SAMLResponse") == "" {
		t.Fatalf("the IdP answered %s %v:\n%s", f.action, f.values, page)
	}
	if status, body := post(t, c, f); status != http.StatusOK || body != "signed out" {
		t.Fatalf("logout response: %d %s", status, body)
	}
	// The IdP's session is over: a new sign-in shows its login form.
	resp, err = c.Get(e.sp.URL + "/start")
	if err != nil {
		t.Fatal(err)
	}
	if page := readPage(t, resp, http.StatusOK); !strings.Contains(page, `name="password"`) {
		t.Fatalf("after sign-out the IdP did not ask for a password:\n%s", page)
	}

	quiet := newEnv(t, map[string]string{})
	up, err := quiet.upstream(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := up.BeginSignOut(t.Context(), federation.Request{State: "s"}, saml.SignOut{NameID: idpUser.email}); !errors.Is(err, saml.ErrNoSignOut) {
		t.Fatalf("sign-out without IDPSignout: %v, want ErrNoSignOut", err)
	}
}
