package saml_test

import (
	"context"
	"encoding/base64"
	"net/url"
	"testing"
)

// FuzzFinish feeds the ACS any SAMLResponse (base64 or not, any XML or
// none): it must answer with an error or an identity, never panic.
func FuzzFinish(f *testing.F) {
	e := newEnv(f, map[string]string{"IDPInit": "true"})
	genuine := e.forgeXML(forgery{requestID: "id-f"})
	f.Add(base64.StdEncoding.EncodeToString(genuine), "id-f")
	f.Add(base64.StdEncoding.EncodeToString(wrap(f, genuine, "admin@corp.example")), "id-f")
	f.Add(base64.StdEncoding.EncodeToString(stripSignatures(f, genuine)), "")
	f.Add(base64.StdEncoding.EncodeToString([]byte(`<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol"><saml:EncryptedAssertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion"/></samlp:Response>`)), "")
	f.Add("PD94bWwgdmVyc2lvbj0iMS4wIj8+", "x")
	f.Add("", "")
	up, err := e.upstream(context.Background())
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, response, binding string) {
		id, err := up.Finish(context.Background(), e.acs(), binding, url.Values{"SAMLResponse": {response}})
		if err == nil && id.Subject == "" {
			t.Fatal("an identity without a subject was accepted")
		}
	})
}
