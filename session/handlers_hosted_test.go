package session_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/cognate-auth/cognate/session"
	"github.com/cognate-auth/cognate/userpool"
)

// TestHostedSignInAndOut drives the whole hosted flow through Cognate's
// login page and checks every cookie the app writes.
func TestHostedSignInAndOut(t *testing.T) {
	p := newIDP(t)
	a := newApp(t, p, appOpts{})
	p.user(t, "ada", false)
	b := newBrowser(t)

	start := b.get(a.url+a.m.SignInURL("/private?tab=1"), "Accept", "text/html")
	if start.url.Path != "/login" {
		t.Fatalf("sign-in landed on %s", start.url)
	}
	var flowSets []string
	for _, l := range b.takeSets() {
		if strings.HasPrefix(l, "cognate.flow.") {
			flowSets = append(flowSets, l)
		}
	}
	if len(flowSets) != 1 {
		t.Fatalf("sign-in set %d cookies, want the flow cookie: %v", len(flowSets), flowSets)
	}
	flow := parseSet(flowSets[0])
	if !strings.HasPrefix(flow.name, "cognate.flow.") || flow.attrs["max-age"] != "300" || flow.attrs["samesite"] != "Lax" ||
		!has(flow.attrs, "httponly") || flow.attrs["path"] != "/" || has(flow.attrs, "domain") {
		t.Errorf("flow cookie %q", flowSets[0])
	}

	bounce := b.submitLogin(start, "ada", password)
	if ct := bounce.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") || !strings.Contains(bounce.body, "window.location.replace(") {
		t.Errorf("bounce page: %s\n%s", ct, bounce.body)
	}
	if cc := bounce.header.Get("Cache-Control"); cc != "private, no-store" {
		t.Errorf("callback Cache-Control %q", cc)
	}
	checkSignInCookies(t, a, b.takeSets(), flow.name)
	landed := b.followBounce(bounce)
	var st pageState
	json.Unmarshal([]byte(landed.body), &st)
	if landed.url.Path != "/private" || landed.url.RawQuery != "tab=1" || st.User != "ada" || st.Email != "ada@example.com" {
		t.Fatalf("landed on %s as %+v", landed.url, st)
	}
	if _, ok := b.cookies(a.url)[flow.name]; ok {
		t.Errorf("the flow cookie outlived the callback")
	}

	// Signed in: sign-in goes straight back, without the issuer.
	again := b.get(a.url + a.m.SignInURL("/private"))
	if again.url.String() != a.url+"/private" {
		t.Errorf("sign-in while signed in landed on %s", again.url)
	}

	// Sign-out: revoked, cleared, pool session ended.
	rt := b.cookies(a.url)[a.tokenName("ada", "refreshToken")]
	out := b.get(a.url + a.m.SignOutURL())
	if out.url.String() != a.url+"/" {
		t.Errorf("sign-out landed on %s", out.url)
	}
	for name := range b.cookies(a.url) {
		if strings.HasPrefix(name, "CognitoIdentityServiceProvider.") {
			t.Errorf("cookie %s survived sign-out", name)
		}
	}
	if _, err := p.srv.Service().GetTokensFromRefreshToken(t.Context(), userpool.GetTokensFromRefreshTokenInput{
		ClientId: a.client, RefreshToken: rt,
	}); err == nil {
		t.Errorf("the refresh token still works after sign-out")
	}
	relogin := b.get(a.url + a.m.SignInURL("/"))
	if relogin.url.Path != "/login" {
		t.Errorf("after sign-out, sign-in landed on %s (pool session not ended?)", relogin.url)
	}
}

// checkSignInCookies checks the token cookies a sign-in wrote: every
// name, with the policy's attributes.
func checkSignInCookies(t *testing.T, a *app, lines []string, flowName string) {
	t.Helper()
	sets := map[string]setCookie{}
	for _, l := range lines {
		if sc := parseSet(l); strings.HasPrefix(sc.name, "CognitoIdentityServiceProvider.") || strings.HasPrefix(sc.name, "cognate.") {
			if !sc.deletes() {
				sets[sc.name] = sc
			} else if sc.name != flowName && sets[sc.name].name != "" {
				t.Errorf("%s written and then deleted", sc.name)
			}
		}
	}
	for _, name := range []string{a.lastAuthName(), a.tokenName("ada", "accessToken"), a.tokenName("ada", "idToken"),
		a.tokenName("ada", "refreshToken"), a.tokenName("ada", "clockDrift")} {
		sc, ok := sets[name]
		if !ok {
			t.Errorf("no %s cookie written", name)
			continue
		}
		if sc.attrs["path"] != "/" || sc.attrs["samesite"] != "Strict" || !has(sc.attrs, "httponly") ||
			has(sc.attrs, "secure") || has(sc.attrs, "domain") || sc.attrs["max-age"] != "31536000" {
			t.Errorf("%s attributes %v", name, sc.attrs)
		}
	}
	if v := sets[a.lastAuthName()].value; v != "ada" {
		t.Errorf("LastAuthUser %q", v)
	}

}

