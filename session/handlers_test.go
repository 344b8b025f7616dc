package session_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
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
