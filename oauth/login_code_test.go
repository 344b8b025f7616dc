package oauth_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/cognate-auth/cognate/userpool"
)

// TestLoginCode: with a code first factor in the pool's sign-in policy,
// the managed pages sign in without a password: the username, the
// choice of factor, then the code sent by email; the password is one of
// the choices, and the API's Sessions are not the pages'.
func TestLoginCode(t *testing.T) {
	e := newEnv(t, func(in *userpool.CreateUserPoolClientInput) {
		in.ExplicitAuthFlows = append(in.ExplicitAuthFlows, "ALLOW_USER_AUTH")
	})
	b := e.browser()
	q := e.authorizeQuery("")
	_, lp := b.loginPage(q)
	if strings.Contains(lp.body, "/loginCode") {
		t.Fatal("a pool without code sign-in links to it")
	}
	if _, err := e.srv.Service().UpdateUserPool(context.Background(), userpool.UpdateUserPoolInput{
		UserPoolId: e.srv.Pool.ID, AutoVerifiedAttributes: []string{"email"},
		Policies: &userpool.PoliciesType{SignInPolicy: &userpool.SignInPolicyType{AllowedFirstAuthFactors: []string{"PASSWORD", "EMAIL_OTP"}}},
	}); err != nil {
		t.Fatal(err)
	}
	e.user("cody@example.com", "Passw0rd!")
	_, lp = b.loginPage(q)
	if !strings.Contains(lp.body, "Sign in with a one-time code") {
		t.Fatalf("no code sign-in link:\n%s", lp.body)
	}
	cp := b.get("/loginCode?" + q.Encode())
	p := b.post("/loginCode?"+q.Encode(), url.Values{"csrf_token": {cp.csrf(t)}, "username": {"cody@example.com"}})
	if hiddenValue(t, p, "challenge") != "SELECT_CHALLENGE" || !strings.Contains(p.body, `value="EMAIL_OTP"`) || !strings.Contains(p.body, `value="PASSWORD"`) {
		t.Fatalf("choice page: %d\n%s", p.status, p.body)
	}
	choice := mfaForm(t, p, "answer", "EMAIL_OTP")
	choice.Set("choices", hiddenValue(t, p, "choices"))
	p = b.post("/mfa?"+q.Encode(), choice)
	if hiddenValue(t, p, "challenge") != "EMAIL_OTP" || !strings.Contains(p.body, "We emailed a code to") {
		t.Fatalf("code page: %d\n%s", p.status, p.body)
	}
	session := hiddenValue(t, p, "session")
	// The pages' Session is not the API's.
	if _, err := e.srv.Service().RespondToAuthChallenge(context.Background(), userpool.RespondToAuthChallengeInput{
		ClientId: e.client.ClientId, ChallengeName: "EMAIL_OTP", Session: session,
		ChallengeResponses: map[string]string{"USERNAME": "cody@example.com", "EMAIL_OTP_CODE": "12345678"},
	}); err == nil {
		t.Fatal("the API answered a page's Session")
	}
	if bad := b.post("/mfa?"+q.Encode(), mfaForm(t, p, "code", "00000000")); bad.status != http.StatusBadRequest || !strings.Contains(bad.body, `id="code-error"`) {
		t.Fatalf("a wrong code: %d\n%s", bad.status, bad.body)
	}
	p = b.post("/mfa?"+q.Encode(), mfaForm(t, p, "code", e.latestCode("cody@example.com")))
	if loc := p.location(t); !strings.HasPrefix(loc.String(), callback) || loc.Query().Get("code") == "" {
		t.Fatalf("after the code: %d %s\n%s", p.status, loc, p.body)
	}

	// The password, chosen on the same page.
	b = e.browser()
	cp = b.get("/loginCode?" + q.Encode())
	p = b.post("/loginCode?"+q.Encode(), url.Values{"csrf_token": {cp.csrf(t)}, "username": {"cody@example.com"}})
	choice = mfaForm(t, p, "answer", "PASSWORD", "password", "Wrong-Passw0rd!")
	choice.Set("choices", hiddenValue(t, p, "choices"))
	if bad := b.post("/mfa?"+q.Encode(), choice); bad.status != http.StatusBadRequest || !strings.Contains(bad.body, "Incorrect") {
		t.Fatalf("a wrong password: %d\n%s", bad.status, bad.body)
	}
	choice.Set("password", "Passw0rd!")
	p = b.post("/mfa?"+q.Encode(), choice)
	if loc := p.location(t); loc.Query().Get("code") == "" {
		t.Fatalf("after the password: %d %s\n%s", p.status, loc, p.body)
	}
}
