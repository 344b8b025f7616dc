package oauth

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestContinueAfterFederatedCallback: a browser navigating from another
// site (the provider's sign-in page) gets a page that moves on by meta
// refresh; anything else gets the plain 302.
func TestContinueAfterFederatedCallback(t *testing.T) {
	const target = "https://app.example/cb?code=c&state=s"
	cases := []struct {
		name         string
		mode, site   string
		wantStatus   int
		wantLocation string
	}{
		{"cross-site navigation", "navigate", "cross-site", http.StatusOK, ""},
		{"same-site navigation", "navigate", "same-site", http.StatusFound, target},
		{"no fetch metadata (programs)", "", "", http.StatusFound, target},
		{"cross-site fetch", "cors", "cross-site", http.StatusFound, target},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, IDPResponsePath, nil)
			if c.mode != "" {
				r.Header.Set("Sec-Fetch-Mode", c.mode)
				r.Header.Set("Sec-Fetch-Site", c.site)
			}
			rec := httptest.NewRecorder()
			redirect(continueAfter(rec, r), target)
			if rec.Code != c.wantStatus || rec.Header().Get("Location") != c.wantLocation {
				t.Fatalf("status %d Location %q", rec.Code, rec.Header().Get("Location"))
			}
			if c.wantStatus == http.StatusOK {
				body := rec.Body.String()
				if !strings.Contains(body, `http-equiv="refresh" content="0;url=https://app.example/cb?code=c&amp;state=s"`) ||
					!strings.Contains(rec.Header().Get("Content-Security-Policy"), "frame-ancestors 'none'") ||
					rec.Header().Get("Cache-Control") != "no-store" {
					t.Fatalf("continue page:\n%s\n%v", body, rec.Header())
				}
			}
		})
	}
}
