package integration_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"golang.org/x/oauth2"

	"github.com/cognate-auth/cognate/userpool"
)

// TestOAuthHostedSignUp: sign up on the hosted pages, confirm with the
// emailed code, and end at the callback.
func TestOAuthHostedSignUp(t *testing.T) {
	t.Parallel()
	e := newOAuthEnv(t)
	client, _ := e.oauthClient(clientSpec{})
	conf := e.rpConfig(client, "")
	b := e.newBrowser()
	r := newCodeRequest(conf)
	login := b.get(r.url).wantPage(t, "/login")
	if !regexp.MustCompile(`href="[^"]*/signup\b`).MatchString(login.body) {
		t.Errorf("login page has no link to /signup")
	}
	if !regexp.MustCompile(`href="[^"]*/forgotPassword\b`).MatchString(login.body) {
		t.Errorf("login page has no link to /forgotPassword")
	}
	signup := b.get(e.origin+"/signup?"+login.url.RawQuery).wantPage(t, "/signup")
	f := signup.form(t, "signup")
	email := "hosted@example.com"

	// A weak password is refused on the page, and nobody is created.
	l := b.submit(f, map[string]string{"username": email, "password": "short", "name": "Grace Hopper"}, "")
	if l.callback != nil || l.status >= 500 || errorText(l.body) == "" {
		t.Errorf("weak password at sign-up: want the page again with an error, got %s", l)
	}
	if n := e.countUsers(e.pool); n != 0 {
		t.Errorf("%d users after a refused sign-up", n)
	}

	f = b.get(e.origin+"/signup?"+login.url.RawQuery).wantPage(t, "/signup").form(t, "signup")
	confirm := b.submit(f, map[string]string{"username": email, "password": password, "name": "Grace Hopper"}, "").wantPage(t, "/confirm")
	code := e.code(email, "sign_up")

	// A wrong code: an error on the page, still unconfirmed.
	cf := confirm.form(t, "confirm")
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	l = b.submit(cf, map[string]string{"code": wrong}, "")
	if l.callback != nil || errorText(l.body) == "" {
		t.Errorf("wrong confirmation code: want the page with an error, got %s", l)
	}
	if u := must(e.adminGet(e.pool, email))(t); u.UserStatus != types.UserStatusTypeUnconfirmed {
		t.Errorf("status after a wrong code %s", u.UserStatus)
	}

	// Resend: a new code in the outbox.
	before := len(e.outbox())
	l = b.submit(confirm.form(t, "resend"), nil, "")
	if l.callback != nil || l.status != http.StatusOK {
		t.Errorf("resend: %s", l)
	}
	if after := e.outbox(); len(after) != before+1 {
		t.Errorf("resend sent %d messages", len(after)-before)
	}
	code = e.code(email, "sign_up")

	page := confirm
	if l.url.Path == "/confirm" {
		page = l
	}
	l = b.submit(page.form(t, "confirm"), map[string]string{"code": code}, "")
	if l.callback == nil && l.url.Path == "/login" {
		l = b.signIn(l, email, password)
	}
	tok := e.exchange(conf, r, l.wantCode(t, r.state))
	c := e.verifyID(client, idToken(tok), tok.AccessToken, r.nonce)
	if c.Email != email || c.EmailVerified != true || c.Name != "Grace Hopper" {
		t.Errorf("hosted sign-up id token email %q verified %v name %q", c.Email, c.EmailVerified, c.Name)
	}
}

