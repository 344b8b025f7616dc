package oauth

import (
	"encoding/base64"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/cognate-auth/cognate/userpool"
)

var fuzzClient = userpool.OAuthClient{
	ClientID: "client", OAuthEnabled: true, Flows: []string{"code", "implicit"},
	Scopes: []string{"openid", "email"}, CallbackURLs: []string{"https://app.example/cb", "myapp://cb?x=1"},
}

// FuzzAuthorizeParams drives the authorization-request parser and
// checks: it never panics, and whatever it accepts is within bounds and
// redirects only to a registered callback.
func FuzzAuthorizeParams(f *testing.F) {
	f.Add("response_type=code&client_id=client&redirect_uri=https%3A%2F%2Fapp.example%2Fcb&state=abc&scope=openid&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256")
	f.Add("response_type=token&client_id=client&redirect_uri=myapp%3A%2F%2Fcb%3Fx%3D1&prompt=NONE&nonce=n")
	f.Add("client_id=client&client_id=x&redirect_uri=%zz&prompt=login+consent&lang=zh-CN")
	f.Add(";;&&==&response_type=code&state=" + strings.Repeat("s", 3000))
	f.Fuzz(func(t *testing.T, raw string) {
		q, _ := url.ParseQuery(raw)
		ar, e := checkRequest(q, func(id string) (userpool.OAuthClient, *authzError) {
			if id != fuzzClient.ClientID {
				return userpool.OAuthClient{}, pageErr(400, "invalid_client", "error.invalid_client", "unknown")
			}
			return fuzzClient, nil
		})
		for _, fl := range authzFields {
			if v := *fl.ptr(&ar); len(v) > fl.max {
				t.Fatalf("%s longer than %d accepted", fl.name, fl.max)
			}
		}
		if e != nil {
			if e.code == "" || (!e.page && ar.redirect == "") {
				t.Fatalf("error %+v without a code, or redirectable without a redirect URI", e)
			}
			if !e.page {
				checkRedirect(t, ar.errorURL(e))
			}
			return
		}
		if !slices.Contains(fuzzClient.CallbackURLs, ar.redirect) {
			t.Fatalf("accepted redirect %q", ar.redirect)
		}
		if ar.CodeChallenge != "" && (len(ar.CodeChallenge) != 43 || ar.CodeChallengeMethod != "S256") {
			t.Fatalf("accepted PKCE %q %q", ar.CodeChallenge, ar.CodeChallengeMethod)
		}
		if ar.ResponseType != "code" && ar.ResponseType != "token" {
			t.Fatalf("accepted response_type %q", ar.ResponseType)
		}
		checkRedirect(t, callbackURL(ar.redirect, url.Values{"code": {"c"}, "state": {ar.State}}, ar.fragment()))
		if _, err := url.ParseQuery(ar.query().Encode()); err != nil {
			t.Fatal(err)
		}
	})
}

// checkRedirect: every redirect goes to a registered callback.
func checkRedirect(t *testing.T, target string) {
	t.Helper()
	for _, cb := range fuzzClient.CallbackURLs {
		if strings.HasPrefix(target, cb) {
			return
		}
	}
	t.Fatalf("redirect to %q", target)
}

// FuzzTokenRequest drives the token endpoint's body and Authorization
// header parsing: no panics, and credentials come from exactly one place.
func FuzzTokenRequest(f *testing.F) {
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte("my%3Aid:s%20ecret"))
	f.Add("application/x-www-form-urlencoded", "", []byte("grant_type=authorization_code&code=abc&client_id=c&code_verifier=v"))
	f.Add("application/x-www-form-urlencoded; charset=utf-8", basic, []byte("grant_type=refresh_token&refresh_token=r"))
	f.Add("application/x-www-form-urlencoded", basic, []byte("client_secret=x&client_id=c"))
	f.Add("text/plain", "Bearer x", []byte("%zz&a=1&a=2"))
	f.Add("application/x-www-form-urlencoded", "Basic !!!", []byte(";"))
	f.Fuzz(func(t *testing.T, contentType, authorization string, body []byte) {
		req, te := parseTokenRequest(contentType, authorization, body)
		if te != nil {
			if te.code == "" || te.status < 400 || te.status > 499 {
				t.Fatalf("bad error %+v", te)
			}
			return
		}
		if req.clientID == "" {
			t.Fatal("accepted without a client id")
		}
		if req.basic && req.params["client_secret"] != "" {
			t.Fatal("accepted Basic and client_secret together")
		}
		for k, v := range req.params {
			if len(v) > maxParamBytes {
				t.Fatalf("%s longer than the bound", k)
			}
		}
	})
}

// FuzzAcceptLanguage: any header picks some catalog.
func FuzzAcceptLanguage(f *testing.F) {
	f.Add("fr", "de-DE,zh-CN;q=0.9,en;q=0.5")
	f.Add("", "*;q=0, en;q=abc, ;;;,")
	f.Fuzz(func(t *testing.T, lang, header string) {
		if pickLocale(lang, header) == nil {
			t.Fatal("no locale")
		}
	})
}
