package oauth_test

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/cognate-auth/cognate/userpool"
)

// claims decodes a JWT's payload without checking it.
func claims(t *testing.T, jwt any) map[string]any {
	t.Helper()
	s, _ := jwt.(string)
	parts := strings.Split(s, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", s)
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	json.Unmarshal(raw, &c)
	return c
}

func TestCodeFlowWithPKCE(t *testing.T) {
	e := newEnv(t)
	e.user("ann@example.com", "Passw0rd!")
	verifier, challenge := pkce()
	b := e.browser()
	code := b.signIn(e.authorizeQuery(challenge, "nonce", "n-0S6"), "ann@example.com", "Passw0rd!")
	st, hdr, out := e.tokenPost(url.Values{
		"grant_type": {"authorization_code"}, "client_id": {e.client.ClientId}, "code": {code},
		"redirect_uri": {callback}, "code_verifier": {verifier},
	}, "Origin", "http://localhost:8080", "x-amz-user-agent", "aws-amplify/6")
	if st != http.StatusOK {
		t.Fatalf("exchange: %d %v", st, out)
	}
	if out["token_type"] != "Bearer" || out["refresh_token"] == nil || out["expires_in"] == nil {
		t.Fatalf("token response %v", out)
	}
	if hdr.Get("Cache-Control") != "no-store" || hdr.Get("Pragma") != "no-cache" || hdr.Get("Access-Control-Allow-Origin") != "*" {
		t.Fatalf("headers %v", hdr)
	}
	at, id := claims(t, out["access_token"]), claims(t, out["id_token"])
	if at["username"] == nil || at["scope"] != "openid email profile" || id["nonce"] != "n-0S6" || id["email"] != "ann@example.com" {
		t.Fatalf("access %v\nid %v", at, id)
	}

	// The session cookie now skips the form; prompt=login does not.
	p := b.get("/oauth2/authorize?" + e.authorizeQuery(challenge).Encode())
	if loc := p.location(t); !strings.HasPrefix(loc.String(), callback) || loc.Query().Get("code") == "" {
		t.Fatalf("with a session: %s", loc)
	}
	p = b.get("/oauth2/authorize?" + e.authorizeQuery(challenge, "prompt", "login").Encode())
	if loc := p.location(t); loc.Path != "/login" {
		t.Fatalf("prompt=login with a session: %s", loc)
	}

	// Refresh grant.
	st, _, ref := e.tokenPost(url.Values{"grant_type": {"refresh_token"}, "client_id": {e.client.ClientId}, "refresh_token": {out["refresh_token"].(string)}})
	if st != http.StatusOK || ref["access_token"] == nil || ref["id_token"] == nil {
		t.Fatalf("refresh: %d %v", st, ref)
	}

	// userInfo with an openid token.
	ui := e.userInfo(out["access_token"].(string))
	if ui.status != http.StatusOK || !strings.Contains(ui.body, `"email":"ann@example.com"`) {
		t.Fatalf("userInfo: %d %s", ui.status, ui.body)
	}
}

func TestTokenErrors(t *testing.T) {
	e := newEnv(t)
	e.user("bob@example.com", "Passw0rd!")
	verifier, challenge := pkce()
	b := e.browser()

	code := b.signIn(e.authorizeQuery(challenge), "bob@example.com", "Passw0rd!")
	wrong := verifier[:127] + "x"
	if wrong == verifier {
		wrong = verifier[:127] + "y"
	}
	if st, out := e.exchange(code, wrong); st != http.StatusBadRequest || out["error"] != "invalid_grant" {
		t.Fatalf("wrong verifier: %d %v", st, out)
	}

	code = b.signIn(e.authorizeQuery(challenge), "bob@example.com", "Passw0rd!")
	st, _, out := e.tokenPost(url.Values{"grant_type": {"authorization_code"}, "client_id": {e.client.ClientId}, "code": {code},
		"redirect_uri": {"http://localhost:8080/other"}, "code_verifier": {verifier}})
	if st != http.StatusBadRequest || out["error"] != "invalid_grant" {
		t.Fatalf("wrong redirect_uri: %d %v", st, out)
	}

	code = b.signIn(e.authorizeQuery(challenge), "bob@example.com", "Passw0rd!")
	st, first := e.exchange(code, verifier)
	if st != http.StatusOK {
		t.Fatalf("first redemption: %d %v", st, first)
	}
	if st, out := e.exchange(code, verifier); st != http.StatusBadRequest || out["error"] != "invalid_grant" || out["error_message"] == nil {
		t.Fatalf("reused code: %d %v", st, out)
	}
	st, _, out = e.tokenPost(url.Values{"grant_type": {"refresh_token"}, "client_id": {e.client.ClientId}, "refresh_token": {first["refresh_token"].(string)}})
	if st != http.StatusBadRequest || out["error"] != "invalid_grant" {
		t.Fatalf("refresh token of a replayed code still works: %d %v", st, out)
	}

	for name, c := range map[string]struct {
		form   url.Values
		status int
		err    string
	}{
		"unsupported grant": {url.Values{"grant_type": {"password"}, "client_id": {e.client.ClientId}}, 400, "unsupported_grant_type"},
		"missing grant":     {url.Values{"client_id": {e.client.ClientId}}, 400, "invalid_request"},
		"missing client":    {url.Values{"grant_type": {"authorization_code"}, "code": {"x"}}, 400, "invalid_request"},
		"unknown client":    {url.Values{"grant_type": {"authorization_code"}, "code": {"x"}, "client_id": {"nope"}}, 401, "invalid_client"},
		"unknown code":      {url.Values{"grant_type": {"authorization_code"}, "code": {"x"}, "client_id": {e.client.ClientId}, "redirect_uri": {callback}}, 400, "invalid_grant"},
		"repeated param":    {url.Values{"grant_type": {"refresh_token", "refresh_token"}, "client_id": {e.client.ClientId}}, 400, "invalid_request"},
		"bad refresh token": {url.Values{"grant_type": {"refresh_token"}, "client_id": {e.client.ClientId}, "refresh_token": {"junk"}}, 400, "invalid_grant"},
	} {
		st, _, out := e.tokenPost(c.form)
		if st != c.status || out["error"] != c.err || out["error_description"] == nil {
			t.Errorf("%s: %d %v; want %d %s", name, st, out, c.status, c.err)
		}
	}
}

func TestTokenRequestShape(t *testing.T) {
	e := newEnv(t)
	req, _ := http.NewRequest(http.MethodPost, e.url+"/oauth2/token", strings.NewReader(`{"grant_type":"x"}`))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("JSON body: %d", resp.StatusCode)
	}
	big := url.Values{"grant_type": {"refresh_token"}, "client_id": {e.client.ClientId}, "refresh_token": {strings.Repeat("a", 20<<10)}}
	if st, _, out := e.tokenPost(big); st != http.StatusBadRequest || out["error"] != "invalid_request" {
		t.Fatalf("oversized body: %d %v", st, out)
	}

	req, _ = http.NewRequest(http.MethodOptions, e.url+"/oauth2/token", nil)
	req.Header.Set("Origin", "http://localhost:8080")
	req.Header.Set("Access-Control-Request-Method", "POST")
	req.Header.Set("Access-Control-Request-Headers", "content-type,x-amz-user-agent")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	h := resp.Header
	if resp.StatusCode != http.StatusNoContent || h.Get("Access-Control-Allow-Origin") != "*" ||
		!strings.Contains(h.Get("Access-Control-Allow-Headers"), "x-amz-user-agent") || !strings.Contains(h.Get("Access-Control-Allow-Methods"), "POST") {
		t.Fatalf("preflight: %d %v", resp.StatusCode, h)
	}
	resp, err = http.Get(e.url + "/oauth2/token")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("GET /oauth2/token: %d", resp.StatusCode)
	}
}

