package session_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/cognate-auth/cognate/issuerclient"
	"github.com/cognate-auth/cognate/session"
	"github.com/cognate-auth/cognate/userpool"
)

// TestUsernameEncoding: usernames with @, +, parentheses and non-ASCII
// letters travel in cookie names and values exactly as js-cookie (which
// aws-amplify uses in the browser) writes them, and read back.
func TestUsernameEncoding(t *testing.T) {
	p := newIDP(t)
	a := newApp(t, p, appOpts{})
	for _, tc := range []struct {
		user, wireName, wireValue string
	}{
		{"ada+test@example.com", "ada+test%40example.com", "ada+test@example.com"},
		{"zoë", "zo%C3%AB", "zo%C3%AB"},
		{"o'brien(x)", "o'brien%28x%29", "o'brien(x)"},
		{"a#b$c&d^e`f|g~h!i*j", "a#b$c&d^e`f|g~h!i*j", "a#b$c&d^e`f|g~h!i*j"},
		{"名前", "%E5%90%8D%E5%89%8D", "%E5%90%8D%E5%89%8D"},
	} {
		p.user(t, tc.user, false)
		b := newBrowser(t)
		if r := b.passwordSignIn(a, tc.user, password, "/"); r.status != http.StatusOK {
			t.Fatalf("%s: sign-in %d", tc.user, r.status)
		}
		sets := map[string]string{}
		for _, l := range b.takeSets() {
			if sc := parseSet(l); !sc.deletes() {
				sets[sc.name] = sc.value
			}
		}
		if got := sets[a.lastAuthName()]; got != tc.wireValue {
			t.Errorf("%s: LastAuthUser on the wire %q, want %q", tc.user, got, tc.wireValue)
		}
		for _, key := range []string{"accessToken", "idToken", "refreshToken", "clockDrift", "signInDetails"} {
			if _, ok := sets[a.tokenName(tc.wireName, key)]; !ok {
				t.Errorf("%s: no cookie named %s", tc.user, a.tokenName(tc.wireName, key))
			}
		}
		if st := b.state(a.url + "/"); st.User != tc.user {
			t.Errorf("%s: read back as %q", tc.user, st.User)
		}
		// Next.js' cookies() writes values with encodeURIComponent: the
		// same session, LastAuthUser fully escaped, still reads.
		header := strings.Replace(b.cookieHeader(a), a.lastAuthName()+"="+tc.wireValue,
			a.lastAuthName()+"="+url.PathEscape(tc.user), 1)
		if st := decode(t, a.rawGet("/", header)); st.User != tc.user {
			t.Errorf("%s: with an encodeURIComponent LastAuthUser: %q", tc.user, st.User)
		}
	}
}

// TestSignInDetailsEncoding: signInDetails is JSON, with js-cookie's
// value encoding (quotes and commas escaped, the rest kept).
func TestSignInDetailsEncoding(t *testing.T) {
	p := newIDP(t)
	a := newApp(t, p, appOpts{})
	p.user(t, "details", false)
	b := newBrowser(t)
	b.passwordSignIn(a, "details", password, "/")
	want := `{%22loginId%22:%22details%22%2C%22authFlowType%22:%22USER_SRP_AUTH%22}`
	for _, l := range b.takeSets() {
		if sc := parseSet(l); sc.name == a.tokenName("details", "signInDetails") && sc.value != want {
			t.Errorf("signInDetails %q, want %q", sc.value, want)
		}
	}
}

