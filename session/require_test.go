package session_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

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
