package session_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cognate-auth/cognate/session"
	"github.com/cognate-auth/cognate/userpool"
)

// TestConcurrentRefresh: 1,000 concurrent requests carrying the same
// expired session make exactly one refresh call at the issuer, and all
// of them are served signed in with the same new tokens. With rotation,
// requests that still carry the old refresh token afterwards are served
// from the memo, with no further call.
func TestConcurrentRefresh(t *testing.T) {
	for _, rotation := range []bool{false, true} {
		name := "plain"
		if rotation {
			name = "rotation"
		}
		t.Run(name, func(t *testing.T) {
			p := newIDP(t)
			a := newApp(t, p, appOpts{client: clientOpts{rotation: rotation}})
			user := "many-" + name
			p.user(t, user, false)
			b, access := a.signedIn(user)
			header := b.cookieHeader(a)
			a.expireAt(access, 200*time.Millisecond)
			before := a.stats.refreshCalls.Load()

			const n = 1000
			tr := &http.Transport{MaxIdleConnsPerHost: n}
			defer tr.CloseIdleConnections()
			var (
				wg     sync.WaitGroup
				start  = make(chan struct{})
				mu     sync.Mutex
				tokens = map[string]int{}
				bad    []string
			)
			for range n {
				wg.Go(func() {
					<-start
					req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, a.url+"/private", nil)
					req.Header.Set("Cookie", header)
					req.Header.Set("Accept", "application/json")
					resp, err := tr.RoundTrip(req)
					mu.Lock()
					defer mu.Unlock()
					if err != nil {
						bad = append(bad, err.Error())
						return
					}
					st := decode(t, resp)
					if resp.StatusCode != http.StatusOK || st.User != user {
						bad = append(bad, resp.Status+" "+st.User)
					}
					tokens[newAccess(resp)]++
				})
			}
			close(start)
			wg.Wait()
			if len(bad) > 0 {
				t.Fatalf("%d of %d requests failed, e.g. %s", len(bad), n, bad[0])
			}
			if calls := a.stats.refreshCalls.Load() - before; calls != 1 {
				t.Fatalf("%d refresh calls at the issuer, want 1", calls)
			}
			if len(tokens) != 1 || tokens[""] != 0 {
				t.Fatalf("responses wrote %d different access tokens (%v)", len(tokens), len(tokens))
			}
			// A request still on its way with the old cookies.
			resp := a.rawGet("/private", header, "Accept", "application/json")
			if st := decode(t, resp); st.User != user || newAccess(resp) == "" {
				t.Errorf("late request with the old cookies: %d %+v", resp.StatusCode, st)
			}
			if calls := a.stats.refreshCalls.Load() - before; calls != 1 {
				t.Errorf("the late request called the issuer again (%d calls)", calls)
			}
		})
	}
}