func TestConfidentialClientAuth(t *testing.T) {
	e := newEnv(t, func(in *userpool.CreateUserPoolClientInput) { in.GenerateSecret = true })
	e.user("cy@example.com", "Passw0rd!")
	verifier, challenge := pkce()
	code := e.browser().signIn(e.authorizeQuery(challenge), "cy@example.com", "Passw0rd!")
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {callback}, "code_verifier": {verifier}}
	basic := func(id, secret string) string {
		return "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id)+":"+url.QueryEscape(secret)))
	}

	st, hdr, out := e.tokenPost(form, "Authorization", basic(e.client.ClientId, "wrong"))
	if st != http.StatusUnauthorized || out["error"] != "invalid_client" || !strings.HasPrefix(hdr.Get("WWW-Authenticate"), "Basic") {
		t.Fatalf("wrong secret over Basic: %d %v %v", st, hdr, out)
	}
	both := url.Values{"client_secret": {e.client.ClientSecret}}
	for k, v := range form {
		both[k] = v
	}
	if st, _, out := e.tokenPost(both, "Authorization", basic(e.client.ClientId, e.client.ClientSecret)); st != http.StatusBadRequest || out["error"] != "invalid_request" {
		t.Fatalf("Basic and client_secret_post together: %d %v", st, out)
	}
	noSecret := url.Values{"client_id": {e.client.ClientId}}
	for k, v := range form {
		noSecret[k] = v
	}
	if st, hdr, out := e.tokenPost(noSecret); st != http.StatusUnauthorized || out["error"] != "invalid_client" || hdr.Get("WWW-Authenticate") != "" {
		t.Fatalf("confidential client without secret: %d %v %v", st, hdr, out)
	}
	if st, _, out := e.tokenPost(form, "Authorization", basic(e.client.ClientId, e.client.ClientSecret)); st != http.StatusOK || out["access_token"] == nil {
		t.Fatalf("client_secret_basic: %d %v", st, out)
	}
}

