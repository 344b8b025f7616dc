package session_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/cognate-auth/cognate/session"
)

// TestAttributesAndStatic: FetchUserAttributes asks the issuer; a
// WithoutSession context has no user even with session cookies.
func TestAttributesAndStatic(t *testing.T) {
	p := newIDP(t)
	a := newApp(t, p, appOpts{})
	p.user(t, "attr-user", false)
	b, _ := a.signedIn("attr-user")
	if st := b.state(a.url + "/attrs"); st.Err != "<nil>" || st.Email != "attr-user@example.com" {
		t.Errorf("FetchUserAttributes: %+v", st)
	}
	if st := newBrowser(t).state(a.url + "/attrs"); !strings.Contains(st.Err, session.ErrNoSession.Error()) {
		t.Errorf("FetchUserAttributes signed out: %+v", st)
	}

	static := a.m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if session.FromContext(r.Context()) != nil {
			t.Errorf("a session under WithoutSession")
		}
		req, _ := http.NewRequestWithContext(r.Context(), http.MethodGet, "http://api.example/", nil)
		if _, err := a.m.Transport(nil).RoundTrip(req); err != session.ErrNoSession {
			t.Errorf("Transport under WithoutSession: %v", err)
		}
	}))
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.Header.Set("Cookie", b.cookieHeader(a))
	rec := httptest.NewRecorder()
	static.ServeHTTP(rec, req.WithContext(session.WithoutSession(req.Context())))
	if len(rec.Header().Values("Set-Cookie")) != 0 {
		t.Errorf("the Middleware touched cookies under WithoutSession")
	}
}
