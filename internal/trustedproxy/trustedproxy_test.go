package trustedproxy

import (
	"net/http/httptest"
	"testing"
)

func TestClient(t *testing.T) {
	l, err := Parse("10.0.0.0/8, 127.0.0.1, ::ffff:192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, remote, xff, want string
		fromProxy               bool
	}{
		{"direct client", "203.0.113.9:1234", "", "203.0.113.9", false},
		{"spoofed header from an untrusted peer", "203.0.113.9:1234", "198.51.100.1", "203.0.113.9", false},
		{"through a trusted proxy", "10.1.2.3:80", "198.51.100.7", "198.51.100.7", true},
		{"client-prepended hops ignored", "10.1.2.3:80", "1.2.3.4, 198.51.100.7, 10.9.9.9", "198.51.100.7", true},
		{"garbage hop stops the walk", "10.1.2.3:80", "198.51.100.7, nonsense", "10.1.2.3", true},
		{"trusted proxy without header", "127.0.0.1:5000", "", "127.0.0.1", true},
		{"mapped address declared", "[::ffff:192.0.2.1]:1", "198.51.100.9", "198.51.100.9", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tt.remote
			if tt.xff != "" {
				r.Header.Set("X-Forwarded-For", tt.xff)
			}
			got, fromProxy, ok := l.Client(r)
			if !ok || got.String() != tt.want || fromProxy != tt.fromProxy {
				t.Fatalf("Client = %v, %v, %v; want %s, %v", got, fromProxy, ok, tt.want, tt.fromProxy)
			}
		})
	}
	for _, bad := range []string{"10.0.0.0/33", "nope", "1.2.3"} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q) accepted", bad)
		}
	}
}
