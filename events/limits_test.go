package events_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/cognate-auth/cognate/events"
)

// The caps have defaults; zero asks for them, any negative value lifts
// a cap.
func TestConnectionCapDefaults(t *testing.T) {
	tests := []struct {
		name                  string
		cfg                   events.Config
		server, addr, perKeys int
	}{
		{"zero means the defaults", events.Config{}, 10000, 100, 1000},
		{"set", events.Config{MaxConnections: 7, MaxConnectionsPerAddress: 3, MaxConnectionsPerAPIKey: 5}, 7, 3, 5},
		{"-1 lifts", events.Config{MaxConnections: -1, MaxConnectionsPerAddress: -1, MaxConnectionsPerAPIKey: -1}, -1, -1, -1},
		{"any negative lifts", events.Config{MaxConnections: -5, MaxConnectionsPerAddress: -2, MaxConnectionsPerAPIKey: -100}, -1, -1, -1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := newHub(t, tc.cfg).Config()
			if got.MaxConnections != tc.server || got.MaxConnectionsPerAddress != tc.addr || got.MaxConnectionsPerAPIKey != tc.perKeys {
				t.Fatalf("caps %d/%d/%d, want %d/%d/%d", got.MaxConnections, got.MaxConnectionsPerAddress, got.MaxConnectionsPerAPIKey, tc.server, tc.addr, tc.perKeys)
			}
		})
	}
}

// Each cap refuses the connection over it with its own sentinel and a
// message naming the limit, and counts only what it should.
func TestConnectionCaps(t *testing.T) {
	type attempt struct {
		addr string
		auth events.Headers
		want error // nil: connected
	}
	other := events.Headers{"x-api-key": otherKey}
	tests := []struct {
		name     string
		cfg      events.Config
		attempts []attempt
		message  string
	}{
		{"per server", events.Config{MaxConnections: 2}, []attempt{
			{"a", key(), nil}, {"b", token("tok-alice"), nil},
			{"c", other, events.ErrMaxConnections},
		}, "Too many connections: the server allows 2 at once."},
		{"per address", events.Config{MaxConnectionsPerAddress: 2}, []attempt{
			{"a", key(), nil}, {"a", token("tok-alice"), nil},
			{"a", other, events.ErrMaxConnectionsPerAddress},
			{"b", key(), nil},
			{"", key(), nil}, {"", key(), nil}, {"", key(), nil}, // not counted per address
		}, "Too many connections from your address: 2 are allowed at once."},
		{"per API key", events.Config{MaxConnectionsPerAPIKey: 2}, []attempt{
			{"a", key(), nil}, {"b", key(), nil},
			{"c", key(), events.ErrMaxConnectionsPerAPIKey},
			{"c", other, nil},
			{"c", token("tok-alice"), nil}, {"c", token("tok-alice"), nil}, {"c", token("tok-alice"), nil},
			// With a key and a token, the key (tried first) authorizes
			// the connection and counts.
			{"d", events.Headers{"x-api-key": goodKey, "Authorization": "tok-bob"}, events.ErrMaxConnectionsPerAPIKey},
		}, "Too many connections with this API key: 2 are allowed at once."},
		{"refused credentials hold no slot", events.Config{MaxConnections: 1, MaxConnectionsPerAddress: 1}, []attempt{
			{"a", events.Headers{"x-api-key": "da2-wrong"}, events.ErrUnauthorized},
			{"a", events.Headers{"x-api-key": expiredKey}, events.ErrTokenExpired},
			{"a", key(), nil},
			{"b", key(), events.ErrMaxConnections},
		}, "Too many connections: the server allows 1 at once."},
		{"lifted", events.Config{MaxConnections: -1, MaxConnectionsPerAddress: -1, MaxConnectionsPerAPIKey: -1}, func() []attempt {
			var as []attempt
			for range 250 {
				as = append(as, attempt{"a", key(), nil})
			}
			return as
		}(), ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHub(t, tc.cfg)
			var conns []*events.Conn
			for i, a := range tc.attempts {
				c, err := h.Connect(context.Background(), a.addr, a.auth, newTransport())
				switch {
				case a.want == nil && err != nil:
					t.Fatalf("attempt %d: %v", i, err)
				case a.want != nil && !errors.Is(err, a.want):
					t.Fatalf("attempt %d: %v, want %v", i, err, a.want)
				case errors.Is(a.want, events.ErrLimitExceeded):
					e := events.AsError(err)
					if e.Type != events.TypeLimitExceeded || e.Code != 429 || e.Message != tc.message {
						t.Fatalf("attempt %d: %+v, want LimitExceededException 429 %q", i, e, tc.message)
					}
				}
				if c != nil {
					conns = append(conns, c)
				}
			}
			for _, c := range conns {
				c.Close()
				<-c.Done()
			}
			if open, addrs, keys := h.OpenCounts(); open != 0 || addrs != 0 || keys != 0 || h.Stats().Connections != 0 {
				t.Fatalf("after closing everything: open %d, addresses %d, keys %d, %+v", open, addrs, keys, h.Stats())
			}
		})
	}
}

