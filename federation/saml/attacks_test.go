package saml_test

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"
	crewsaml "github.com/crewjam/saml"

	"github.com/cognate-auth/cognate/federation"
	"github.com/cognate-auth/cognate/federation/saml"
)

// forgery is a response made with crewjam/saml's IdP code, as the test
// IdP makes them, with whatever key, request, time and edits a test asks.
type forgery struct {
	key       *rsa.PrivateKey // nil: the test IdP's
	cert      *x509.Certificate
	requestID string
	at        time.Time // zero: now
	nameID    string    // empty: the IdP user's email
	edit      func(*crewsaml.Assertion)
	acs       string // empty: the SP's
	plain     bool   // never encrypt, whatever the SP metadata offers
}

// forge returns the response as the SAMLResponse form value.
func (e *env) forge(f forgery) string {
	e.t.Helper()
	return base64.StdEncoding.EncodeToString(e.forgeXML(f))
}

func (e *env) forgeXML(f forgery) []byte {
	e.t.Helper()
	if f.key == nil {
		f.key, f.cert = idpKey, idpCert
	}
	if f.at.IsZero() {
		f.at = time.Now()
	}
	if f.nameID == "" {
		f.nameID = idpUser.email
	}
	raw, err := e.svc.Metadata(context.Background(), e.provider())
	if err != nil {
		e.t.Fatal(err)
	}
	var md crewsaml.EntityDescriptor
	if err := xml.Unmarshal(raw, &md); err != nil {
		e.t.Fatal(err)
	}
	sso := &md.SPSSODescriptors[0]
	if f.plain {
		sso.KeyDescriptors = nil
	}
	if f.acs != "" {
		sso.AssertionConsumerServices[0].Location = f.acs
	}
	idp := &crewsaml.IdentityProvider{Key: f.key, Certificate: f.cert, MetadataURL: e.idp.IDP.MetadataURL, SSOURL: e.idp.IDP.SSOURL}
	req := &crewsaml.IdpAuthnRequest{
		IDP: idp, Now: f.at, HTTPRequest: httptest.NewRequest("POST", "/sso", nil),
		Request:                 crewsaml.AuthnRequest{ID: f.requestID},
		ServiceProviderMetadata: &md, SPSSODescriptor: sso, ACSEndpoint: &sso.AssertionConsumerServices[0],
	}
	session := &crewsaml.Session{
		ID: "s1", NameID: f.nameID, NameIDFormat: string(crewsaml.EmailAddressNameIDFormat), Index: "idx1",
		CreateTime: f.at, ExpireTime: f.at.Add(time.Hour), UserName: idpUser.name, UserEmail: f.nameID,
	}
	if err := (crewsaml.DefaultAssertionMaker{}).MakeAssertion(req, session); err != nil {
		e.t.Fatal(err)
	}
	if f.edit != nil {
		f.edit(req.Assertion)
	}
	if err := req.MakeResponse(); err != nil {
		e.t.Fatal(err)
	}
	doc := etree.NewDocument()
	doc.SetRoot(req.ResponseEl)
	b, err := doc.WriteToBytes()
	if err != nil {
		e.t.Fatal(err)
	}
	return b
}

