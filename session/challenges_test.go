package session_test

import (
	"context"
	"encoding/json"
	"html"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cognate-auth/cognate/internal/passkeytest"
	"github.com/cognate-auth/cognate/internal/totp"
	"github.com/cognate-auth/cognate/session"
	"github.com/cognate-auth/cognate/userpool"
)

// stepPool is a pool of its own on the shared Cognate, with an app
// client for the password and choice-based routes, and a user with a
// verified email.
type stepPool struct {
	id, client string
}

func newStepPool(t *testing.T, p *idp, in userpool.CreateUserPoolInput, flows ...string) stepPool {
	t.Helper()
	ctx := context.Background()
	svc := p.srv.Service()
	out, err := svc.CreateUserPool(ctx, in)
	if err != nil {
		t.Fatalf("CreateUserPool: %v", err)
	}
	c, err := svc.CreateUserPoolClient(ctx, userpool.CreateUserPoolClientInput{ClientSettingsInput: userpool.ClientSettingsInput{
		UserPoolId: out.UserPool.Id, ClientName: "steps",
		ExplicitAuthFlows: append([]string{"ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"}, flows...),
	}})
	if err != nil {
		t.Fatalf("CreateUserPoolClient: %v", err)
	}
	return stepPool{id: out.UserPool.Id, client: c.UserPoolClient.ClientId}
}

func (sp stepPool) app(t *testing.T, p *idp) *app {
	return newApp(t, p, appOpts{config: func(c *session.Config) { c.UserPoolID, c.ClientID = sp.id, sp.client }})
}

func (sp stepPool) user(t *testing.T, p *idp, username string) string {
	t.Helper()
	email := username + "@example.com"
	_, err := p.srv.Service().AdminCreateUser(context.Background(), userpool.AdminCreateUserInput{
		UserPoolId: sp.id, Username: username, MessageAction: "SUPPRESS", TemporaryPassword: password,
		UserAttributes: []userpool.AttributeType{{Name: "email", Value: email}, {Name: "email_verified", Value: "true"}},
	})
	if err == nil {
		_, err = p.srv.Service().AdminSetUserPassword(context.Background(), userpool.AdminSetUserPasswordInput{
			UserPoolId: sp.id, Username: username, Password: password, Permanent: true,
		})
	}
	if err != nil {
		t.Fatalf("user %s: %v", username, err)
	}
	return email
}

// outboxCode is the newest code the shared Cognate's dev outbox holds
// for dest, waiting briefly for its delivery.
func outboxCode(t *testing.T, p *idp, dest string) string {
	t.Helper()
	key, err := os.ReadFile(filepath.Join(sharedIDPDir, "dev-outbox-key"))
	if err != nil {
		t.Fatalf("outbox key: %v", err)
	}
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		req, _ := http.NewRequest(http.MethodGet, p.url+"/_dev/outbox.json", nil)
		req.Header.Set("X-Cognate-Outbox-Key", strings.TrimSpace(string(key)))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("outbox: %v", err)
		}
		var msgs []struct{ Destination, Code string }
		err = json.NewDecoder(resp.Body).Decode(&msgs)
		resp.Body.Close()
		if err != nil {
			t.Fatalf("outbox: %v", err)
		}
		for _, m := range msgs {
			if m.Destination == dest && m.Code != "" {
				return m.Code
			}
		}
	}
	t.Fatalf("no code for %s in the outbox", dest)
	return ""
}

