package servicetest

import (
	"net"
	"testing"
	"time"
)

func TestPrivateServersStopAndStartOnTheirPort(t *testing.T) {
	tests := []struct {
		name  string
		start func(testing.TB) *Server
		stop  func(*Server, testing.TB)
	}{
		{"nats SIGTERM", StartNATSServer, (*Server).Stop},
		{"nats SIGKILL", StartNATSServer, (*Server).Kill},
		{"redis SIGTERM", StartRedisServer, (*Server).Stop},
		{"redis SIGKILL", StartRedisServer, (*Server).Kill},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := tc.start(t)
			if !accepts(s.Addr()) {
				t.Fatalf("%s: nothing listens after start", s.URL())
			}
			tc.stop(s, t)
			if accepts(s.Addr()) {
				t.Fatalf("%s: still listening after stop", s.URL())
			}
			s.Start(t)
			if !accepts(s.Addr()) {
				t.Fatalf("%s: nothing listens after restart", s.URL())
			}
		})
	}
}

func accepts(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}
