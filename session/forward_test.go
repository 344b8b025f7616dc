package session_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cognate-auth/cognate/session"
)

// forwarded runs the Manager's Middleware over a request with cookie and
// returns the Cookie header it would forward, and the response.
func (a *app) forwarded(cookie string) (string, *http.Response) {
	a.t.Helper()
	var got string
	h := a.m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = a.m.ForwardCookieHeader(r)
	}))
	req := httptest.NewRequest(http.MethodGet, a.url+"/", nil)
	req.Header.Set("Cookie", cookie)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return got, rec.Result()
}

// cookieMap splits a Cookie header into its pairs (the last copy wins).
func cookieMap(h string) map[string]string {
	out := map[string]string{}
	for _, p := range strings.Split(h, "; ") {
		if k, v, ok := strings.Cut(p, "="); ok {
			out[k] = v
		}
	}
	return out
}

func TestForwardCookieHeader(t *testing.T) {
	p := newIDP(t)
	a := newApp(t, p, appOpts{client: clientOpts{rotation: true}})
	p.user(t, "forward-user", false)
	b, access := a.signedIn("forward-user")
	jarHeader := b.cookieHeader(a)
	device := a.tokenName("forward-user", "deviceKey")
	sent := "theme=dark; " + jarHeader + "; " + device + "=dev-1; " + a.tokenName("forward-user", "accessToken") + ".3=stale-chunk"

	t.Run("valid session passes as it is", func(t *testing.T) {
		got, resp := a.forwarded(sent)
		c := cookieMap(got)
		if c["theme"] != "dark" || c[device] != "dev-1" {
			t.Fatalf("other cookies not passed on: %s", got)
		}
		if c[a.tokenName("forward-user", "accessToken")] != access || c[a.lastAuthName()] != "forward-user" {
			t.Fatalf("token cookies: %s", got)
		}
		if _, ok := c[a.tokenName("forward-user", "accessToken")+".3"]; ok {
			t.Fatalf("a chunk went to the app: %s", got)
		}
		if strings.Count(got, ".accessToken=") != 1 {
			t.Fatalf("access token forwarded %d times: %s", strings.Count(got, ".accessToken="), got)
		}
		if c[a.tokenName("forward-user", "refreshToken")] == "" || c[a.tokenName("forward-user", "idToken")] == "" {
			t.Fatalf("refresh or id token missing: %s", got)
		}
		if len(resp.Header.Values("Set-Cookie")) > 0 && newAccess(resp) != "" {
			t.Fatalf("nothing was due, yet tokens were written: %v", resp.Header.Values("Set-Cookie"))
		}
	})

	t.Run("refreshed tokens reach the app and the browser alike", func(t *testing.T) {
		oldRefresh := cookieMap(jarHeader)[a.tokenName("forward-user", "refreshToken")]
		a.expireAt(access, 200*time.Millisecond)
		defer a.clock.set(time.Time{})
		got, resp := a.forwarded(sent)
		c := cookieMap(got)
		fresh := newAccess(resp)
		if fresh == "" || fresh == access {
			t.Fatalf("no refresh: %v; forwarded %s", resp.Header.Values("Set-Cookie"), got)
		}
		if c[a.tokenName("forward-user", "accessToken")] != fresh {
			t.Fatalf("app got another access token than the browser")
		}
		var setRefresh string
		for _, sc := range setCookiesOf(resp) {
			if strings.HasSuffix(sc.name, ".refreshToken") && !sc.deletes() {
				setRefresh = sc.value
			}
		}
		if setRefresh == "" || setRefresh == oldRefresh || c[a.tokenName("forward-user", "refreshToken")] != setRefresh {
			t.Fatalf("rotated refresh token: browser %.12q, app %.12q, old %.12q", setRefresh, c[a.tokenName("forward-user", "refreshToken")], oldRefresh)
		}
		if resp.Header.Get("Cache-Control") != "private, no-store" {
			t.Fatalf("Cache-Control %q", resp.Header.Get("Cache-Control"))
		}
	})

	t.Run("forged tokens never reach the app", func(t *testing.T) {
		forged := strings.Replace(sent, access, access[:len(access)-4]+"AAAA", 1)
		got, _ := a.forwarded(forged)
		c := cookieMap(got)
		if strings.Contains(got, "accessToken") || strings.Contains(got, "refreshToken") || strings.Contains(got, "LastAuthUser") {
			t.Fatalf("signed-out request forwarded token cookies: %s", got)
		}
		if c["theme"] != "dark" || c[device] != "dev-1" {
			t.Fatalf("other cookies not passed on: %s", got)
		}
	})

	t.Run("outside the middleware the request is signed out", func(t *testing.T) {
		req := httptest.NewRequest(http.MethodGet, a.url+"/", nil)
		req.Header.Set("Cookie", sent)
		got := a.m.ForwardCookieHeader(req)
		if strings.Contains(got, "accessToken") || !strings.Contains(got, "theme=dark") {
			t.Fatalf("forwarded %s", got)
		}
		req.Header.Del("Cookie")
		if got := a.m.ForwardCookieHeader(req.WithContext(session.WithoutSession(req.Context()))); got != "" {
			t.Fatalf("no cookies, forwarded %q", got)
		}
	})
}

// Header-cache hits (the same Cookie header again) forward the same
// token set as the first, fully resolved request, from the entry's memo
// after the first hit; once the tokens are due, the refreshed set goes
// out, not the memo.
func TestForwardCookieHeaderFromCache(t *testing.T) {
	p := newIDP(t)
	a := newApp(t, p, appOpts{client: clientOpts{rotation: true}})
	p.user(t, "forward-cache", false)
	b, access := a.signedIn("forward-cache")
	h := "theme=dark; " + b.cookieHeader(a)
	first, _ := a.forwarded(h)
	for i := range 3 {
		if again, _ := a.forwarded(h); again != first {
			t.Fatalf("hit %d: first %s\nagain %s", i, first, again)
		}
	}
	if !strings.Contains(first, ".refreshToken=") || !strings.Contains(first, "theme=dark") {
		t.Fatalf("forwarded %s", first)
	}
	a.expireAt(access, 200*time.Millisecond)
	defer a.clock.set(time.Time{})
	got, resp := a.forwarded(h)
	fresh := newAccess(resp)
	if fresh == "" || cookieMap(got)[a.tokenName("forward-cache", "accessToken")] != fresh {
		t.Fatalf("after expiry the app got %.80q…, the browser %.20q", got, fresh)
	}
}