// TestDuplicateCookies: the copy that verifies (the newest) wins, is
// rewritten through the policy, and every other variant is expired;
// duplicated refresh tokens are tried in turn.
func TestDuplicateCookies(t *testing.T) {
	p := newIDP(t)
	a := newApp(t, p, appOpts{config: func(c *session.Config) {
		c.Cookies.LegacyDomains = []string{"legacy.example"}
		c.Cookies.LegacyPaths = []string{"/app"}
	}})
	p.user(t, "dup", false)
	old, oldAccess := a.signedIn("dup")
	a.waitPastIat(oldAccess)
	cur, curAccess := a.signedIn("dup")
	acc := a.tokenName("dup", "accessToken")
	base := cur.cookieHeader(a)

	for name, access := range map[string]string{
		"older first":  oldAccess + "; " + acc + "=" + curAccess,
		"newer first":  curAccess + "; " + acc + "=" + oldAccess,
		"forged first": forge(t, curAccess) + "; " + acc + "=" + curAccess,
		"junk second":  curAccess + "; " + acc + "=junk",
	} {
		header := strings.Replace(base, acc+"="+curAccess, acc+"="+access, 1)
		resp := a.rawGet("/", header)
		st := decode(t, resp)
		if st.Access != curAccess {
			t.Errorf("%s: the session uses another access token", name)
		}
		var set, dels int
		for _, sc := range setCookiesOf(resp) {
			if sc.name != acc {
				continue
			}
			if sc.deletes() {
				dels++
				if sc.attrs["domain"] == "" && sc.attrs["path"] == "/" {
					t.Errorf("%s: the policy's own variant was expired", name)
				}
			} else if set++; sc.value != curAccess || sc.attrs["path"] != "/" || has(sc.attrs, "domain") {
				t.Errorf("%s: rewrote %v", name, sc)
			}
		}
		// Variants: (host, /app), (legacy, /), (legacy, /app).
		if set != 1 || dels != 3 {
			t.Errorf("%s: access cookie written %d times and expired %d times, want 1 and 3", name, set, dels)
		}
	}

	// LastAuthUser twice: the user whose tokens verify wins.
	la := a.lastAuthName()
	header := strings.Replace(base, la+"=dup", la+"=ghost; "+la+"=dup", 1)
	if st := decode(t, a.rawGet("/", header)); st.User != "dup" {
		t.Errorf("LastAuthUser ghost + dup: %q", st.User)
	}

	// Two refresh tokens, the first revoked: the second refreshes.
	rtName := a.tokenName("dup", "refreshToken")
	oldRT := old.cookies(a.url)[rtName]
	if _, err := p.srv.Service().RevokeToken(context.Background(), userpool.RevokeTokenInput{Token: oldRT, ClientId: a.client}); err != nil {
		t.Fatal(err)
	}
	header = strings.Replace(base, rtName+"=", rtName+"="+oldRT+"; "+rtName+"=", 1)
	a.expireAt(curAccess, 200*time.Millisecond)
	resp := a.rawGet("/", header)
	if st := decode(t, resp); st.User != "dup" || newAccess(resp) == "" {
		t.Errorf("with a revoked and a good refresh token: %+v", st)
	}
}

// forge re-signs nothing: it swaps the payload of a real token for one
// naming another user, keeping the signature.
func forge(t *testing.T, token string) string {
	parts := strings.Split(token, ".")
	return parts[0] + "." + b64(`{"sub":"x","username":"mallory","token_use":"access","exp":4102444800}`) + "." + parts[2]
}