// TestChoiceSignIn: the passwordless route starts USER_AUTH with the
// username alone; the built-in page offers the pool's first factors
// and signs in with a code sent by email, or with the password.
func TestChoiceSignIn(t *testing.T) {
	p := newIDP(t)
	sp := newStepPool(t, p, userpool.CreateUserPoolInput{
		PoolName: "choice", Policies: &userpool.PoliciesType{SignInPolicy: &userpool.SignInPolicyType{
			AllowedFirstAuthFactors: []string{"PASSWORD", "EMAIL_OTP"},
		}},
	}, "ALLOW_USER_AUTH")
	a := sp.app(t, p)
	email := sp.user(t, p, "chooser")

	b := newBrowser(t)
	csrf := b.state(a.url + "/form").CSRF
	page := b.postForm(a, "/api/auth/passwordless", "/form", map[string][]string{
		"username": {"chooser"}, "csrf": {csrf}, "redirect": {"/private"},
	})
	if page.url.Path != "/api/auth/challenge" || !strings.Contains(page.body, `value="EMAIL_OTP"`) || !strings.Contains(page.body, `value="PASSWORD"`) {
		t.Fatalf("choice page: %d at %s\n%s", page.status, page.url, page.body)
	}
	// An option the step does not offer is refused before the issuer.
	r := b.postForm(a, "/api/auth/challenge", "", map[string][]string{"ANSWER": {"WEB_AUTHN"}, "csrf": {csrf}})
	if r.url.Query().Get("error") != "InvalidParameterException" {
		t.Fatalf("an option not offered: landed on %s", r.url)
	}
	r = b.postForm(a, "/api/auth/challenge", "", map[string][]string{"ANSWER": {"EMAIL_OTP"}, "csrf": {csrf}})
	if r.url.Path != "/api/auth/challenge" || !strings.Contains(r.body, `name="EMAIL_OTP_CODE"`) {
		t.Fatalf("after choosing email: %d at %s\n%s", r.status, r.url, r.body)
	}
	code := outboxCode(t, p, email)
	done := b.postForm(a, "/api/auth/challenge", "", map[string][]string{"EMAIL_OTP_CODE": {code}, "csrf": {csrf}})
	var st pageState
	json.Unmarshal([]byte(done.body), &st)
	if done.url.Path != "/private" || st.User != "chooser" {
		t.Fatalf("after the code: %d at %s as %q", done.status, done.url, st.User)
	}

	// The password is one of the choices too.
	b2 := newBrowser(t)
	csrf = b2.state(a.url + "/form").CSRF
	b2.postForm(a, "/api/auth/passwordless", "/form", map[string][]string{"username": {"chooser"}, "csrf": {csrf}})
	r = b2.postForm(a, "/api/auth/challenge", "", map[string][]string{"ANSWER": {"PASSWORD"}, "PASSWORD": {"Wrong-Password-1"}, "csrf": {csrf}})
	if r.url.Query().Get("error") != "NotAuthorizedException" {
		t.Fatalf("a wrong password: landed on %s", r.url)
	}
	b2.postForm(a, "/api/auth/passwordless", "/form", map[string][]string{"username": {"chooser"}, "csrf": {csrf}})
	r = b2.postForm(a, "/api/auth/challenge", "", map[string][]string{"ANSWER": {"PASSWORD"}, "PASSWORD": {password}, "csrf": {csrf}})
	if st := b2.state(a.url + "/"); st.User != "chooser" {
		t.Fatalf("password chosen: landed on %s, signed in as %q", r.url, st.User)
	}
}

// TestMFASetupSignIn: a pool that requires an authenticator app sets it
// up inside the password sign-in (the built-in page shows the QR code
// and the key), then asks for its codes.
func TestMFASetupSignIn(t *testing.T) {
	p := newIDP(t)
	sp := newStepPool(t, p, userpool.CreateUserPoolInput{PoolName: "mfa-steps"})
	if _, err := p.srv.Service().SetUserPoolMfaConfig(context.Background(), userpool.SetUserPoolMfaConfigInput{
		UserPoolId: sp.id, MfaConfiguration: "ON",
		SoftwareTokenMfaConfiguration: &userpool.SoftwareTokenMfaConfigType{Enabled: true},
	}); err != nil {
		t.Fatal(err)
	}
	a := sp.app(t, p)
	sp.user(t, p, "mfa-setup")
	b := newBrowser(t)
	csrf := b.state(a.url + "/form").CSRF
	page := b.postForm(a, "/api/auth/password", "/form", map[string][]string{
		"username": {"mfa-setup"}, "password": {password}, "csrf": {csrf}, "redirect": {"/private"},
	})
	m := regexp.MustCompile(`id="totp-secret">([A-Z2-7]+)<`).FindStringSubmatch(page.body)
	if page.url.Path != "/api/auth/challenge" || m == nil || !strings.Contains(page.body, "<svg") ||
		!strings.Contains(page.body, `name="SOFTWARE_TOKEN_MFA_CODE"`) {
		t.Fatalf("setup page: %d at %s\n%s", page.status, page.url, page.body)
	}
	secret, err := totp.Encoding.DecodeString(m[1])
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	r := b.postForm(a, "/api/auth/challenge", "", map[string][]string{"SOFTWARE_TOKEN_MFA_CODE": {"000000"}, "csrf": {csrf}})
	if r.url.Path != "/api/auth/challenge" || r.url.Query().Get("error") == "" {
		t.Fatalf("a wrong first code: landed on %s", r.url)
	}
	r = b.postForm(a, "/api/auth/challenge", "", map[string][]string{"SOFTWARE_TOKEN_MFA_CODE": {totp.Code(secret, now)}, "csrf": {csrf}})
	if st := b.state(a.url + "/"); st.User != "mfa-setup" {
		t.Fatalf("after setup: landed on %s, signed in as %q", r.url, st.User)
	}

	b2 := newBrowser(t)
	csrf = b2.state(a.url + "/form").CSRF
	page = b2.postForm(a, "/api/auth/password", "/form", map[string][]string{"username": {"mfa-setup"}, "password": {password}, "csrf": {csrf}})
	if !strings.Contains(page.body, `name="SOFTWARE_TOKEN_MFA_CODE"`) || strings.Contains(page.body, "totp-secret") {
		t.Fatalf("TOTP step: %d at %s\n%s", page.status, page.url, page.body)
	}
	b2.postForm(a, "/api/auth/challenge", "", map[string][]string{"SOFTWARE_TOKEN_MFA_CODE": {totp.Code(secret, now.Add(totp.Step))}, "csrf": {csrf}})
	if st := b2.state(a.url + "/"); st.User != "mfa-setup" {
		t.Fatalf("the TOTP code did not sign in")
	}
}