// TestIssuerDown: when the issuer cannot be reached the session is
// served until its tokens really expire, no cookie is cleared, and the
// next request tries again.
func TestIssuerDown(t *testing.T) {
	p := newIDP(t)
	a := newApp(t, p, appOpts{})
	p.user(t, "outage", false)
	b, access := a.signedIn("outage")
	header := b.cookieHeader(a)
	a.expireAt(access, -500*time.Millisecond) // due for refresh, not expired
	a.stats.down.Store(true)
	before := a.stats.refreshCalls.Load()
	for i := range 2 {
		resp := a.rawGet("/private", header, "Accept", "application/json")
		if st := decode(t, resp); resp.StatusCode != http.StatusOK || st.User != "outage" {
			t.Fatalf("request %d during the outage: %d %+v", i, resp.StatusCode, st)
		}
		if sets := resp.Header.Values("Set-Cookie"); len(sets) != 0 {
			t.Fatalf("cookies changed during the outage: %v", sets)
		}
	}
	if calls := a.stats.refreshCalls.Load() - before; calls != 2 {
		t.Errorf("%d refresh attempts, want one per request (2)", calls)
	}

	// Past the real expiry: signed out for the request, cookies kept,
	// no redirect loop (Require sends to sign-in, which goes to the issuer).
	a.expireAt(access, 200*time.Millisecond)
	resp := a.rawGet("/", header)
	if st := decode(t, resp); st.User != "" || len(resp.Header.Values("Set-Cookie")) != 0 {
		t.Fatalf("expired during the outage: %+v, Set-Cookie %v", st, resp.Header.Values("Set-Cookie"))
	}
	resp = a.rawGet("/private", header, "Accept", "text/html")
	resp.Body.Close()
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/api/auth/sign-in?redirect=") {
		t.Fatalf("Require while expired: %d %s", resp.StatusCode, loc)
	}
	resp = a.rawGet("/api/auth/sign-in?redirect=%2Fprivate", header)
	resp.Body.Close()
	if loc := resp.Header.Get("Location"); !strings.HasPrefix(loc, p.url+"/oauth2/authorize?") {
		t.Fatalf("sign-in while the session is not valid bounced to %s", loc)
	}

	// The issuer is back: the same cookies are refreshed.
	a.stats.down.Store(false)
	resp = a.rawGet("/private", header, "Accept", "application/json")
	if st := decode(t, resp); st.User != "outage" || newAccess(resp) == "" || resp.Header.Get("Cache-Control") != "private, no-store" {
		t.Fatalf("after the outage: %d %+v, Cache-Control %q", resp.StatusCode, st, resp.Header.Get("Cache-Control"))
	}
}

// TestTerminalRefresh: a refresh token revoked elsewhere ends the
// session: every token cookie is expired once, the request continues
// signed out, and sign-in does not loop.
func TestTerminalRefresh(t *testing.T) {
	p := newIDP(t)
	a := newApp(t, p, appOpts{config: func(c *session.Config) {
		c.Cookies.LegacyDomains = []string{"old.example"}
	}})
	p.user(t, "revoked", false)
	b, access := a.signedIn("revoked")
	rt := b.cookies(a.url)[a.tokenName("revoked", "refreshToken")]
	if _, err := p.srv.Service().RevokeToken(context.Background(), userpool.RevokeTokenInput{Token: rt, ClientId: a.client}); err != nil {
		t.Fatalf("RevokeToken: %v", err)
	}
	a.expireAt(access, 200*time.Millisecond)
	before := a.stats.refreshCalls.Load()

	if st := b.state(a.url + "/"); st.User != "" {
		t.Fatalf("a revoked session is served: %+v", st)
	}
	deleted := map[string]int{}
	for _, l := range b.takeSets() {
		sc := parseSet(l)
		if !sc.deletes() {
			t.Errorf("terminal refresh wrote %s", sc.name)
		}
		deleted[sc.name+" "+sc.attrs["domain"]]++
	}
	for _, key := range []string{"accessToken", "idToken", "refreshToken", "clockDrift"} {
		for _, dom := range []string{"", "old.example"} {
			if n := deleted[a.tokenName("revoked", key)+" "+dom]; n != 1 {
				t.Errorf("%s (domain %q) expired %d times, want 1", key, dom, n)
			}
		}
	}
	if deleted[a.lastAuthName()+" "] != 1 {
		t.Errorf("LastAuthUser not expired: %v", deleted)
	}

	// The browser applied that; a page that needs the user sends it to
	// sign-in, which goes to the issuer's login page and stays there.
	for name := range b.cookies(a.url) {
		if strings.HasPrefix(name, "CognitoIdentityServiceProvider.") {
			t.Errorf("cookie %s left in the browser", name)
		}
	}
	landed := b.get(a.url+"/private", "Accept", "text/html")
	if landed.url.Path != "/login" {
		t.Errorf("after the session ended, /private landed on %s", landed.url)
	}
	if calls := a.stats.refreshCalls.Load() - before; calls != 1 {
		t.Errorf("%d refresh calls, want 1", calls)
	}
}