// TestOAuthForgotPassword: the hosted reset flow, then sign-in with the
// new password.
func TestOAuthForgotPassword(t *testing.T) {
	t.Parallel()
	e := newOAuthEnv(t)
	client, _ := e.oauthClient(clientSpec{})
	email := "forgot@example.com"
	e.newUser(email)
	conf := e.rpConfig(client, "")
	b := e.newBrowser()
	r := newCodeRequest(conf)
	login := b.get(r.url).wantPage(t, "/login")
	fp := b.get(e.origin+"/forgotPassword?"+login.url.RawQuery).wantPage(t, "/forgotPassword")
	cfp := b.submit(fp.form(t, "send-code"), map[string]string{"username": email}, "").wantPage(t, "/confirmForgotPassword")
	code := e.code(email, "forgot_password")
	f := cfp.form(t, "reset")
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	l := b.submit(f, map[string]string{"code": wrong, "password": password2}, "")
	if l.callback != nil || errorText(l.body) == "" {
		t.Errorf("wrong reset code: want an error on the page, got %s", l)
	}
	if l.url.Path == "/confirmForgotPassword" && l.status == http.StatusOK {
		f = l.form(t, "reset")
	}
	l = b.submit(f, map[string]string{"code": code, "password": password2}, "")
	if l.callback == nil && l.url.Path != "/login" {
		t.Fatalf("after the reset: %s", l)
	}
	if l.callback == nil {
		l = b.signIn(l, email, password2)
	}
	tok := e.exchange(conf, r, l.wantCode(t, r.state))
	e.verifyID(client, idToken(tok), tok.AccessToken, r.nonce)
	if _, err := e.passwordAuth(e.pub, email, password); err == nil {
		t.Errorf("the old password still works")
	}
	// Unknown users get the same next page (no user-existence leak) and
	// no message.
	b2 := e.newBrowser()
	login2 := b2.get(newCodeRequest(conf).url).wantPage(t, "/login")
	n := len(e.outbox())
	fp2 := b2.get(e.origin+"/forgotPassword?"+login2.url.RawQuery).wantPage(t, "/forgotPassword")
	b2.submit(fp2.form(t, "send-code"), map[string]string{"username": "nobody@example.com"}, "").wantPage(t, "/confirmForgotPassword")
	if len(e.outbox()) != n {
		t.Errorf("a reset code was sent for an unknown user")
	}
}

// TestOAuthNewPassword: an admin-created user signs in with the
// temporary password and sets a new one on the hosted page.
func TestOAuthNewPassword(t *testing.T) {
	t.Parallel()
	e := newOAuthEnv(t)
	client, _ := e.oauthClient(clientSpec{})
	email := "admin-made@example.com"
	temp := "Temp-Pass-123"
	out := must(e.api.AdminCreateUser(e.ctx, &cip.AdminCreateUserInput{
		UserPoolId: aws.String(e.pool), Username: aws.String(email), TemporaryPassword: aws.String(temp),
		MessageAction:  types.MessageActionTypeSuppress,
		UserAttributes: []types.AttributeType{attrT("email", email), attrT("email_verified", "true")},
	}))(t)
	sub, _ := attr(out.User.Attributes, "sub")
	conf := e.rpConfig(client, "")
	b := e.newBrowser()
	r := newCodeRequest(conf)
	// The new-password form (#set-password, posting to /newPassword) may
	// be rendered in answer to the login POST rather than at a URL of its
	// own.
	page := b.signIn(b.get(r.url).wantPage(t, "/login"), email, temp)
	if page.callback != nil || page.status != http.StatusOK {
		t.Fatalf("want the new-password page, got %s", page)
	}
	if f := page.form(t, "set-password"); f.action.Path != "/newPassword" || !f.has("password") {
		t.Errorf("new-password form posts to %s with fields %v", f.action.Path, f.fields)
	}
	l := b.submit(page.form(t, "set-password"), map[string]string{"password": "weak"}, "")
	if l.callback != nil || errorText(l.body) == "" {
		t.Errorf("weak new password: want an error on the page, got %s", l)
	}
	if l.callback == nil && l.status == http.StatusOK {
		page = l
	}
	l = b.submit(page.form(t, "set-password"), map[string]string{"password": password}, "")
	tok := e.exchange(conf, r, l.wantCode(t, r.state))
	if c := e.verifyID(client, idToken(tok), tok.AccessToken, r.nonce); c.Sub != sub {
		t.Errorf("sub %q, want %q", c.Sub, sub)
	}
	if u := must(e.adminGet(e.pool, email))(t); u.UserStatus != types.UserStatusTypeConfirmed {
		t.Errorf("status %s after the new password", u.UserStatus)
	}
}