// finish posts a response to the ACS as the hosted flow does, for the
// sign-in whose AuthnRequest id is binding ("" for IdP-initiated).
func (e *env) finish(binding, samlResponse string) (federation.Identity, error) {
	up, err := e.upstream(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	return up.Finish(context.Background(), e.acs(), binding, url.Values{"SAMLResponse": {samlResponse}, "RelayState": {"state"}})
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// stripSignatures removes every XML signature of a response.
func stripSignatures(t testing.TB, doc []byte) []byte {
	t.Helper()
	d := etree.NewDocument()
	if err := d.ReadFromBytes(doc); err != nil {
		t.Fatal(err)
	}
	for _, sig := range d.FindElements("//Signature") {
		sig.Parent().RemoveChild(sig)
	}
	out, err := d.WriteToBytes()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// wrap puts an unsigned copy of the signed assertion, claiming another
// user, next to (before) the signed one: XML signature wrapping.
func wrap(t testing.TB, doc []byte, who string) []byte {
	t.Helper()
	d := etree.NewDocument()
	if err := d.ReadFromBytes(doc); err != nil {
		t.Fatal(err)
	}
	signed := d.FindElement("//Assertion")
	evil := signed.Copy()
	evil.CreateAttr("ID", "id-evil")
	if sig := evil.FindElement("Signature"); sig != nil {
		evil.RemoveChild(sig)
	}
	evil.FindElement("Subject/NameID").SetText(who)
	d.Root().InsertChildAt(signed.Index(), evil)
	out, err := d.WriteToBytes()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestAttacksRefused: each classic attack on a SAML service provider is
// refused with its own error (which is also the seam's), and no identity
// comes out.
func TestAttacksRefused(t *testing.T) {
	e := newEnv(t, map[string]string{})
	otherKey, otherCert := newKeyPair(t, "impostor")
	genuine := func(requestID string) []byte { return e.forgeXML(forgery{requestID: requestID}) }

	cases := []struct {
		name     string
		binding  string
		response string
		want     error
	}{
		{"unsigned response and assertion", "id-1", b64(stripSignatures(t, genuine("id-1"))), saml.ErrSignature},
		{"signed for another audience", "id-2", e.forge(forgery{requestID: "id-2", edit: func(a *crewsaml.Assertion) {
			a.Conditions.AudienceRestrictions[0].Audience.Value = saml.EntityID("us-east-1_Other")
		}}), saml.ErrAudience},
		{"expired assertion", "id-3", e.forge(forgery{requestID: "id-3", at: time.Now().Add(-2 * time.Hour)}), saml.ErrExpired},
		{"issued in the future", "id-4", e.forge(forgery{requestID: "id-4", at: time.Now().Add(2 * time.Hour)}), saml.ErrExpired},
		{"answer to another request", "id-5", e.forge(forgery{requestID: "id-someone-elses"}), saml.ErrInResponseTo},
		{"sent to another endpoint", "id-6", e.forge(forgery{requestID: "id-6", acs: "https://evil.example/saml2/idpresponse"}), saml.ErrDestination},
		{"signature wrapping: unsigned assertion next to the signed one", "id-7", b64(wrap(t, genuine("id-7"), "admin@corp.example")), saml.ErrMalformed},
		{"comment injection in NameID", "id-8", b64([]byte(strings.Replace(string(e.forgeXML(forgery{requestID: "id-8", nameID: "user@evil.com.trusted.com"})),
			">user@evil.com.trusted.com<", ">user@evil.com<!---->.trusted.com<", 1))), saml.ErrMalformed},
		{"signed by another key", "id-9", e.forge(forgery{requestID: "id-9", key: otherKey, cert: otherCert}), saml.ErrSignature},
		{"IdP-initiated to a provider without IDPInit", "", e.forge(forgery{}), saml.ErrUnsolicited},
		{"not base64", "id-10", "%%%not base64%%%", saml.ErrMalformed},
		{"not XML", "id-11", b64([]byte("<Response")), saml.ErrMalformed},
		{"DOCTYPE", "id-12", b64([]byte(`<!DOCTYPE x [<!ENTITY a "b">]><Response/>`)), saml.ErrMalformed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			id, err := e.finish(tc.binding, tc.response)
			if !errors.Is(err, tc.want) || !errors.Is(err, federation.ErrInvalidResponse) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if id.Subject != "" || id.Attributes != nil {
				t.Fatalf("identity %+v came out of a refused response", id)
			}
		})
	}
	// The comment-injection response is genuine but for its comment: its
	// signature still verifies without it, which is why it is refused
	// before crewjam/saml reads it.
	clean := e.forge(forgery{requestID: "id-20", nameID: "user@evil.com.trusted.com"})
	if id, err := e.finish("id-20", clean); err != nil || id.Subject != "user@evil.com.trusted.com" {
		t.Fatalf("clean response: %+v, %v", id, err)
	}
}

// TestReplayRefused: an assertion is accepted once, and a request is
// answered once, across the store's one-time claims.
func TestReplayRefused(t *testing.T) {
	e := newEnv(t, map[string]string{saml.DetailIDPInit: "true"})

	unsolicited := e.forge(forgery{})
	if id, err := e.finish("", unsolicited); err != nil || id.Subject != idpUser.email {
		t.Fatalf("IdP-initiated sign-in with IDPInit: %+v, %v", id, err)
	}
	if _, err := e.finish("", unsolicited); !errors.Is(err, saml.ErrReplayed) {
		t.Fatalf("replayed assertion: %v, want ErrReplayed", err)
	}

	if _, err := e.finish("id-r", e.forge(forgery{requestID: "id-r"})); err != nil {
		t.Fatal(err)
	}
	if _, err := e.finish("id-r", e.forge(forgery{requestID: "id-r"})); !errors.Is(err, saml.ErrReplayed) {
		t.Fatalf("second response to one request: %v, want ErrReplayed", err)
	}
	// With IDPInit, a response that names a request still has to answer
	// one this sign-in sent.
	if _, err := e.finish("", e.forge(forgery{requestID: "id-unknown"})); !errors.Is(err, saml.ErrInResponseTo) {
		t.Fatalf("IdP-initiated response with an InResponseTo: %v, want ErrInResponseTo", err)
	}
}

// TestEncryptionRequired: with EncryptedResponses, an assertion in the
// clear is refused, though signed; an encrypted one is decrypted.
func TestEncryptionRequired(t *testing.T) {
	e := newEnv(t, map[string]string{saml.DetailEncryptedResponses: "true"})
	if _, err := e.finish("id-p", e.forge(forgery{requestID: "id-p", plain: true})); !errors.Is(err, saml.ErrNotEncrypted) {
		t.Fatalf("plain assertion: %v, want ErrNotEncrypted", err)
	}
	doc := e.forgeXML(forgery{requestID: "id-e"})
	if !strings.Contains(string(doc), "EncryptedAssertion") {
		t.Fatal("the IdP did not encrypt to the provider's encryption certificate")
	}
	if id, err := e.finish("id-e", b64(doc)); err != nil || id.Subject != idpUser.email {
		t.Fatalf("encrypted assertion: %+v, %v", id, err)
	}
}
