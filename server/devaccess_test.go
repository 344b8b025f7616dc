package server

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// getOutbox fetches the outbox JSON at base with the key (none if empty)
// and an optional Host override.
func getOutbox(t *testing.T, base, key, host string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), "GET", base+"/_dev/outbox.json", nil)
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		req.Header.Set(outboxKeyHeader, key)
	}
	if host != "" {
		req.Host = host
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// proxy serves a real httputil.ReverseProxy to target on loopback; strip
// makes it a proxy that names no client (no X-Forwarded-For).
func proxy(t *testing.T, target string, strip bool) string {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	rp := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(u)
		r.Out.Host = r.In.Host
		if !strip {
			r.SetXForwarded()
		}
	}}
	ps := httptest.NewServer(rp)
	t.Cleanup(ps.Close)
	return ps.URL
}

// TestOutboxOnlyForThisMachinesUser reaches the outbox over real
// listeners, directly and through a real reverse proxy on the same host:
// only a direct request to a local name with the data directory's key is
// served; through a proxy the key does not help, declared or not, and
// once loopback is declared a proxy nothing on loopback is local.
func TestOutboxOnlyForThisMachinesUser(t *testing.T) {
	for _, trusted := range []string{"", "127.0.0.1,::1"} {
		t.Run("trusted-proxies="+trusted, func(t *testing.T) {
			data := t.TempDir()
			s := newTestServer(t, Config{DataDir: data, TrustedProxies: trusted})
			direct := httptest.NewServer(s.Handler())
			t.Cleanup(direct.Close)
			raw, err := os.ReadFile(filepath.Join(data, outboxKeyFile))
			if err != nil {
				t.Fatal(err)
			}
			key := strings.TrimSpace(string(raw))
			if fi, err := os.Stat(filepath.Join(data, outboxKeyFile)); err != nil || fi.Mode().Perm() != 0o600 {
				t.Fatalf("key file mode: %v %v", fi.Mode(), err)
			}

			if trusted != "" {
				// Loopback declared a proxy: every loopback peer is one.
				if code, _ := getOutbox(t, direct.URL, key, ""); code != http.StatusNotFound {
					t.Fatalf("from a declared proxy address: %d, want 404", code)
				}
				return
			}
			if code, body := getOutbox(t, direct.URL, key, ""); code != http.StatusOK || body != "[]\n" {
				t.Fatalf("direct with the key: %d %q", code, body)
			}
			// The browser form: ?key= on the page.
			resp, err := http.Get(direct.URL + "/_dev/outbox?key=" + key)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || resp.Header.Get("Referrer-Policy") != "no-referrer" || resp.Header.Get("Cache-Control") != "no-store" {
				t.Fatalf("outbox page: %d %v", resp.StatusCode, resp.Header)
			}
			for name, tc := range map[string]struct{ base, key, host string }{
				"direct without the key":          {direct.URL, "", ""},
				"direct with a wrong key":         {direct.URL, key[:len(key)-1] + "x", ""},
				"direct to a rebound name":        {direct.URL, key, "attacker.example:80"},
				"through a proxy":                 {proxy(t, direct.URL, false), key, ""},
				"through a proxy naming nobody":   {proxy(t, direct.URL, true), key, ""},
				"through a proxy, without a key":  {proxy(t, direct.URL, true), "", ""},
				"through a proxy, rebound a name": {proxy(t, direct.URL, false), key, "attacker.example"},
			} {
				if name == "through a proxy naming nobody" {
					// A proxy that is neither declared nor says it is one
					// looks like a local client: the key is what keeps
					// its remote clients out (see the next case).
					continue
				}
				if code, _ := getOutbox(t, tc.base, tc.key, tc.host); code != http.StatusNotFound {
					t.Errorf("%s: %d, want 404", name, code)
				}
			}
		})
	}
}

// TestProxiedGuessesAreLimited sends sign-in attempts through a real
// reverse proxy on loopback: they are throttled, while the same attempts
// made directly from this machine in development are not.
func TestProxiedGuessesAreLimited(t *testing.T) {
	s := newTestServer(t, Config{GuessRate: 0.001, GuessBurst: 3})
	direct := httptest.NewServer(s.Handler())
	t.Cleanup(direct.Close)
	body := `{"ClientId":"` + s.Client.ClientID + `","AuthFlow":"USER_PASSWORD_AUTH","AuthParameters":{"USERNAME":"nobody@example.com","PASSWORD":"Wrong-passw0rd"}}`
	try := func(base string) string {
		req, _ := http.NewRequestWithContext(t.Context(), "POST", base+"/", strings.NewReader(body))
		req.Header.Set("X-Amz-Target", "AWSCognitoIdentityProviderService.InitiateAuth")
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var e struct {
			Type string `json:"__type"`
		}
		json.NewDecoder(resp.Body).Decode(&e)
		return e.Type
	}
	for i := range 6 {
		if typ := try(direct.URL); typ != "NotAuthorizedException" {
			t.Fatalf("direct attempt %d: %s", i, typ)
		}
	}
	via := proxy(t, direct.URL, false)
	var got []string
	for range 5 {
		got = append(got, try(via))
	}
	if got[len(got)-1] != "TooManyRequestsException" {
		t.Fatalf("attempts through a proxy: %v, want throttling after the burst", got)
	}
}
