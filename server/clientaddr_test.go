package server

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestClientAddr(t *testing.T) {
	trusted, err := parseCIDRs("10.0.0.0/8, 127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, remote, xff string
		production        bool
		want              string
	}{
		{"direct client", "203.0.113.9:1234", "", false, "203.0.113.9"},
		{"spoofed header from untrusted peer", "203.0.113.9:1234", "198.51.100.1", false, "203.0.113.9"},
		{"through trusted proxy", "10.1.2.3:80", "198.51.100.7", false, "198.51.100.7"},
		{"client-prepended hop ignored", "10.1.2.3:80", "1.2.3.4, 198.51.100.7, 10.9.9.9", false, "198.51.100.7"},
		{"loopback exempt in development", "[::1]:5000", "", false, ""},
		{"loopback declared a proxy is one", "127.0.0.1:5000", "", false, "127.0.0.1"},
		{"loopback limited in production", "[::1]:5000", "", true, "::1"},
		{"local proxy forwards a remote client", "127.0.0.1:5000", "198.51.100.8", false, "198.51.100.8"},
		// A request that came through a proxy is never local, whatever
		// address the proxy names.
		{"trusted local proxy forwards a local client", "127.0.0.1:5000", "127.0.0.1", false, "127.0.0.1"},
		{"trusted local proxy sends no X-Forwarded-For", "127.0.0.1:5000", "-", false, "127.0.0.1"},
		{"undeclared local proxy", "[::1]:5000", "198.51.100.8", false, "::1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/", nil)
			r.RemoteAddr = tt.remote
			switch tt.xff {
			case "":
			case "-": // a proxy that names the client in another header
				r.Header.Set("Forwarded", "for=127.0.0.1")
			default:
				r.Header.Set("X-Forwarded-For", tt.xff)
			}
			if got := clientAddr(trusted, tt.production)(r); got != tt.want {
				t.Fatalf("clientAddr = %q, want %q", got, tt.want)
			}
		})
	}
	if _, err := parseCIDRs("10.0.0.0/33"); err == nil {
		t.Fatal("bad CIDR accepted")
	}
}

func TestGuessingIsThrottledPerAddress(t *testing.T) {
	s := newTestServer(t, Config{GuessRate: 0.001, GuessBurst: 3})
	body := `{"ClientId":"` + s.Client.ClientID + `","AuthFlow":"USER_PASSWORD_AUTH","AuthParameters":{"USERNAME":"nobody@example.com","PASSWORD":"Wrong-passw0rd"}}`
	try := func(remote string) (int, string, string) {
		r := httptest.NewRequest("POST", "/", strings.NewReader(body))
		r.Header.Set("X-Amz-Target", "AWSCognitoIdentityProviderService.InitiateAuth")
		r.RemoteAddr = remote
		w := httptest.NewRecorder()
		s.Handler().ServeHTTP(w, r)
		var e struct {
			Type string `json:"__type"`
		}
		json.Unmarshal(w.Body.Bytes(), &e)
		return w.Code, e.Type, w.Header().Get("Retry-After")
	}
	for i := 0; i < 3; i++ {
		if code, typ, _ := try("203.0.113.5:1"); typ != "NotAuthorizedException" {
			t.Fatalf("attempt %d: %d %s", i, code, typ)
		}
	}
	code, typ, retry := try("203.0.113.5:2")
	if code != 400 || typ != "TooManyRequestsException" || retry == "" {
		t.Fatalf("4th attempt: %d %s Retry-After=%q", code, typ, retry)
	}
	if _, typ, _ := try("203.0.113.6:1"); typ != "NotAuthorizedException" {
		t.Fatalf("other address throttled: %s", typ)
	}
	for i := 0; i < 5; i++ {
		if _, typ, _ := try("127.0.0.1:1"); typ != "NotAuthorizedException" {
			t.Fatalf("loopback throttled in development: %s", typ)
		}
	}
}
