package session_test

// Tests that back claims of docs/SECURITY.md which no other test proves.

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestCookieFixesAreNeverRemembered: the header cache keeps only
// resolutions that needed no cookie fix, so a Cookie header carrying a
// duplicate (or a forged) token cookie is fixed on every request that
// carries it, never served from memory without the fix.
func TestCookieFixesAreNeverRemembered(t *testing.T) {
	p := newIDP(t)
	a := newApp(t, p, appOpts{})
	p.user(t, "fixes", false)
	b, access := a.signedIn("fixes")
	acc := a.tokenName("fixes", "accessToken")
	base := b.cookieHeader(a)
	for name, header := range map[string]string{
		"duplicate": strings.Replace(base, acc+"="+access, acc+"="+access+"; "+acc+"=junk", 1),
		"forged":    strings.Replace(base, acc+"="+access, acc+"="+forge(t, access), 1),
	} {
		for i := range 3 {
			resp := a.rawGet("/", header)
			st := decode(t, resp)
			fixed := false
			for _, sc := range setCookiesOf(resp) {
				fixed = fixed || sc.name == acc
			}
			if !fixed {
				t.Errorf("%s, request %d: the access cookie was not fixed (user %q)", name, i+1, st.User)
			}
			if name == "forged" && st.User != "" {
				t.Errorf("forged, request %d: signed in as %q", i+1, st.User)
			}
		}
	}
	// The clean header, for contrast, resolves with no cookie written.
	for range 2 {
		if resp := a.rawGet("/", base); len(setCookiesOf(resp)) != 0 {
			t.Fatalf("a clean session wrote cookies: %v", resp.Header["Set-Cookie"])
		}
	}
}

// TestTokenEndpointHandsOutOnlyTheAccessToken: the token route's answer
// carries the access token and nothing of the refresh or id token.
func TestTokenEndpointHandsOutOnlyTheAccessToken(t *testing.T) {
	p := newIDP(t)
	a := newApp(t, p, appOpts{})
	p.user(t, "only-access", false)
	b, access := a.signedIn("only-access")
	jar := b.cookies(a.url)
	refresh, id := jar[a.tokenName("only-access", "refreshToken")], jar[a.tokenName("only-access", "idToken")]
	if refresh == "" || id == "" {
		t.Fatalf("signed in without a refresh (%d bytes) or id token (%d bytes)", len(refresh), len(id))
	}
	resp := a.rawGet("/api/auth/token", b.cookieHeader(a), "X-Cognate-Token", "1", "Sec-Fetch-Site", "same-origin")
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), access) {
		t.Fatalf("token route: %d %s", resp.StatusCode, body)
	}
	for name, secret := range map[string]string{"refresh token": refresh, "id token": id, "id token's signature": id[strings.LastIndexByte(id, '.')+1:]} {
		if strings.Contains(string(body), secret) {
			t.Errorf("the token route hands out the %s", name)
		}
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
