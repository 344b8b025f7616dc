package oauth_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cognate-auth/cognate/internal/totp"
	"github.com/cognate-auth/cognate/userpool"
)

// hiddenValue reads a hidden input of a page.
func hiddenValue(t *testing.T, p page, name string) string {
	t.Helper()
	m := regexp.MustCompile(`name="` + name + `" value="([^"]*)"`).FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("no hidden %s on the page (%d):\n%s", name, p.status, p.body)
	}
	return strings.NewReplacer("&#43;", "+", "&amp;", "&", "&#34;", `"`, "&#39;", "'").Replace(m[1])
}

// mfaForm is the next post of the /mfa page p.
func mfaForm(t *testing.T, p page, fields ...string) url.Values {
	f := url.Values{"csrf_token": {p.csrf(t)}, "challenge": {hiddenValue(t, p, "challenge")},
		"session": {hiddenValue(t, p, "session")}, "account": {hiddenValue(t, p, "account")}}
	if strings.Contains(p.body, `name="setup"`) {
		f.Set("setup", hiddenValue(t, p, "setup"))
	}
	if strings.Contains(p.body, `name="secret"`) {
		f.Set("secret", hiddenValue(t, p, "secret"))
	}
	for i := 0; i+1 < len(fields); i += 2 {
		f.Set(fields[i], fields[i+1])
	}
	return f
}

// TestLoginMFA: with MFA on, the managed login asks for a second step:
// set up an authenticator app from its QR code, then its codes at every
// sign-in (a wrong one refused, the same one never twice), or a code
// by email; each ends in the app's authorization code.
func TestLoginMFA(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	mfa := userpool.SetUserPoolMfaConfigInput{
		UserPoolId: e.srv.Pool.ID, MfaConfiguration: "ON",
		SoftwareTokenMfaConfiguration: &userpool.SoftwareTokenMfaConfigType{Enabled: true},
	}
	if _, err := e.srv.Service().SetUserPoolMfaConfig(ctx, mfa); err != nil {
		t.Fatal(err)
	}
	e.user("mia@example.com", "Passw0rd!")
	q := e.authorizeQuery("")
	b := e.browser()
	path, lp := b.loginPage(q)
	p := b.post(path, url.Values{"csrf_token": {lp.csrf(t)}, "username": {"mia@example.com"}, "password": {"Passw0rd!"}})
	if p.status != http.StatusOK || !strings.Contains(p.body, `value="SOFTWARE_TOKEN_MFA"`) {
		t.Fatalf("setup choice: %d\n%s", p.status, p.body)
	}
	p = b.post("/mfa?"+q.Encode(), mfaForm(t, p, "answer", "SOFTWARE_TOKEN_MFA"))
	if p.status != http.StatusOK || !strings.Contains(p.body, "<svg") || !strings.Contains(p.body, `id="totp-secret"`) {
		t.Fatalf("authenticator setup: %d\n%s", p.status, p.body)
	}
	secret, err := totp.Encoding.DecodeString(hiddenValue(t, p, "secret"))
	if err != nil {
		t.Fatal(err)
	}
	if bad := b.post("/mfa?"+q.Encode(), mfaForm(t, p, "code", "000000")); bad.status != http.StatusBadRequest || !strings.Contains(bad.body, `id="code-error"`) {
		t.Fatalf("a wrong first code: %d\n%s", bad.status, bad.body)
	}
	now := time.Now()
	p = b.post("/mfa?"+q.Encode(), mfaForm(t, p, "code", totp.Code(secret, now)))
	if loc := p.location(t); !strings.HasPrefix(loc.String(), callback) || loc.Query().Get("code") == "" {
		t.Fatalf("after setup: %d %s\n%s", p.status, loc, p.body)
	}

	// The next sign-in asks for the app's code.
	b = e.browser()
	path, lp = b.loginPage(q)
	p = b.post(path, url.Values{"csrf_token": {lp.csrf(t)}, "username": {"mia@example.com"}, "password": {"Passw0rd!"}})
	if hiddenValue(t, p, "challenge") != "SOFTWARE_TOKEN_MFA" || !strings.Contains(p.body, `id="code"`) {
		t.Fatalf("TOTP step: %d\n%s", p.status, p.body)
	}
	// The code that set the app up is spent.
	if r := b.post("/mfa?"+q.Encode(), mfaForm(t, p, "code", totp.Code(secret, now))); r.status == http.StatusFound {
		t.Fatalf("a used code signed in again: %s", r.location(t))
	}
	p = b.post("/mfa?"+q.Encode(), mfaForm(t, p, "code", totp.Code(secret, now.Add(totp.Step))))
	if loc := p.location(t); loc.Query().Get("code") == "" {
		t.Fatalf("after the TOTP code: %d %s\n%s", p.status, loc, p.body)
	}

	// With email codes offered too, a user with a verified email and no
	// app gets a code by email.
	mfa.EmailMfaConfiguration = &userpool.EmailMfaConfigType{}
	if _, err := e.srv.Service().SetUserPoolMfaConfig(ctx, mfa); err != nil {
		t.Fatal(err)
	}
	e.user("ned@example.com", "Passw0rd!")
	b = e.browser()
	path, lp = b.loginPage(q)
	p = b.post(path, url.Values{"csrf_token": {lp.csrf(t)}, "username": {"ned@example.com"}, "password": {"Passw0rd!"}})
	if hiddenValue(t, p, "challenge") != "EMAIL_OTP" || !strings.Contains(p.body, "We emailed a code to") {
		t.Fatalf("email code step: %d\n%s", p.status, p.body)
	}
	answer := mfaForm(t, p, "code", e.latestCode("ned@example.com"))
	p = b.post("/mfa?"+q.Encode(), answer)
	if loc := p.location(t); loc.Query().Get("code") == "" {
		t.Fatalf("after the email code: %d %s\n%s", p.status, loc, p.body)
	}

	// A step's form replayed after its sign-in: back to the login page.
	if r := b.post("/mfa?"+q.Encode(), answer); r.status == http.StatusFound {
		t.Fatalf("a spent step signed in again")
	}
}