func has(m map[string]string, k string) bool { _, ok := m[k]; return ok }

// TestSignInParameters checks the authorize request: PKCE S256, state
// bound to a per-flow cookie, provider and lang, and that two tabs can
// sign in at once.
func TestSignInParameters(t *testing.T) {
	p := newIDP(t)
	a := newApp(t, p, appOpts{})
	p.user(t, "tabs", false)
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, tc := range []struct {
		query, provider, lang string
		status                int
	}{
		{"provider=google&lang=fr", "Google", "fr", http.StatusFound},
		{"provider=facebook", "Facebook", "", http.StatusFound},
		{"provider=amazon", "LoginWithAmazon", "", http.StatusFound},
		{"provider=apple", "SignInWithApple", "", http.StatusFound},
		{"provider=MyOIDC", "MyOIDC", "", http.StatusFound},
		{"provider=%3Cscript%3E", "", "", http.StatusBadRequest},
		{"lang=%22%3E%3Cx", "", "", http.StatusFound},
	} {
		resp, err := noFollow.Get(a.url + "/api/auth/sign-in?" + tc.query)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.status {
			t.Errorf("%s: status %d, want %d", tc.query, resp.StatusCode, tc.status)
			continue
		}
		if tc.status != http.StatusFound {
			continue
		}
		loc, _ := url.Parse(resp.Header.Get("Location"))
		q := loc.Query()
		if loc.Path != "/oauth2/authorize" || q.Get("code_challenge_method") != "S256" || len(q.Get("code_challenge")) != 43 ||
			q.Get("client_id") != a.client || q.Get("redirect_uri") != a.url+"/api/auth/sign-in-callback" ||
			q.Get("identity_provider") != tc.provider || q.Get("lang") != tc.lang || q.Get("response_type") != "code" {
			t.Errorf("%s: authorize URL %s", tc.query, loc)
		}
		flowID, _, _ := strings.Cut(q.Get("state"), ".")
		if !strings.Contains(resp.Header.Get("Set-Cookie"), "cognate.flow."+flowID+"=") {
			t.Errorf("%s: state %q not bound to the flow cookie %q", tc.query, q.Get("state"), resp.Header.Get("Set-Cookie"))
		}
	}

	resp, err := noFollow.Get(a.url + "/api/auth/sign-up?redirect=%2Fwelcome")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if loc, _ := url.Parse(resp.Header.Get("Location")); loc == nil || loc.Path != "/signup" || loc.Query().Get("code_challenge_method") != "S256" {
		t.Errorf("sign-up: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}

	// Two tabs start a sign-in; the second one finishes first, then the
	// first: both complete.
	b := newBrowser(t)
	tab1 := b.get(a.url + a.m.SignInURL("/one"))
	tab2 := b.get(a.url + a.m.SignInURL("/two"))
	if got := b.followBounce(b.submitLogin(tab2, "tabs", password)); got.url.Path != "/two" {
		t.Errorf("tab 2 landed on %s", got.url)
	}
	if got := b.followBounce(b.submitLogin(tab1, "tabs", password)); got.url.Path != "/one" {
		t.Errorf("tab 1 landed on %s", got.url)
	}
}

// TestRedirectTargets: only same-origin paths survive as return targets.
func TestRedirectTargets(t *testing.T) {
	p := newIDP(t)
	a := newApp(t, p, appOpts{})
	p.user(t, "red", false)
	b := newBrowser(t)
	b.passwordSignIn(a, "red", password, "/")
	noFollow := &http.Client{Jar: b.c.Jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for target, want := range map[string]string{
		"/ok?a=1":              "/ok?a=1",
		"//evil.example":       "/",
		"/\\evil.example":      "/",
		"https://evil.example": "/",
		"javascript:alert(1)":  "/",
		"/a\tb":                "/",
		"/a\r\nSet-Cookie: x":  "/",
		"":                     "/",
	} {
		resp, err := noFollow.Get(a.url + "/api/auth/sign-in?redirect=" + url.QueryEscape(target))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := resp.Header.Get("Location"); resp.StatusCode != http.StatusFound || got != want {
			t.Errorf("redirect=%q: %d Location %q, want %q", target, resp.StatusCode, got, want)
		}
	}
	if got := a.m.SignInURL("//evil.example"); got != "/api/auth/sign-in" {
		t.Errorf("SignInURL kept an unsafe target: %s", got)
	}
}

// TestCallbackErrors: every way a callback can be wrong ends on a clear
// 4xx (or 502) page, never a 500 or a session.
func TestCallbackErrors(t *testing.T) {
	p := newIDP(t)
	a := newApp(t, p, appOpts{})
	p.user(t, "cb", false)
	cb := a.url + "/api/auth/sign-in-callback"

	// A flow that reached the issuer's answer: its callback URL.
	b := newBrowser(t)
	cu := b.issuerAnswer(a, "cb")
	callback := cu.String()
	state := cu.Query().Get("state")

	for _, tc := range []struct {
		name, url string
		status    int
		text      string
	}{
		{"issuer error", cb + "?error=access_denied&error_description=" + url.QueryEscape("<b>no</b>") + "&state=" + state, 400, "Access was denied"},
		{"no code", cb + "?state=" + state, 400, "incomplete"},
		{"no flow cookie", cb + "?code=x&state=AAAAAAAAAAAAAAAAAAAAAA.zz", 400, "longer than 5 minutes"},
		{"garbage state", cb + "?code=x&state=%00%ff", 400, "longer than 5 minutes"},
	} {
		r := b.get(tc.url)
		if r.status != tc.status || !strings.Contains(r.body, tc.text) || strings.Contains(r.body, "<b>no</b>") {
			t.Errorf("%s: %d\n%s", tc.name, r.status, r.body)
		}
	}
	// The error answer consumed the flow cookie: the real callback is now
	// a replay.
	if r := b.get(callback); r.status != 400 || !strings.Contains(r.body, "longer than 5 minutes") || !strings.Contains(r.body, "/api/auth/sign-in") {
		t.Errorf("callback after its flow ended: %d\n%s", r.status, r.body)
	}

	// State mismatch: a fresh flow, answered with a forged tag.
	q := b.issuerAnswer(a, "cb").Query()
	flowID, _, _ := strings.Cut(q.Get("state"), ".")
	if r := b.get(cb + "?code=" + q.Get("code") + "&state=" + flowID + ".forged"); r.status != 400 || !strings.Contains(r.body, "does not belong") {
		t.Errorf("state mismatch: %d\n%s", r.status, r.body)
	}

	// A code that is refused (already used): a 400 page. The issuer down
	// during the exchange: 502.
	for _, down := range []bool{false, true} {
		q = b.issuerAnswer(a, "cb").Query()
		want := http.StatusBadRequest
		if down {
			a.stats.down.Store(true)
			want = http.StatusBadGateway
		} else {
			q.Set("code", "not-a-code")
		}
		r := b.get(cb + "?" + q.Encode())
		a.stats.down.Store(false)
		if r.status != want || !strings.Contains(r.body, "Sign in again") {
			t.Errorf("down=%v: %d\n%s", down, r.status, r.body)
		}
	}
	if st := b.state(a.url + "/"); st.User != "" {
		t.Errorf("a failed callback signed in %q", st.User)
	}
}

// TestHostedNotConfigured: without OAuthDomain the hosted routes are
// absent.
func TestHostedNotConfigured(t *testing.T) {
	p := newIDP(t)
	a := newApp(t, p, appOpts{config: func(c *session.Config) { c.OAuthDomain = "" }})
	for _, path := range []string{"sign-in", "sign-up", "sign-in-callback?code=x&state=y"} {
		r := a.rawGet("/api/auth/"+path, "")
		r.Body.Close()
		if r.StatusCode != http.StatusNotFound {
			t.Errorf("%s: %d", path, r.StatusCode)
		}
	}
	r := a.rawGet("/api/auth/nope", "")
	r.Body.Close()
	if r.StatusCode != http.StatusNotFound {
		t.Errorf("unknown route: %d", r.StatusCode)
	}
}