// TestChoiceSignInPasskey: a passkey is one of the built-in page's
// choices; its step's page carries the request options for the
// browser's ceremony, and the credential it posts signs in.
func TestChoiceSignInPasskey(t *testing.T) {
	p := newIDP(t)
	sp := newStepPool(t, p, userpool.CreateUserPoolInput{
		PoolName: "passkey-steps", Policies: &userpool.PoliciesType{SignInPolicy: &userpool.SignInPolicyType{
			AllowedFirstAuthFactors: []string{"PASSWORD", "WEB_AUTHN"},
		}},
	}, "ALLOW_USER_AUTH", "ALLOW_USER_PASSWORD_AUTH")
	a := sp.app(t, p)
	sp.user(t, p, "pk-user")
	ctx, svc := context.Background(), p.srv.Service()
	out, err := svc.InitiateAuth(ctx, userpool.InitiateAuthInput{AuthFlow: "USER_PASSWORD_AUTH", ClientId: sp.client,
		AuthParameters: map[string]string{"USERNAME": "pk-user", "PASSWORD": password}})
	if err != nil {
		t.Fatal(err)
	}
	access := out.AuthenticationResult.AccessToken
	start, err := svc.StartWebAuthnRegistration(ctx, userpool.AccessTokenInput{AccessToken: access})
	if err != nil {
		t.Fatal(err)
	}
	const origin = "http://localhost:8080"
	opts, _ := json.Marshal(start.CredentialCreationOptions)
	key, body, err := passkeytest.Register(opts, origin, passkeytest.Forge{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CompleteWebAuthnRegistration(ctx, userpool.CompleteWebAuthnRegistrationInput{AccessToken: access, Credential: body}); err != nil {
		t.Fatal(err)
	}

	b := newBrowser(t)
	csrf := b.state(a.url + "/form").CSRF
	page := b.postForm(a, "/api/auth/passwordless", "/form", map[string][]string{"username": {"pk-user"}, "csrf": {csrf}, "redirect": {"/private"}})
	if !strings.Contains(page.body, `value="WEB_AUTHN"`) {
		t.Fatalf("choice page without the passkey: %d at %s\n%s", page.status, page.url, page.body)
	}
	page = b.postForm(a, "/api/auth/challenge", "", map[string][]string{"ANSWER": {"WEB_AUTHN"}, "csrf": {csrf}})
	m := regexp.MustCompile(`data-options="([^"]+)"`).FindStringSubmatch(page.body)
	if m == nil || !strings.Contains(page.body, `name="CREDENTIAL"`) || !strings.Contains(page.body, "navigator.credentials.get") {
		t.Fatalf("passkey page: %d at %s\n%s", page.status, page.url, page.body)
	}
	cred, err := key.Assert([]byte(html.UnescapeString(m[1])), origin, passkeytest.Forge{})
	if err != nil {
		t.Fatal(err)
	}
	forged, _ := key.Assert([]byte(html.UnescapeString(m[1])), "https://evil.example", passkeytest.Forge{})
	if r := b.postForm(a, "/api/auth/challenge", "", map[string][]string{"CREDENTIAL": {string(forged)}, "csrf": {csrf}}); r.url.Query().Get("error") == "" {
		t.Fatalf("an assertion for another origin: landed on %s", r.url)
	}
	if st := b.state(a.url + "/"); st.User != "" {
		t.Fatalf("a forged assertion signed in %q", st.User)
	}
	b.postForm(a, "/api/auth/challenge", "", map[string][]string{"CREDENTIAL": {string(cred)}, "csrf": {csrf}})
	if st := b.state(a.url + "/"); st.User != "pk-user" {
		t.Fatalf("the passkey did not sign in (as %q)", st.User)
	}
}