// TestOAuthLoginPage: errors on the login page, login_hint, lang.
func TestOAuthLoginPage(t *testing.T) {
	t.Parallel()
	e := newOAuthEnv(t)
	client, _ := e.oauthClient(clientSpec{})
	email := "page@example.com"
	e.newUser(email)
	conf := e.rpConfig(client, "")
	b := e.newBrowser()

	login := b.get(newCodeRequest(conf).url).wantPage(t, "/login")
	if ct := login.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Errorf("login page Content-Type %q", ct)
	}
	wrongPw := b.signIn(login, email, "Wrong-Pass-1")
	msgWrong := errorText(wrongPw.body)
	if wrongPw.callback != nil || msgWrong == "" {
		t.Fatalf("wrong password: want the login page with an error, got %s", wrongPw)
	}
	if b.sessionCookie() != nil {
		t.Errorf("a session cookie was set for a wrong password")
	}
	if !regexp.MustCompile(`(?is)<input\b[^>]*\bname="password"[^>]*\baria-invalid="true"|<input\b[^>]*\baria-invalid="true"[^>]*\bname="password"`).MatchString(wrongPw.body) {
		t.Errorf("the password input is not aria-invalid after a wrong password")
	}
	page := login
	if wrongPw.url.Path == "/login" && wrongPw.status == http.StatusOK {
		page = wrongPw
	}
	unknown := b.signIn(page, "nobody@example.com", "Wrong-Pass-1")
	if msg := errorText(unknown.body); unknown.callback != nil || msg != msgWrong {
		t.Errorf("unknown user: message %q, want the wrong-password message %q (no user-existence leak)", msg, msgWrong)
	}
	// The right password still works afterwards, from the re-shown page.
	if unknown.url.Path == "/login" && unknown.status == http.StatusOK {
		page = unknown
	}
	b.signIn(page, email, password).wantCallback(t, rpCallback)

	// login_hint fills the username.
	b2 := e.newBrowser()
	hinted := b2.get(newCodeRequest(conf, oauth2.SetAuthURLParam("login_hint", email)).url).wantPage(t, "/login")
	if got := hinted.form(t, "signin").fields.Get("username"); got != email {
		t.Errorf("login_hint: username field %q, want %q", got, email)
	}

	// lang=fr renders French.
	fr := b2.get(newCodeRequest(conf, oauth2.SetAuthURLParam("lang", "fr")).url).wantPage(t, "/login")
	if !regexp.MustCompile(`(?i)<html\b[^>]*\blang="fr`).MatchString(fr.body) {
		t.Errorf("lang=fr: <html> is not lang=fr")
	}
	if !strings.Contains(strings.ToLower(fr.body), "mot de passe") {
		t.Errorf("lang=fr: no French on the page (no \"mot de passe\")")
	}
	// The French page's form still signs in.
	frCode := b2.signIn(fr, email, password)
	frCode.wantCallback(t, rpCallback)
}

