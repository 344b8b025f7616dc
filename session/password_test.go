package session_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/cognate-auth/cognate/session"
)

// postForm posts a form as a same-origin page of the app would, with a
// Referer.
func (b *browser) postForm(a *app, path, referer string, form url.Values) resp {
	b.t.Helper()
	req, _ := http.NewRequestWithContext(b.t.Context(), http.MethodPost, a.url+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", a.url)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	if referer != "" {
		req.Header.Set("Referer", a.url+referer)
	}
	return b.do(req)
}

// TestPasswordRoute: the password form signs in by SRP, and failures come
// back to the form page as ?error=.
func TestPasswordRoute(t *testing.T) {
	p := newIDP(t)
	a := newApp(t, p, appOpts{})
	p.user(t, "pw-user", false)
	b := newBrowser(t)
	csrf := b.state(a.url + "/form").CSRF
	form := func(user, pw, token string) url.Values {
		return url.Values{"username": {user}, "password": {pw}, "csrf": {token}, "redirect": {"/private?from=form"}}
	}
	for _, tc := range []struct {
		name, user, pw, token, code string
	}{
		{"wrong password", "pw-user", "Wrong-Password-1", csrf, "NotAuthorizedException"},
		{"empty password", "pw-user", "", csrf, "InvalidParameterException"},
		{"no csrf", "pw-user", password, "", "InvalidCSRF"},
		{"forged csrf", "pw-user", password, strings.Repeat("A", 43), "InvalidCSRF"},
	} {
		r := b.postForm(a, "/api/auth/password", "/form?error=old", form(tc.user, tc.pw, tc.token))
		q := r.url.Query()
		if r.url.Path != "/form" || q.Get("error") != tc.code || q.Get("redirect") != "/private?from=form" {
			t.Errorf("%s: landed on %s", tc.name, r.url)
		}
	}
	if st := b.state(a.url + "/"); st.User != "" {
		t.Fatalf("failed attempts signed in %q", st.User)
	}

	// Posted from another site: refused outright.
	req, _ := http.NewRequest(http.MethodPost, a.url+"/api/auth/password", strings.NewReader(form("pw-user", password, csrf).Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://evil.example")
	if r := b.do(req); r.status != http.StatusForbidden {
		t.Errorf("cross-origin post: %d", r.status)
	}

	r := b.postForm(a, "/api/auth/password", "/form", form("pw-user", password, csrf))
	var st pageState
	json.Unmarshal([]byte(r.body), &st)
	if r.url.Path != "/private" || r.url.RawQuery != "from=form" || st.User != "pw-user" {
		t.Errorf("sign-in landed on %s as %q", r.url, st.User)
	}
}

// TestNewPasswordRequired: a user created with a temporary password
// completes NEW_PASSWORD_REQUIRED on the built-in challenge page.
func TestNewPasswordRequired(t *testing.T) {
	p := newIDP(t)
	a := newApp(t, p, appOpts{})
	p.user(t, "temp-user", true)
	b := newBrowser(t)
	csrf := b.state(a.url + "/form").CSRF
	page := b.postForm(a, "/api/auth/password", "/form", url.Values{
		"username": {"temp-user"}, "password": {password}, "csrf": {csrf}, "redirect": {"/private"},
	})
	if page.url.Path != "/api/auth/challenge" || page.status != http.StatusOK || !strings.Contains(page.body, `name="NEW_PASSWORD"`) {
		t.Fatalf("challenge page: %d at %s\n%s", page.status, page.url, page.body)
	}
	sealed := b.cookies(a.url)["cognate.challenge"]
	if sealed == "" || strings.Contains(sealed, "temp-user") {
		t.Fatalf("challenge cookie %q", sealed)
	}

	// A tampered challenge cookie: back to the page with ChallengeExpired.
	suffix := "AAAA"
	if strings.HasSuffix(sealed, suffix) {
		suffix = "BBBB"
	}
	tampered := sealed[:len(sealed)-4] + suffix
	evil := newBrowser(t)
	evil.c.Jar.SetCookies(page.url, []*http.Cookie{{Name: "cognate.challenge", Value: tampered, Path: "/"}})
	evilCSRF := evil.state(a.url + "/form").CSRF
	r := evil.postForm(a, "/api/auth/challenge", "", url.Values{"NEW_PASSWORD": {newPassword}, "csrf": {evilCSRF}})
	if r.url.Query().Get("error") != "ChallengeExpired" {
		t.Errorf("tampered challenge: landed on %s", r.url)
	}

	m := formRe.FindStringSubmatch(page.body)
	fields := url.Values{"NEW_PASSWORD": {newPassword}}
	for _, h := range hiddenRe.FindAllStringSubmatch(m[2], -1) {
		fields.Set(h[1], unescape(h[2]))
	}
	done := b.postForm(a, unescape(m[1]), "/api/auth/challenge", fields)
	var st pageState
	json.Unmarshal([]byte(done.body), &st)
	if done.url.Path != "/private" || st.User != "temp-user" {
		t.Fatalf("after the new password: %d at %s as %q", done.status, done.url, st.User)
	}
	if _, ok := b.cookies(a.url)["cognate.challenge"]; ok {
		t.Errorf("the challenge cookie outlived the sign-in")
	}
	// The new password is the password now.
	b2 := newBrowser(t)
	if r := b2.passwordSignIn(a, "temp-user", newPassword, "/"); r.url.Path != "/" || b2.state(a.url+"/").User != "temp-user" {
		t.Errorf("signing in with the new password landed on %s", r.url)
	}
}

// TestPendingChallengeCookie: the state of a sign-in awaiting a new
// password lives in an HttpOnly cookie sealed for three minutes; once
// they pass, the challenge is refused as expired.
func TestPendingChallengeCookie(t *testing.T) {
	p := newIDP(t)
	a := newApp(t, p, appOpts{})
	p.user(t, "slow-temp", true)
	b := newBrowser(t)
	csrf := b.state(a.url + "/form").CSRF
	b.takeSets()
	page := b.postForm(a, "/api/auth/password", "/form", url.Values{
		"username": {"slow-temp"}, "password": {password}, "csrf": {csrf}, "redirect": {"/private"},
	})
	if page.url.Path != "/api/auth/challenge" || page.status != http.StatusOK {
		t.Fatalf("challenge page: %d at %s", page.status, page.url)
	}
	var set *setCookie
	for _, l := range b.takeSets() {
		if sc := parseSet(l); strings.HasSuffix(sc.name, "cognate.challenge") && !sc.deletes() {
			set = &sc
		}
	}
	if set == nil || !has(set.attrs, "httponly") || set.attrs["max-age"] != "180" || set.attrs["samesite"] != "Strict" {
		t.Fatalf("challenge cookie %+v", set)
	}
	a.clock.set(time.Now().Add(3*time.Minute + time.Second))
	defer a.clock.set(time.Time{})
	csrf = b.state(a.url + "/form").CSRF
	r := b.postForm(a, "/api/auth/challenge", "", url.Values{"NEW_PASSWORD": {newPassword}, "csrf": {csrf}})
	if r.url.Query().Get("error") != "ChallengeExpired" {
		t.Fatalf("a challenge answered after three minutes landed on %s", r.url)
	}
}

// TestPasswordAPI: SignInWithPassword and RespondToChallenge for apps with
// their own handlers; failures are *AuthError.
func TestPasswordAPI(t *testing.T) {
	p := newIDP(t)
	a := newApp(t, p, appOpts{config: func(c *session.Config) { c.ChallengePath = "/my-challenge" }})
	p.user(t, "api-user", false)
	p.user(t, "api-temp", true)
	b := newBrowser(t)
	call := func(path string, form url.Values) pageState {
		r := b.postForm(a, path, "", form)
		var st pageState
		if err := json.Unmarshal([]byte(r.body), &st); err != nil {
			t.Fatalf("%s: %d %s", path, r.status, r.body)
		}
		return st
	}
	if st := call("/api-signin", url.Values{"username": {"api-user"}, "password": {"Nope-Nope-1"}}); st.Code != "NotAuthorizedException" || st.User != "" {
		t.Errorf("wrong password: %+v", st)
	}
	if st := call("/api-signin", url.Values{"username": {"nobody-here"}, "password": {password}}); st.Code == "" || st.User != "" {
		t.Errorf("unknown user: %+v", st)
	}
	if st := call("/api-signin", url.Values{"username": {"api-user"}, "password": {password}}); st.User != "api-user" || st.Code != "" {
		t.Errorf("sign-in: %+v", st)
	}

	st := call("/api-signin", url.Values{"username": {"api-temp"}, "password": {password}})
	if st.Challenge != "NEW_PASSWORD_REQUIRED" || len(st.Fields) == 0 || st.Fields[0] != "NEW_PASSWORD" {
		t.Fatalf("temporary password: %+v", st)
	}
	if st := call("/api-respond", url.Values{"NEW_PASSWORD": {"short"}}); st.Code != "InvalidPasswordException" {
		t.Errorf("weak new password: %+v", st)
	}
	if st := call("/api-respond", url.Values{"NEW_PASSWORD": {newPassword}}); st.User != "api-temp" || st.Code != "" || st.Challenge != "" {
		t.Errorf("new password: %+v", st)
	}
	if st := call("/api-respond", url.Values{"NEW_PASSWORD": {newPassword}}); st.Code != "ChallengeExpired" {
		t.Errorf("answering again: %+v", st)
	}

	// The form route sends challenges to ChallengePath.
	p.user(t, "api-temp2", true)
	b2 := newBrowser(t)
	csrf := b2.state(a.url + "/form").CSRF
	r := b2.postForm(a, "/api/auth/password", "/form", url.Values{"username": {"api-temp2"}, "password": {password}, "csrf": {csrf}})
	if r.url.Path != "/my-challenge" {
		t.Errorf("challenge landed on %s", r.url)
	}
}
