package session_test

import (
	"strings"
	"testing"
	"time"

	"github.com/cognate-auth/cognate/session"
)

// TestTransport: backend calls carry the user's access token, refreshed
// first when it expired while the handler ran; without a user nothing is
// sent.
func TestTransport(t *testing.T) {
	p := newIDP(t)
	a := newApp(t, p, appOpts{})
	p.user(t, "backend", false)
	b, access := a.signedIn("backend")
	if st := b.state(a.url + "/backend"); st.Bearer != "Bearer "+access {
		t.Errorf("backend got %q, want the session's token", st.Bearer)
	}
	_, exp := jwtTimes(t, access)
	a.waitPastIat(access)
	advance := func() { a.clock.set(exp.Add(200 * time.Millisecond)) }
	a.hook.Store(&advance)
	st := b.state(a.url + "/backend")
	a.hook.Store(nil)
	if st.Err != "" || st.Bearer == "Bearer "+access || !strings.HasPrefix(st.Bearer, "Bearer ey") {
		t.Errorf("after expiry mid-request: err %q, bearer changed %v", st.Err, st.Bearer != "Bearer "+access)
	}
	if got := b.state(a.url + "/").Access; "Bearer "+got != st.Bearer {
		t.Errorf("the token refreshed by the transport was not stored")
	}

	// Expired after the response started: the call is refused rather
	// than made with a token whose refresh could not be stored. (A fresh
	// session: the clockDrift cookie of the one above measured the test's
	// clock jump.)
	a.clock.set(time.Time{})
	b3, current := a.signedIn("backend")
	_, exp = jwtTimes(t, current)
	a.waitPastIat(current)
	later := func() { a.clock.set(exp.Add(200 * time.Millisecond)) }
	a.hook.Store(&later)
	b3.get(a.url + "/backend-after-body")
	a.hook.Store(nil)
	if got, _ := a.lateErr.Load().(string); !strings.Contains(got, session.ErrHeadersWritten.Error()) {
		t.Errorf("backend call after the body with an expired token: %v", got)
	}

	anon := newBrowser(t)
	if st := anon.state(a.url + "/backend"); !strings.Contains(st.Err, session.ErrNoSession.Error()) || st.Bearer != "" {
		t.Errorf("signed out: %+v", st)
	}
}