// TestOAuthLoginCSRF: the login form only accepts its own CSRF token,
// from a same-origin page.
func TestOAuthLoginCSRF(t *testing.T) {
	t.Parallel()
	e := newOAuthEnv(t)
	client, _ := e.oauthClient(clientSpec{})
	email := "csrf@example.com"
	e.newUser(email)
	conf := e.rpConfig(client, "")

	// refused asserts a submission issued nothing: no redirect to the
	// relying party, no session, and the next authorization asks for a
	// password.
	refused := func(t *testing.T, b *browser, l landing) {
		t.Helper()
		if l.callback != nil {
			t.Fatalf("the submission was accepted: %s", l)
		}
		if l.status >= 500 {
			t.Fatalf("%s", l)
		}
		if b.sessionCookie() != nil {
			t.Fatalf("a session cookie was set")
		}
		b.get(newCodeRequest(conf).url).wantPage(t, "/login")
	}
	loginForm := func(b *browser) *form {
		return b.get(newCodeRequest(conf).url).wantPage(t, "/login").form(t, "signin")
	}

	t.Run("forged token", func(t *testing.T) {
		b := e.newBrowser()
		f := loginForm(b)
		name := f.csrfField(t)
		refused(t, b, b.submit(f, map[string]string{"username": email, "password": password, name: randomToken()}, ""))
	})
	t.Run("no token", func(t *testing.T) {
		b := e.newBrowser()
		f := loginForm(b)
		f.fields.Del(f.csrfField(t))
		refused(t, b, b.submit(f, map[string]string{"username": email, "password": password}, ""))
	})
	t.Run("another browser's token", func(t *testing.T) {
		attacker, victim := e.newBrowser(), e.newBrowser()
		af := loginForm(attacker)
		vf := loginForm(victim)
		name := af.csrfField(t)
		l := victim.submit(vf, map[string]string{"username": email, "password": password, name: af.fields.Get(name)}, "")
		if l.callback != nil {
			t.Errorf("a CSRF token from another browser was accepted (tokens are not bound to the browser): login CSRF is possible where Origin is absent")
			return
		}
		refused(t, victim, l)
	})
	t.Run("cross-site POST", func(t *testing.T) {
		b := e.newBrowser()
		f := loginForm(b)
		refused(t, b, b.submit(f, map[string]string{"username": email, "password": password}, "https://evil.example"))
	})
	t.Run("cross-site POST with Origin null", func(t *testing.T) {
		b := e.newBrowser()
		f := loginForm(b)
		refused(t, b, b.submit(f, map[string]string{"username": email, "password": password}, "null"))
	})
	t.Run("cross-site sign-up", func(t *testing.T) {
		b := e.newBrowser()
		login := b.get(newCodeRequest(conf).url).wantPage(t, "/login")
		f := b.get(e.origin+"/signup?"+login.url.RawQuery).wantPage(t, "/signup").form(t, "signup")
		users := e.countUsers(e.pool)
		msgs := len(e.outbox())
		l := b.submit(f, map[string]string{"username": "victim@example.com", "password": password, "name": "V"}, "https://evil.example")
		if l.status >= 500 || l.url.Path == "/confirm" && l.status == 200 {
			t.Errorf("cross-site sign-up accepted: %s", l)
		}
		if n := e.countUsers(e.pool); n != users {
			t.Errorf("cross-site sign-up created a user")
		}
		if len(e.outbox()) != msgs {
			t.Errorf("cross-site sign-up sent a message")
		}
	})
	t.Run("same-origin still works", func(t *testing.T) {
		b := e.newBrowser()
		r := newCodeRequest(conf)
		page := b.get(r.url).wantPage(t, "/login")
		b.signIn(page, email, password).wantCode(t, r.state)
	})
}

// TestOAuthPageHeaders: the hosted pages cannot be framed or cached.
func TestOAuthPageHeaders(t *testing.T) {
	t.Parallel()
	e := newOAuthEnv(t)
	client, _ := e.oauthClient(clientSpec{})
	b := e.newBrowser()
	login := b.get(newCodeRequest(e.rpConfig(client, "")).url).wantPage(t, "/login")
	for _, p := range []string{"/login", "/signup", "/forgotPassword"} {
		l := b.get(e.origin+p+"?"+login.url.RawQuery).wantPage(t, p)
		xfo := strings.ToUpper(l.header.Get("X-Frame-Options"))
		csp := l.header.Get("Content-Security-Policy")
		if xfo != "DENY" && xfo != "SAMEORIGIN" && !strings.Contains(csp, "frame-ancestors") {
			t.Errorf("%s can be framed (no X-Frame-Options, no CSP frame-ancestors): clickjacking", p)
		}
		if cc := l.header.Get("Cache-Control"); !strings.Contains(cc, "no-store") && !strings.Contains(cc, "no-cache") && !strings.Contains(cc, "private") {
			t.Errorf("%s Cache-Control %q: a page with a CSRF token must not be cached", p, cc)
		}
	}
}