// TestChunking: an id token too big for one cookie is stored in chunks
// (ModeServer), joined on read, and the chunks are expired once the
// token fits again.
func TestChunking(t *testing.T) {
	p := newIDP(t)
	a := newApp(t, p, appOpts{})
	bio := strings.Repeat("long biography ", 140)[:2000]
	p.user(t, "chunky", false,
		userpool.AttributeType{Name: "custom:bio", Value: bio},
		userpool.AttributeType{Name: "custom:motto", Value: strings.Repeat("m", 2000)})
	b := newBrowser(t)
	b.passwordSignIn(a, "chunky", password, "/")
	idName := a.tokenName("chunky", "idToken")
	chunks := 0
	for _, l := range b.takeSets() {
		sc := parseSet(l)
		switch {
		case sc.name == idName && !strings.HasPrefix(sc.value, "%chunks:"):
			t.Fatalf("id token not chunked (%d bytes)", len(sc.value))
		case strings.HasPrefix(sc.name, idName+".") && !sc.deletes():
			chunks++
			if len(sc.name)+len(sc.value) > 4000 || !has(sc.attrs, "httponly") {
				t.Errorf("chunk %s: %d bytes, attrs %v", sc.name, len(sc.name)+len(sc.value), sc.attrs)
			}
		}
	}
	if chunks < 2 {
		t.Fatalf("%d chunks", chunks)
	}
	st := b.state(a.url + "/")
	if st.User != "chunky" || st.Bio != bio {
		t.Fatalf("chunked session reads as %q, bio of %d bytes", st.User, len(st.Bio))
	}

	// A stale extra chunk does not corrupt the token.
	header := b.cookieHeader(a) + "; " + idName + ".9=stale"
	if st := decode(t, a.rawGet("/", header)); st.Bio != bio {
		t.Errorf("a stale chunk broke the token")
	}

	// Shrink the token: the chunks go.
	if _, err := p.srv.Service().UpdateUserAttributes(context.Background(), userpool.UpdateUserAttributesInput{
		AccessToken: st.Access, UserAttributes: []userpool.AttributeType{{Name: "custom:bio", Value: "short"}, {Name: "custom:motto", Value: "m"}},
	}); err != nil {
		t.Fatal(err)
	}
	if st := b.state(a.url + "/refresh-now"); st.Err != "<nil>" || st.Bio != "short" {
		t.Fatalf("refresh after shrinking: %+v", st)
	}
	for name := range b.cookies(a.url) {
		if strings.HasPrefix(name, idName+".") {
			t.Errorf("chunk %s survived", name)
		}
	}
	if st := b.state(a.url + "/"); st.Bio != "short" {
		t.Errorf("after shrinking: bio %q", st.Bio)
	}
}

// TestClientMode: cookies written by aws-amplify in the browser are read,
// refreshed and written back in the same format, never HttpOnly.
func TestClientMode(t *testing.T) {
	p := newIDP(t)
	a := newApp(t, p, appOpts{mode: session.ModeClient})
	p.user(t, "amp@example.com", false)
	ic, err := issuerclient.New(issuerclient.Config{UserPoolID: p.pool, ClientID: a.client, Endpoint: p.url, HTTPClient: session.InProcess(p.handler)})
	if err != nil {
		t.Fatal(err)
	}
	res, err := ic.SignInSRP(context.Background(), "amp@example.com", password)
	if err != nil || res.Tokens == nil {
		t.Fatalf("SignInSRP: %v %+v", err, res)
	}
	// What js-cookie writes for Amplify's TokenStore.
	pre := "CognitoIdentityServiceProvider." + a.client + "."
	details := `{%22loginId%22:%22amp@example.com%22%2C%22authFlowType%22:%22USER_SRP_AUTH%22}`
	header := strings.Join([]string{
		pre + "LastAuthUser=amp@example.com",
		pre + "amp%40example.com.accessToken=" + res.Tokens.AccessToken,
		pre + "amp%40example.com.idToken=" + res.Tokens.IDToken,
		pre + "amp%40example.com.refreshToken=" + res.Tokens.RefreshToken,
		pre + "amp%40example.com.clockDrift=0",
		pre + "amp%40example.com.signInDetails=" + details,
	}, "; ")
	resp := a.rawGet("/", header)
	if st := decode(t, resp); st.User != "amp@example.com" || len(resp.Header.Values("Set-Cookie")) != 0 {
		t.Fatalf("Amplify's cookies: %+v, Set-Cookie %v", st, resp.Header.Values("Set-Cookie"))
	}
	a.expireAt(res.Tokens.AccessToken, 200*time.Millisecond)
	resp = a.rawGet("/", header)
	if st := decode(t, resp); st.User != "amp@example.com" {
		t.Fatalf("after expiry: %+v", st)
	}
	got := map[string]setCookie{}
	for _, sc := range setCookiesOf(resp) {
		got[sc.name] = sc
		if has(sc.attrs, "httponly") || sc.attrs["samesite"] != "Lax" || sc.attrs["path"] != "/" {
			t.Errorf("%s: attributes %v", sc.name, sc.attrs)
		}
	}
	for _, key := range []string{"accessToken", "idToken", "refreshToken", "clockDrift"} {
		if sc, ok := got[pre+"amp%40example.com."+key]; !ok || sc.value == "" {
			t.Errorf("refresh did not write %s", key)
		}
	}
	if got[pre+"amp%40example.com.signInDetails"].value != details {
		t.Errorf("signInDetails rewritten as %q", got[pre+"amp%40example.com.signInDetails"].value)
	}
	if got[pre+"LastAuthUser"].value != "amp@example.com" {
		t.Errorf("LastAuthUser rewritten as %q", got[pre+"LastAuthUser"].value)
	}
}