// A handshake whose credentials are still being checked holds its slot:
// slow handshakes cannot pile up beyond the caps.
func TestConnectionCapCountsHandshakes(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	slow := func(_ context.Context, key string) (time.Time, error) {
		if key == "da2-slow" {
			close(entered)
			<-release
		}
		return time.Time{}, nil
	}
	h, err := events.New(context.Background(), events.Config{MaxConnections: 1}, events.Options{APIKeys: slow})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.Shutdown(context.Background()) })
	done := make(chan error, 1)
	go func() {
		c, err := h.Connect(context.Background(), "a", events.Headers{"x-api-key": "da2-slow"}, newTransport())
		if err == nil {
			c.Close()
		}
		done <- err
	}()
	<-entered
	if _, err := h.Connect(context.Background(), "b", key(), newTransport()); !errors.Is(err, events.ErrMaxConnections) {
		t.Fatalf("Connect during a pending handshake: %v, want ErrMaxConnections", err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatalf("the pending handshake: %v", err)
	}
}

// Connections opened and closed at once from many goroutines, some
// refused, some closed by the Hub, leave every count at zero.
func TestConnectionCapsUnderChurn(t *testing.T) {
	h := newHub(t, events.Config{
		MaxConnections: 40, MaxConnectionsPerAddress: 6, MaxConnectionsPerAPIKey: 25,
		ConnectionTimeout: events.Duration(20 * time.Millisecond),
	})
	var wg sync.WaitGroup
	for g := range 32 {
		wg.Go(func() {
			for i := range 50 {
				auth := key()
				if (g+i)%3 == 0 {
					auth = token("tok-alice")
				}
				tr := newTransport()
				c, err := h.Connect(context.Background(), fmt.Sprint("addr-", (g+i)%9), auth, tr)
				if err != nil {
					if !errors.Is(err, events.ErrLimitExceeded) {
						t.Errorf("Connect: %v", err)
					}
					continue
				}
				switch i % 4 {
				case 0:
					c.Close()
				case 1:
					go c.Close() // the client goes away while the Hub works on it
					c.Init()
				case 2:
					_ = c.Subscribe(context.Background(), "s", "/default/a", key())
					go c.Close()
				case 3:
					// Left idle: the Hub closes it at the connection timeout.
				}
			}
		})
	}
	wg.Wait()
	deadline := time.Now().Add(5 * time.Second)
	for {
		open, addrs, keys := h.OpenCounts()
		if open == 0 && addrs == 0 && keys == 0 && h.Stats().Connections == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the churn: open %d, addresses %d, keys %d, %+v", open, addrs, keys, h.Stats())
		}
		time.Sleep(10 * time.Millisecond)
	}
}