// TestOAuthLoginPostTampering: what the login POST carries is checked
// again; editing the form cannot send a code to an unregistered URI,
// widen the scopes, or reuse another pool's session.
func TestOAuthLoginPostTampering(t *testing.T) {
	t.Parallel()
	e := newOAuthEnv(t)
	client, _ := e.oauthClient(clientSpec{scopes: []string{"openid", "email"}})
	email := "tamper@example.com"
	e.newUser(email)
	conf := e.rpConfig(client, "", "openid")

	// tamper rewrites a parameter wherever the form carries it: in the
	// action's query and in hidden fields.
	tamper := func(f *form, name, value string) {
		q := f.action.Query()
		if q.Has(name) {
			q.Set(name, value)
			f.action.RawQuery = q.Encode()
		}
		if f.has(name) {
			f.fields.Set(name, value)
		}
	}
	t.Run("redirect_uri", func(t *testing.T) {
		b := e.newBrowser()
		f := b.get(newCodeRequest(conf).url).wantPage(t, "/login").form(t, "signin")
		tamper(f, "redirect_uri", "https://evil.example/cb")
		l := b.submit(f, map[string]string{"username": email, "password": password}, "")
		if l.callback != nil && l.callback.Host != rpHost {
			t.Fatalf("the login POST redirected to %s", l.callback)
		}
		if l.callback != nil && l.callback.Query().Has("code") {
			t.Errorf("a code was issued for a tampered redirect_uri: %s", l.callback)
		}
	})
	t.Run("scope", func(t *testing.T) {
		b := e.newBrowser()
		r := newCodeRequest(conf)
		f := b.get(r.url).wantPage(t, "/login").form(t, "signin")
		tamper(f, "scope", "openid email profile aws.cognito.signin.user.admin")
		l := b.submit(f, map[string]string{"username": email, "password": password}, "")
		if l.callback == nil || !l.callback.Query().Has("code") {
			return // refused: fine
		}
		tok, err := conf.Exchange(e.ctxRP(), l.callback.Query().Get("code"), oauth2.VerifierOption(r.verifier))
		if err != nil {
			return
		}
		if sc := scopeSet(e.verifyAccess(tok.AccessToken).Scope); strings.Contains(sc, "profile") || strings.Contains(sc, "admin") {
			t.Errorf("tampered login POST widened the scope beyond the client's: %q", sc)
		}
	})
	t.Run("GET /login with bad parameters", func(t *testing.T) {
		for name, q := range map[string]url.Values{
			"unknown client":            {"client_id": {"nosuchclient"}, "redirect_uri": {rpCallback}, "response_type": {"code"}},
			"unregistered redirect":     {"client_id": {client}, "redirect_uri": {rpOther}, "response_type": {"code"}},
			"no parameters":             {},
			"unsupported response type": {"client_id": {client}, "redirect_uri": {rpCallback}, "response_type": {"id_token"}},
		} {
			l := e.newBrowser().get(e.origin + "/login?" + q.Encode())
			if l.status >= 500 || (l.status == 200 && strings.Contains(l.body, `id="signin"`) && name != "unsupported response type") {
				t.Errorf("%s: %s", name, l)
			}
			if l.callback != nil && l.callback.Host != rpHost {
				t.Errorf("%s: redirected to %s", name, l.callback)
			}
		}
	})
	t.Run("another pool's session", func(t *testing.T) {
		out, err := e.srv.Service().CreateUserPool(e.ctx, userpool.CreateUserPoolInput{PoolName: "second", UsernameAttributes: []string{"email"}, AutoVerifiedAttributes: []string{"email"}})
		if err != nil {
			t.Fatal(err)
		}
		pool2 := out.UserPool.Id
		c2, err := e.srv.Service().CreateUserPoolClient(e.ctx, userpool.CreateUserPoolClientInput{ClientSettingsInput: userpool.ClientSettingsInput{
			UserPoolId: pool2, ClientName: "p2", AllowedOAuthFlowsUserPoolClient: true, AllowedOAuthFlows: []string{"code"},
			AllowedOAuthScopes: []string{"openid"}, CallbackURLs: []string{rpCallback},
		}})
		if err != nil {
			t.Fatal(err)
		}
		b := e.newBrowser()
		b.login(conf, email, password)
		conf2 := e.rpConfig(c2.UserPoolClient.ClientId, "", "openid")
		l := b.get(newCodeRequest(conf2).url)
		if l.callback != nil && l.callback.Query().Has("code") {
			t.Fatalf("pool %s's session authorized a client of pool %s", e.pool, pool2)
		}
		l.wantPage(t, "/login")
		// The user of the first pool does not exist in the second.
		if l2 := b.signIn(l, email, password); l2.callback != nil {
			t.Errorf("pool 1's user signed in to pool 2: %s", l2)
		}
	})
}
