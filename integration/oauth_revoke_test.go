package integration_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestOAuthRevoke: the revocation endpoint only revokes a client's own
// tokens, and a confidential client must authenticate.
func TestOAuthRevoke(t *testing.T) {
	t.Parallel()
	e := newOAuthEnv(t)
	pubA, _ := e.oauthClient(clientSpec{})
	pubB, _ := e.oauthClient(clientSpec{})
	conf, secret := e.oauthClient(clientSpec{secret: true})
	email := "rev@example.com"
	e.newUser(email)
	b := e.newBrowser()
	confA := e.rpConfig(pubA, "")
	rA, cA := b.login(confA, email, password)
	tokA := e.exchange(confA, rA, cA)
	confC := e.rpConfig(conf, secret)
	rC := newCodeRequest(confC)
	tokC := e.exchange(confC, rC, b.get(rC.url).wantCode(t, rC.state))

	revoke := func(form url.Values, user, pass string) tokenResult {
		return e.postForm(e.disc.RevocationEndpoint, form, user, pass)
	}
	// Another client cannot revoke A's token.
	res := revoke(url.Values{"token": {tokA.RefreshToken}, "client_id": {pubB}}, "", "")
	if res.status >= 500 {
		t.Fatalf("%s", res)
	}
	if r := e.refreshRaw(pubA, tokA.RefreshToken); r.status != http.StatusOK {
		t.Errorf("client B's revoke request (answer %s) killed client A's refresh token: %s", res, r)
	}
	// A confidential client's token: no secret, a wrong secret → 401
	// invalid_client and the token lives on.
	wantOAuthError(t, revoke(url.Values{"token": {tokC.RefreshToken}, "client_id": {conf}}, "", ""), 401, "invalid_client")
	wantOAuthError(t, revoke(url.Values{"token": {tokC.RefreshToken}}, conf, "wrong"), 401, "invalid_client")
	if r := e.token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tokC.RefreshToken}}, conf, secret); r.status != http.StatusOK {
		t.Errorf("the confidential client's token died after unauthenticated revoke attempts: %s", r)
	}
	// With the secret it is revoked.
	if r := revoke(url.Values{"token": {tokC.RefreshToken}}, conf, secret); r.status != http.StatusOK {
		t.Fatalf("revoke with client_secret_basic: %s", r)
	}
	wantOAuthError(t, e.token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tokC.RefreshToken}}, conf, secret), 400, "invalid_grant")
	// Malformed requests.
	res = revoke(url.Values{"client_id": {pubA}}, "", "")
	if res.status != 400 || res.str("error") != "invalid_request" {
		t.Errorf("revoke without a token: %s", res)
	}
	if r := revoke(url.Values{"token": {"garbage"}, "client_id": {pubA}}, "", ""); r.status != http.StatusOK && r.status != http.StatusBadRequest {
		t.Errorf("revoke of garbage: %s", r)
	}
	if r := revoke(url.Values{"token": {strings.Repeat("t", 200_000)}, "client_id": {pubA}}, "", ""); r.status >= 500 {
		t.Errorf("revoke of an oversized token: %s", r)
	}
}