// TestRefreshOnDemand: Refresh before the body refreshes and updates
// FromContext; after it returns ErrHeadersWritten; ForceRefresh picks up
// a new group at once.
func TestRefreshOnDemand(t *testing.T) {
	p := newIDP(t)
	a := newApp(t, p, appOpts{})
	p.user(t, "ondemand", false)
	b, access := a.signedIn("ondemand")

	if r := b.get(a.url + "/late"); r.body != "started" {
		t.Fatalf("/late: %s", r.body)
	}
	if got := a.lateErr.Load(); got != session.ErrHeadersWritten.Error() {
		t.Errorf("Refresh after the body: %v, want ErrHeadersWritten", got)
	}
	if len(b.takeSets()) != 0 {
		t.Errorf("a refresh after the headers set cookies")
	}

	st := b.state(a.url + "/refresh-now")
	if st.Err != "<nil>" || st.Access == access || st.Access == "" {
		t.Errorf("Refresh before the body: err %s, token changed %v", st.Err, st.Access != access)
	}
	if got := b.state(a.url + "/").Access; got != st.Access {
		t.Errorf("the refreshed cookies were not set")
	}

	ctx := context.Background()
	p.srv.Service().CreateGroup(ctx, userpool.CreateGroupInput{UserPoolId: p.pool, GroupName: "admin"})
	if _, err := p.srv.Service().AdminAddUserToGroup(ctx, userpool.AdminGroupMembershipInput{
		UserPoolId: p.pool, Username: "ondemand", GroupName: "admin",
	}); err != nil {
		t.Fatal(err)
	}
	if r := b.get(a.url+"/admin", "Accept", "application/json"); r.status != http.StatusForbidden {
		t.Errorf("/admin before the refresh: %d", r.status)
	}
	if st := b.state(a.url + "/fresh"); len(st.Groups) != 1 || st.Groups[0] != "admin" {
		t.Errorf("ForceRefresh: groups %v", st.Groups)
	}
	if r := b.get(a.url+"/admin", "Accept", "application/json"); r.status != http.StatusOK {
		t.Errorf("/admin after the refresh: %d %s", r.status, r.body)
	}
}

// TestRepeatedHeaderFollowsTheClock: a Cookie header seen before (and
// remembered with its session) is still refreshed once its tokens are
// due or expired, also when a negative clockDrift cookie would put
// Amplify's refresh limit before the token's expiry.
func TestRepeatedHeaderFollowsTheClock(t *testing.T) {
	p := newIDP(t)
	a := newApp(t, p, appOpts{})
	for _, tc := range []struct {
		name  string
		drift string
		after time.Duration // past the access token's exp
	}{
		{"due", "", -time.Second},
		{"expired, negative drift", "-300000", 500 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			user := "repeat-" + strings.ReplaceAll(strings.Fields(tc.name)[0], ",", "")
			p.user(t, user, false)
			b, access := a.signedIn(user)
			header := b.cookieHeader(a)
			if tc.drift != "" {
				// First, so that it wins over the one the server wrote.
				header = a.tokenName(user, "clockDrift") + "=" + tc.drift + "; " + header
			}
			for range 3 {
				if st := decode(t, a.rawGet("/", header)); st.User != user || st.Access != access {
					t.Fatalf("before expiry: %+v", st)
				}
			}
			a.expireAt(access, tc.after)
			r := a.rawGet("/", header)
			st := decode(t, r)
			if st.User != user || st.Access == access || st.Access == "" {
				t.Fatalf("after expiry the remembered header gave %q with the old token %v (%d, %v)", st.User, st.Access == access, r.StatusCode, r.Header["Set-Cookie"])
			}
			if len(r.Cookies()) == 0 {
				t.Fatal("refreshed without setting cookies")
			}
			a.clock.set(time.Now())
		})
	}
}
