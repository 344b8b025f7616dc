package eventsapi_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/cognate-auth/cognate/events"
	"github.com/cognate-auth/cognate/eventsapi"
)

// clientHeader carries the client address to the tests' ClientAddr, as a
// trusted proxy's X-Forwarded-For does to the server's.
const clientHeader = "X-Test-Client"

func addrFromHeader(r *http.Request) string { return r.Header.Get(clientHeader) }

// dialFrom opens a WebSocket from client address addr (sent in
// clientHeader), authorized with auth, and returns the TCP connection
// beneath it too.
func (s *server) dialFrom(t *testing.T, addr string, auth map[string]string) (*client, *net.TCPConn, error) {
	var tcp *net.TCPConn
	dialer := &net.Dialer{}
	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, a string) (net.Conn, error) {
		c, err := dialer.DialContext(ctx, network, a)
		if err == nil {
			tcp = c.(*net.TCPConn)
		}
		return c, err
	}}}
	c, _, err := s.dial(t, &websocket.DialOptions{
		HTTPClient:   hc,
		HTTPHeader:   http.Header{clientHeader: {addr}},
		Subprotocols: []string{eventsapi.Subprotocol, headerProtocol(auth)},
	})
	return c, tcp, err
}

// open dials from addr and sends connection_init; it returns the answer,
// connection_ack or connection_error.
func (s *server) open(t *testing.T, addr string, auth map[string]string) (*client, *net.TCPConn, frame, error) {
	c, tcp, err := s.dialFrom(t, addr, auth)
	if err != nil {
		return nil, nil, frame{}, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	// A refused client's connection_init is read and dropped by the
	// server's close handshake; its connection_error comes first.
	if err := c.ws.Write(ctx, websocket.MessageText, []byte(`{"type":"connection_init"}`)); err != nil {
		return nil, nil, frame{}, err
	}
	for {
		f, err := c.read(5 * time.Second)
		if err != nil || f.Type != "ka" {
			return c, tcp, f, err
		}
	}
}

// refusedFor checks that f is the connection_error of a cap and that the
// socket is then closed with 1013 (try again later).
func refusedFor(t *testing.T, c *client, f frame, message string) {
	t.Helper()
	if f.Type != "connection_error" || f.errType() != events.TypeLimitExceeded || f.Errors[0].ErrorCode != 429 || f.Errors[0].Message != message {
		t.Fatalf("got %s, want a LimitExceededException 429 connection_error %q", f.raw, message)
	}
	if code := c.closed(); code != websocket.StatusTryAgainLater {
		t.Fatalf("close status %v, want 1013", code)
	}
}

// Each cap refuses the connection over it over the WebSocket as AppSync
// refuses a throttled one: a connection_error naming the limit, then a
// clean close the client may retry after.
func TestConnectionCapsOverWebSocket(t *testing.T) {
	const (
		serverFull  = "Too many connections: the server allows 2 at once."
		addressFull = "Too many connections from your address: 2 are allowed at once."
		keyFull     = "Too many connections with this API key: 2 are allowed at once."
	)
	key2 := map[string]string{"host": "localhost", "x-api-key": apiKey2}
	type attempt struct {
		addr    string
		auth    map[string]string
		refused string // the connection_error's message; "" for connection_ack
	}
	tests := []struct {
		name       string
		cfg        events.Config
		clientAddr func(*http.Request) string
		attempts   []attempt
	}{
		{"per server", events.Config{MaxConnections: 2}, addrFromHeader, []attempt{
			{"198.51.100.1", keyAuth(), ""}, {"198.51.100.2", tokenAuth("tok-alice"), ""},
			{"198.51.100.3", key2, serverFull},
		}},
		{"per address", events.Config{MaxConnectionsPerAddress: 2}, addrFromHeader, []attempt{
			{"198.51.100.1", keyAuth(), ""}, {"198.51.100.1", tokenAuth("tok-alice"), ""},
			{"198.51.100.1", key2, addressFull},
			{"198.51.100.2", keyAuth(), ""},
			// Exempt: ClientAddr named no address.
			{"", keyAuth(), ""}, {"", keyAuth(), ""}, {"", keyAuth(), ""},
		}},
		{"per address, by default the TCP peer", events.Config{MaxConnectionsPerAddress: 2}, nil, []attempt{
			{"198.51.100.1", keyAuth(), ""}, {"198.51.100.2", keyAuth(), ""},
			{"198.51.100.3", keyAuth(), addressFull},
		}},
		{"per API key", events.Config{MaxConnectionsPerAPIKey: 2}, addrFromHeader, []attempt{
			{"198.51.100.1", keyAuth(), ""}, {"198.51.100.2", keyAuth(), ""},
			{"198.51.100.3", keyAuth(), keyFull},
			{"198.51.100.3", key2, ""},
			{"198.51.100.3", tokenAuth("tok-alice"), ""}, {"198.51.100.3", tokenAuth("tok-alice"), ""},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg
			s := newServerWith(t, func(c *events.Config) {
				c.MaxConnections, c.MaxConnectionsPerAddress, c.MaxConnectionsPerAPIKey = cfg.MaxConnections, cfg.MaxConnectionsPerAddress, cfg.MaxConnectionsPerAPIKey
			}, eventsapi.Options{ClientAddr: tc.clientAddr})
			for i, a := range tc.attempts {
				c, _, f, err := s.open(t, a.addr, a.auth)
				if err != nil {
					t.Fatalf("attempt %d: %v", i, err)
				}
				if a.refused == "" {
					if f.Type != "connection_ack" {
						t.Fatalf("attempt %d: got %s, want connection_ack", i, f.raw)
					}
					continue
				}
				refusedFor(t, c, f, a.refused)
			}
		})
	}
}

// However a connection ends — the client closing cleanly or vanishing,
// the server closing it — its slots are given back.
func TestConnectionCapsFreedOnClose(t *testing.T) {
	tests := []struct {
		name string
		auth map[string]string
		init bool // send connection_init
		end  func(c *client, tcp *net.TCPConn)
	}{
		{"close handshake", keyAuth(), true, func(c *client, _ *net.TCPConn) { _ = c.ws.Close(websocket.StatusNormalClosure, "bye") }},
		{"TCP close without a close frame", keyAuth(), true, func(c *client, _ *net.TCPConn) { _ = c.ws.CloseNow() }},
		{"TCP reset", keyAuth(), true, func(_ *client, tcp *net.TCPConn) {
			_ = tcp.SetLinger(0)
			_ = tcp.Close()
		}},
		{"server closes at the connection timeout", keyAuth(), false, func(c *client, _ *net.TCPConn) { c.expect("connection_error") }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newServerWith(t, func(c *events.Config) {
				c.MaxConnections, c.MaxConnectionsPerAddress, c.MaxConnectionsPerAPIKey = 1, 1, 1
				c.ConnectionTimeout = events.Duration(time.Second)
			}, eventsapi.Options{ClientAddr: addrFromHeader})
			const addr = "198.51.100.7"
			c, tcp, err := s.dialFrom(t, addr, tc.auth)
			if err != nil {
				t.Fatal(err)
			}
			if tc.init {
				c.send(`{"type":"connection_init"}`)
				c.expect("connection_ack")
			}
			over, _, f, err := s.open(t, addr, keyAuth())
			if err != nil {
				t.Fatal(err)
			}
			refusedFor(t, over, f, "Too many connections: the server allows 1 at once.")
			tc.end(c, tcp)
			deadline := time.Now().Add(5 * time.Second)
			for s.hub.Stats().Connections != 0 {
				if time.Now().After(deadline) {
					t.Fatalf("the connection is still counted: %+v", s.hub.Stats())
				}
				time.Sleep(5 * time.Millisecond)
			}
			again, _, f, err := s.open(t, addr, keyAuth())
			if err != nil || f.Type != "connection_ack" {
				t.Fatalf("reconnecting: %s %v", f.raw, err)
			}
			again.subscribe("s", "/default/a", keyAuth())
		})
	}
}