// TestSignOutClearsEveryVariant: sign-out expires each token cookie under
// the policy and every legacy domain and path, works without a refresh
// token, and refuses to be triggered by another site.
func TestSignOutClearsEveryVariant(t *testing.T) {
	p := newIDP(t)
	a := newApp(t, p, appOpts{config: func(c *session.Config) {
		c.Cookies.Domain = "127.0.0.1"
		c.Cookies.LegacyDomains = []string{"legacy.example"}
		c.Cookies.LegacyPaths = []string{"/old"}
	}})
	p.user(t, "leaver", false)
	b, _ := a.signedIn("leaver")
	header := b.cookieHeader(a)
	noFollow := func(req *http.Request) *http.Response {
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	req := func(method string, hdr ...string) *http.Request {
		r, _ := http.NewRequest(method, a.url+"/api/auth/sign-out", nil)
		r.Header.Set("Cookie", header)
		for i := 0; i+1 < len(hdr); i += 2 {
			r.Header.Set(hdr[i], hdr[i+1])
		}
		return r
	}

	// Another site: a confirmation page, nothing cleared; a cross-site POST
	// is refused.
	resp := noFollow(req(http.MethodGet, "Sec-Fetch-Site", "cross-site"))
	if resp.StatusCode != http.StatusOK || len(resp.Header.Values("Set-Cookie")) != 0 {
		t.Errorf("cross-site sign-out: %d, Set-Cookie %v", resp.StatusCode, resp.Header.Values("Set-Cookie"))
	}
	if resp := noFollow(req(http.MethodPost, "Origin", "https://evil.example")); resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site POST sign-out: %d", resp.StatusCode)
	}

	resp = noFollow(req(http.MethodPost, "Origin", a.url, "Sec-Fetch-Site", "same-origin"))
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || loc.Path != "/logout" || loc.Query().Get("client_id") != a.client ||
		loc.Query().Get("logout_uri") != a.url+"/api/auth/sign-out-callback" {
		t.Errorf("sign-out: %d %s", resp.StatusCode, loc)
	}
	dels := map[string]int{}
	for _, sc := range setCookiesOf(resp) {
		if !sc.deletes() {
			t.Errorf("sign-out wrote %s", sc.name)
		}
		dels[sc.name]++
	}
	for _, key := range []string{"accessToken", "idToken", "refreshToken", "clockDrift", "signInDetails"} {
		// Domains 127.0.0.1, host-only, legacy.example × paths /, /old.
		if n := dels[a.tokenName("leaver", key)]; n != 6 {
			t.Errorf("%s expired in %d variants, want 6", key, n)
		}
	}

	// Without a refresh token (or any cookie) sign-out still ends the
	// pool session and clears what there is.
	resp = noFollow(func() *http.Request { r := req(http.MethodGet); r.Header.Del("Cookie"); return r }())
	if resp.StatusCode != http.StatusFound || !strings.Contains(resp.Header.Get("Location"), "/logout?") || dels[a.lastAuthName()] == 0 {
		t.Errorf("sign-out without cookies: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	cb := a.rawGet("/api/auth/sign-out-callback", "")
	cb.Body.Close()
	if cb.StatusCode != http.StatusFound || cb.Header.Get("Location") != "/" {
		t.Errorf("sign-out-callback: %d %s", cb.StatusCode, cb.Header.Get("Location"))
	}
}