func TestImplicitFlow(t *testing.T) {
	e := newEnv(t)
	e.user("imp@example.com", "Passw0rd!")
	b := e.browser()
	b.signIn(e.authorizeQuery(""), "imp@example.com", "Passw0rd!") // starts the session
	p := b.get("/oauth2/authorize?" + e.authorizeQuery("", "response_type", "token").Encode())
	loc := p.location(t)
	frag, _ := url.ParseQuery(loc.Fragment)
	if loc.RawQuery != "" || frag.Get("access_token") == "" || frag.Get("id_token") == "" || frag.Get("token_type") != "Bearer" ||
		frag.Get("expires_in") == "" || frag.Get("state") != "st4te-custom" || frag.Get("refresh_token") != "" {
		t.Fatalf("implicit redirect %s", loc)
	}
}

func (e *env) userInfo(token string) page {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.url+"/oauth2/userInfo", nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return page{status: resp.StatusCode, header: resp.Header, body: string(body)}
}

func TestUserInfoNeedsOpenID(t *testing.T) {
	e := newEnv(t)
	e.user("dan@example.com", "Passw0rd!")
	verifier, challenge := pkce()
	code := e.browser().signIn(e.authorizeQuery(challenge, "scope", "email aws.cognito.signin.user.admin"), "dan@example.com", "Passw0rd!")
	st, out := e.exchange(code, verifier)
	if st != http.StatusOK {
		t.Fatalf("exchange: %d %v", st, out)
	}
	p := e.userInfo(out["access_token"].(string))
	if p.status != http.StatusUnauthorized || !strings.Contains(p.header.Get("WWW-Authenticate"), `error="invalid_token"`) {
		t.Fatalf("userInfo without openid: %d %v", p.status, p.header)
	}
	if p := e.userInfo(""); p.status != http.StatusUnauthorized || !strings.HasPrefix(p.header.Get("WWW-Authenticate"), "Bearer") {
		t.Fatalf("userInfo without a token: %d %v", p.status, p.header)
	}
}

func TestRevoke(t *testing.T) {
	e := newEnv(t)
	e.user("eve@example.com", "Passw0rd!")
	verifier, challenge := pkce()
	code := e.browser().signIn(e.authorizeQuery(challenge), "eve@example.com", "Passw0rd!")
	_, out := e.exchange(code, verifier)
	revoke := func(form url.Values) (int, string) {
		resp, err := http.PostForm(e.url+"/oauth2/revoke", form)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	id := e.client.ClientId
	if st, body := revoke(url.Values{"client_id": {id}, "token": {"unknown"}}); st != 200 || body != "" {
		t.Fatalf("unknown token: %d %q", st, body)
	}
	if st, body := revoke(url.Values{"client_id": {id}, "token": {out["access_token"].(string)}}); st != 400 || !strings.Contains(body, "unsupported_token_type") {
		t.Fatalf("access token: %d %s", st, body)
	}
	if st, body := revoke(url.Values{"client_id": {id}}); st != 400 || !strings.Contains(body, "invalid_request") {
		t.Fatalf("no token: %d %s", st, body)
	}
	if st, body := revoke(url.Values{"client_id": {id}, "client_secret": {"x"}, "token": {"t"}}); st != 401 || !strings.Contains(body, "invalid_client") {
		t.Fatalf("public client with a secret: %d %s", st, body)
	}
	rt := out["refresh_token"].(string)
	if st, body := revoke(url.Values{"client_id": {id}, "token": {rt}}); st != 200 || body != "" {
		t.Fatalf("revoke: %d %q", st, body)
	}
	if st, body := revoke(url.Values{"client_id": {id}, "token": {rt}}); st != 200 {
		t.Fatalf("revoke again: %d %q", st, body)
	}
	if st, _, out := e.tokenPost(url.Values{"grant_type": {"refresh_token"}, "client_id": {id}, "refresh_token": {rt}}); st != 400 || out["error"] != "invalid_grant" {
		t.Fatalf("revoked refresh token: %d %v", st, out)
	}
}