// Many clients connecting and vanishing at once, many of them refused for
// a cap or for their credentials, leave the caps exactly where they were: afterwards every cap admits
// its full number of connections, and not one more.
func TestConnectionCapsUnderChurn(t *testing.T) {
	const server, perAddr, perKey = 20, 5, 15
	s := newServerWith(t, func(c *events.Config) {
		c.MaxConnections, c.MaxConnectionsPerAddress, c.MaxConnectionsPerAPIKey = server, perAddr, perKey
	}, eventsapi.Options{ClientAddr: addrFromHeader})

	stop := make(chan struct{})
	var peak int64
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			peak = max(peak, s.hub.Stats().Connections)
			select {
			case <-stop:
				return
			case <-time.After(time.Millisecond):
			}
		}
	}()
	var wg sync.WaitGroup
	var mu sync.Mutex
	accepted, refused := 0, 0
	for g := range 24 {
		wg.Go(func() {
			for i := range 12 {
				auth, bad := keyAuth(), false
				switch (g + i) % 5 {
				case 0:
					auth = tokenAuth("tok-bob")
				case 1:
					auth, bad = map[string]string{"host": "localhost", "x-api-key": "da2-unknown"}, true
				}
				c, tcp, f, err := s.open(t, fmt.Sprint("203.0.113.", (g+i)%7), auth)
				if err != nil {
					t.Errorf("open: %v", err)
					return
				}
				switch {
				case f.Type == "connection_error":
					switch typ := f.errType(); {
					case typ == events.TypeLimitExceeded:
						mu.Lock()
						refused++
						mu.Unlock()
					case typ != events.TypeUnauthorized || !bad:
						t.Errorf("refused with %s", f.raw)
					}
					_ = c.ws.CloseNow()
					continue
				case f.Type != "connection_ack" || bad:
					t.Errorf("got %s", f.raw)
					return
				}
				mu.Lock()
				accepted++
				mu.Unlock()
				switch i % 3 {
				case 0:
					_ = c.ws.Close(websocket.StatusNormalClosure, "")
				case 1:
					_ = c.ws.CloseNow()
				case 2:
					_ = tcp.SetLinger(0)
					_ = tcp.Close()
				}
			}
		})
	}
	wg.Wait()
	deadline := time.Now().Add(5 * time.Second)
	for s.hub.Stats().Connections != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("after the churn: %+v", s.hub.Stats())
		}
		time.Sleep(5 * time.Millisecond)
	}
	close(stop)
	<-sampled
	if peak > server || accepted == 0 || refused == 0 {
		t.Fatalf("peak %d connections (cap %d), %d accepted, %d refused", peak, server, accepted, refused)
	}

	// Exactly perKey connections with the key (perAddr per address), then
	// tokens up to the server's cap.
	type attempt struct {
		addr    string
		auth    map[string]string
		refused string
	}
	var attempts []attempt
	for i := range perKey {
		attempts = append(attempts, attempt{fmt.Sprint("192.0.2.", i/perAddr), keyAuth(), ""})
	}
	attempts = append(attempts,
		attempt{"192.0.2.0", tokenAuth("tok-bob"), fmt.Sprintf("Too many connections from your address: %d are allowed at once.", perAddr)},
		attempt{"192.0.2.9", keyAuth(), fmt.Sprintf("Too many connections with this API key: %d are allowed at once.", perKey)},
	)
	for range server - perKey {
		attempts = append(attempts, attempt{"192.0.2.9", tokenAuth("tok-bob"), ""})
	}
	attempts = append(attempts, attempt{"192.0.2.10", tokenAuth("tok-bob"), fmt.Sprintf("Too many connections: the server allows %d at once.", server)})
	for i, a := range attempts {
		c, _, f, err := s.open(t, a.addr, a.auth)
		if err != nil {
			t.Fatalf("attempt %d: %v", i, err)
		}
		if a.refused == "" {
			if f.Type != "connection_ack" {
				t.Fatalf("attempt %d from %s: got %s, want connection_ack", i, a.addr, f.raw)
			}
			continue
		}
		refusedFor(t, c, f, a.refused)
	}
}
