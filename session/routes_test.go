package session_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cognate-auth/cognate/session"
)

// TestTokenEndpoint: the access token goes to same-origin scripts that
// send the custom header, never to other origins, never cached.
func TestTokenEndpoint(t *testing.T) {
	p := newIDP(t)
	a := newApp(t, p, appOpts{})
	p.user(t, "rt-client", false)
	b, access := a.signedIn("rt-client")
	header := b.cookieHeader(a)
	for _, tc := range []struct {
		name    string
		cookie  string
		headers []string
		status  int
	}{
		{"no header", header, nil, http.StatusForbidden},
		{"wrong header value", header, []string{"X-Cognate-Token", "yes"}, http.StatusForbidden},
		{"other origin", header, []string{"X-Cognate-Token", "1", "Origin", "https://evil.example"}, http.StatusForbidden},
		{"null origin", header, []string{"X-Cognate-Token", "1", "Origin", "null"}, http.StatusForbidden},
		{"cross-site", header, []string{"X-Cognate-Token", "1", "Sec-Fetch-Site", "cross-site"}, http.StatusForbidden},
		{"same-site", header, []string{"X-Cognate-Token", "1", "Sec-Fetch-Site", "same-site"}, http.StatusForbidden},
		{"same-origin fetch", header, []string{"X-Cognate-Token", "1", "Sec-Fetch-Site", "same-origin", "Origin", a.url}, http.StatusOK},
		{"no fetch metadata", header, []string{"X-Cognate-Token", "1"}, http.StatusOK},
		{"signed out", "", []string{"X-Cognate-Token", "1", "Sec-Fetch-Site", "same-origin"}, http.StatusUnauthorized},
	} {
		resp := a.rawGet("/api/auth/token", tc.cookie, tc.headers...)
		var body map[string]any
		json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if resp.StatusCode != tc.status {
			t.Errorf("%s: %d, want %d (%v)", tc.name, resp.StatusCode, tc.status, body)
			continue
		}
		if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "no-store") || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
			t.Errorf("%s: Cache-Control %q, Content-Type %q", tc.name, cc, resp.Header.Get("Content-Type"))
		}
		_, exp := jwtTimes(t, access)
		if tc.status == http.StatusOK && (body["accessToken"] != access || body["expiresAt"] != float64(exp.Unix()) || body["username"] != "rt-client") {
			t.Errorf("%s: body %v", tc.name, body)
		}
		if tc.status != http.StatusOK && body["accessToken"] != nil {
			t.Errorf("%s: token leaked", tc.name)
		}
	}
	post, _ := http.NewRequest(http.MethodPost, a.url+"/api/auth/token", nil)
	post.Header.Set("Cookie", header)
	post.Header.Set("X-Cognate-Token", "1")
	resp, err := http.DefaultTransport.RoundTrip(post)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") == "" {
		t.Errorf("POST token: %d Allow %q", resp.StatusCode, resp.Header.Get("Allow"))
	}

	// An expired session is refreshed before the token is handed out.
	a.expireAt(access, 200*time.Millisecond)
	resp = a.rawGet("/api/auth/token", header, "X-Cognate-Token", "1", "Sec-Fetch-Site", "same-origin")
	var body map[string]any
	json.NewDecoder(resp.Body).Decode(&body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || body["accessToken"] == access || newAccess(resp) != body["accessToken"] {
		t.Errorf("token for an expired session: %d, refreshed %v", resp.StatusCode, body["accessToken"] != access)
	}
}

// TestRequire: signed-out pages go to sign-in with their path, script
// requests get 401 JSON, group checks 403.
func TestRequire(t *testing.T) {
	p := newIDP(t)
	a := newApp(t, p, appOpts{})
	for _, tc := range []struct {
		name     string
		path     string
		headers  []string
		status   int
		location string
	}{
		{"page", "/private?x=1", []string{"Accept", "text/html,application/xhtml+xml"}, http.StatusSeeOther, "/api/auth/sign-in?redirect=%2Fprivate%3Fx%3D1"},
		{"navigation", "/private", []string{"Sec-Fetch-Mode", "navigate", "Accept", "*/*"}, http.StatusSeeOther, "/api/auth/sign-in?redirect=%2Fprivate"},
		{"no Accept", "/private", nil, http.StatusSeeOther, "/api/auth/sign-in?redirect=%2Fprivate"},
		{"json", "/private", []string{"Accept", "application/json"}, http.StatusUnauthorized, ""},
		{"fetch", "/private", []string{"Sec-Fetch-Mode", "cors", "Accept", "*/*"}, http.StatusUnauthorized, ""},
		{"xhr", "/private", []string{"X-Requested-With", "XMLHttpRequest"}, http.StatusUnauthorized, ""},
		{"admin page", "/admin", []string{"Accept", "text/html"}, http.StatusSeeOther, "/api/auth/sign-in?redirect=%2Fadmin"},
	} {
		resp := a.rawGet(tc.path, "", tc.headers...)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.status || resp.Header.Get("Location") != tc.location {
			t.Errorf("%s: %d Location %q, want %d %q", tc.name, resp.StatusCode, resp.Header.Get("Location"), tc.status, tc.location)
		}
		if tc.status == http.StatusUnauthorized && !strings.Contains(string(body), `"signed_out"`) {
			t.Errorf("%s: body %s", tc.name, body)
		}
	}

	// A signed-in user outside the group: 403, as a page or as JSON.
	p.user(t, "plain-user", false)
	b, _ := a.signedIn("plain-user")
	if r := b.get(a.url+"/admin", "Accept", "text/html"); r.status != http.StatusForbidden || !strings.Contains(r.body, "admin") {
		t.Errorf("/admin page: %d", r.status)
	}
	if r := b.get(a.url+"/admin", "Accept", "application/json"); r.status != http.StatusForbidden || !strings.Contains(r.body, `"forbidden"`) {
		t.Errorf("/admin JSON: %d %s", r.status, r.body)
	}
	if st := b.state(a.url + "/private"); st.User != "plain-user" {
		t.Errorf("/private: %+v", st)
	}

	// Require also works without the Middleware in front.
	h := a.m.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "in") }))
	req := httptest.NewRequest(http.MethodGet, a.url+"/standalone", nil)
	req.Header.Set("Cookie", b.cookieHeader(a))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK || rec.Body.String() != "in" {
		t.Errorf("standalone Require: %d %s", rec.Code, rec.Body)
	}
}

// TestWriterPassThrough: behind the Middleware a handler still has
// http.Flusher, and http.ResponseController reaches the connection.
func TestWriterPassThrough(t *testing.T) {
	p := newIDP(t)
	a := newApp(t, p, appOpts{})
	h := a.m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := http.NewResponseController(w).SetWriteDeadline(time.Now().Add(time.Minute)); err != nil {
			t.Errorf("SetWriteDeadline through the wrapper: %v", err)
		}
		io.WriteString(w, "a")
		w.(http.Flusher).Flush()
		io.WriteString(w, "b")
		if err := a.m.Refresh(w, r); err != session.ErrNoSession {
			t.Errorf("Refresh without a session: %v", err)
		}
	}))
	srv := httptest.NewServer(h)
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "ab" || len(resp.TransferEncoding) == 0 {
		t.Errorf("body %q, transfer encoding %v (want chunked: flushed)", body, resp.TransferEncoding)
	}
}

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
