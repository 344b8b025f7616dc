package eventsapi_test

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/cognate-auth/cognate/events"
	"github.com/cognate-auth/cognate/eventsapi"
)

func TestHandshake(t *testing.T) {
	s := newServer(t, func(c *events.Config) { c.ConnectionTimeout = events.Duration(90 * time.Second) })
	keyJSON, _ := json.Marshal(keyAuth())
	tests := []struct {
		name      string
		protocols []string
		header    http.Header
		wantErr   string // connection_error errorType; "" for connection_ack
		wantCode  int
	}{
		{"header subprotocol", []string{eventsapi.Subprotocol, headerProtocol(keyAuth())}, nil, "", 0},
		{"padded base64url", []string{eventsapi.Subprotocol, "header-" + base64.URLEncoding.EncodeToString(keyJSON)}, nil, "", 0},
		{"standard base64", []string{eventsapi.Subprotocol, "header-" + base64.StdEncoding.EncodeToString(keyJSON)}, nil, "", 0},
		{"user pool token", []string{eventsapi.Subprotocol, headerProtocol(tokenAuth("tok-alice"))}, nil, "", 0},
		{"upgrade headers (Swift client)", []string{eventsapi.Subprotocol}, http.Header{"X-Api-Key": {apiKey}}, "", 0},
		{"bearer upgrade header", []string{eventsapi.Subprotocol}, http.Header{"Authorization": {"Bearer tok-bob"}}, "", 0},
		{"no credentials", []string{eventsapi.Subprotocol}, nil, events.TypeUnauthorized, 401},
		{"forged token", []string{eventsapi.Subprotocol, headerProtocol(tokenAuth("eyJhbGciOi.forged.x"))}, nil, events.TypeUnauthorized, 401},
		{"unknown key", []string{eventsapi.Subprotocol, headerProtocol(map[string]string{"x-api-key": "da2-other"})}, nil, events.TypeUnauthorized, 401},
		{"not base64", []string{eventsapi.Subprotocol, "header-!!!"}, nil, events.TypeBadRequest, 400},
		{"not JSON", []string{eventsapi.Subprotocol, "header-" + base64.RawURLEncoding.EncodeToString([]byte("nope"))}, nil, events.TypeBadRequest, 400},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, _, err := s.dial(t, &websocket.DialOptions{Subprotocols: tc.protocols, HTTPHeader: tc.header})
			if err != nil {
				t.Fatalf("dial: %v", err)
			}
			if got := c.ws.Subprotocol(); got != eventsapi.Subprotocol {
				t.Fatalf("subprotocol %q, want %q", got, eventsapi.Subprotocol)
			}
			if tc.wantErr == "" {
				c.send(`{"type":"connection_init"}`)
				if ack := c.expect("connection_ack"); ack.ConnectionTimeoutMs != 90000 {
					t.Fatalf("connection_ack %s", ack.raw)
				}
				c.expect("ka")
				return
			}
			f := c.expect("connection_error")
			if f.errType() != tc.wantErr || f.Errors[0].ErrorCode != tc.wantCode || f.Errors[0].Message == "" {
				t.Fatalf("connection_error %s, want %s %d", f.raw, tc.wantErr, tc.wantCode)
			}
			if code := c.closed(); code != websocket.StatusPolicyViolation {
				t.Fatalf("close status %v", code)
			}
		})
	}
}

// Every bad message gets its precise error, and the connection keeps
// serving.
func TestBadMessages(t *testing.T) {
	s := newServer(t, nil)
	big := fmt.Sprintf("%q", strings.Repeat("x", events.MaxEventBytes+1))
	tests := []struct {
		name    string
		send    string
		binary  bool
		reply   string // frame type
		id      string
		errType string
	}{
		{"garbage", "not json at all", false, "error", "", events.TypeBadRequest},
		{"array", `[1,2]`, false, "error", "", events.TypeBadRequest},
		{"binary", `{"type":"connection_init"}`, true, "error", "", events.TypeBadRequest},
		{"unknown type", `{"type":"start","id":"u1"}`, false, "error", "u1", events.TypeUnsupported},
		{"no type", `{"id":"u2"}`, false, "error", "u2", events.TypeUnsupported},
		{"id not a string", `{"type":"subscribe","id":7,"channel":"/default/a"}`, false, "subscribe_error", "", events.TypeBadRequest},
		{"subscribe without authorization", `{"type":"subscribe","id":"s1","channel":"/default/a"}`, false, "subscribe_error", "s1", events.TypeUnauthorized},
		{"subscribe with a forged token", `{"type":"subscribe","id":"s2","channel":"/default/a","authorization":{"Authorization":"forged"}}`, false, "subscribe_error", "s2", events.TypeUnauthorized},
		{"subscribe to an invalid channel", `{"type":"subscribe","id":"s3","channel":"/default/a b","authorization":{"x-api-key":"` + apiKey + `"}}`, false, "subscribe_error", "s3", events.TypeBadRequest},
		{"subscribe to an unknown namespace", `{"type":"subscribe","id":"s4","channel":"/nope/a","authorization":{"x-api-key":"` + apiKey + `"}}`, false, "subscribe_error", "s4", events.TypeBadRequest},
		{"duplicate subscription id", `{"type":"subscribe","id":"taken","channel":"/default/b","authorization":{"x-api-key":"` + apiKey + `"}}`, false, "subscribe_error", "taken", events.TypeBadRequest},
		{"foreign user channel", `{"type":"subscribe","id":"s5","channel":"/users/bob-sub/*","authorization":{"Authorization":"tok-alice"}}`, false, "subscribe_error", "s5", events.TypeUnauthorized},
		{"wildcard over users", `{"type":"subscribe","id":"s6","channel":"/users/*","authorization":{"Authorization":"tok-alice"}}`, false, "subscribe_error", "s6", events.TypeUnauthorized},
		{"publish to a wildcard", `{"type":"publish","id":"p1","channel":"/default/*","events":["1"],"authorization":{"x-api-key":"` + apiKey + `"}}`, false, "publish_error", "p1", events.TypeBadRequest},
		{"publish six events", `{"type":"publish","id":"p2","channel":"/default/a","events":["1","2","3","4","5","6"],"authorization":{"x-api-key":"` + apiKey + `"}}`, false, "publish_error", "p2", events.TypeBadRequest},
		{"publish no events", `{"type":"publish","id":"p3","channel":"/default/a","authorization":{"x-api-key":"` + apiKey + `"}}`, false, "publish_error", "p3", events.TypeBadRequest},
		{"publish a non-string event", `{"type":"publish","id":"p4","channel":"/default/a","events":[{"a":1}],"authorization":{"x-api-key":"` + apiKey + `"}}`, false, "publish_error", "p4", events.TypeBadRequest},
		{"publish without authorization", `{"type":"publish","id":"p5","channel":"/default/a","events":["1"]}`, false, "publish_error", "p5", events.TypeUnauthorized},
		{"publish without id", `{"type":"publish","channel":"/default/a","events":["1"],"authorization":{"x-api-key":"` + apiKey + `"}}`, false, "publish_error", "", events.TypeBadRequest},
		{"oversized event fails alone", `{"type":"publish","id":"p6","channel":"/default/a","events":[` + big + `,"2"],"authorization":{"x-api-key":"` + apiKey + `"}}`, false, "publish_success", "p6", ""},
		{"unsubscribe an unknown id", `{"type":"unsubscribe","id":"ghost"}`, false, "unsubscribe_error", "ghost", events.TypeUnknownOperation},
	}
	c := s.connect(t, keyAuth())
	c.subscribe("taken", "/default/a", keyAuth())
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c.t = t
			typ := websocket.MessageText
			if tc.binary {
				typ = websocket.MessageBinary
			}
			if err := c.ws.Write(context.Background(), typ, []byte(tc.send)); err != nil {
				t.Fatal(err)
			}
			if tc.reply == "publish_success" {
				c.expect("data") // the valid second event, to "taken", comes first
			}
			f := c.expect(tc.reply)
			if f.ID != tc.id || f.errType() != tc.errType {
				t.Fatalf("got %s, want %s id=%q %s", f.raw, tc.reply, tc.id, tc.errType)
			}
			if tc.errType != "" && f.Errors[0].Message == "" {
				t.Fatalf("error without a message: %s", f.raw)
			}
			if tc.reply == "publish_success" {
				if len(f.Failed) != 1 || f.Failed[0]["code"] != events.TypeEventTooLarge || f.Failed[0]["index"] != 0.0 || len(f.Successful) != 1 {
					t.Fatalf("publish_success %s", f.raw)
				}
			}
			// Still serving: a new subscription works.
			id := fmt.Sprint("alive-", i)
			c.subscribe(id, "/default/alive", keyAuth())
		})
	}
}

func TestSubscribePublishUnsubscribe(t *testing.T) {
	s := newServer(t, nil)
	sub := s.connect(t, keyAuth())
	sub.subscribe("all", "default/*", keyAuth())
	sub.subscribe("room", "/default/room", keyAuth())
	pub := s.connect(t, tokenAuth("tok-bob"))
	// Amplify's publish: a legacy payload, x-amz-user-agent in the
	// authorization, events as strings.
	pub.send(`{"type":"publish","id":"p1","channel":"/default/room","events":["{\"n\":1}","\"two\""],` +
		`"authorization":{"Authorization":"tok-bob","host":"localhost","x-amz-user-agent":"aws-amplify/6"},` +
		`"payload":{"channel":"/default/room","events":["x"],"extensions":{"authorization":{}}}}`)
	ok := pub.expect("publish_success")
	if ok.ID != "p1" || len(ok.Successful) != 2 || ok.Failed == nil || len(ok.Failed) != 0 {
		t.Fatalf("publish_success %s", ok.raw)
	}
	for i, s := range ok.Successful {
		if s["index"] != float64(i) || len(s["identifier"].(string)) != 36 {
			t.Fatalf("successful[%d] = %v", i, s)
		}
	}
	// Each subscription gets one data frame per event, in order.
	got := map[string][]string{}
	for range 4 {
		f := sub.expect("data")
		got[f.ID] = append(got[f.ID], f.event(t))
	}
	for _, id := range []string{"all", "room"} {
		if strings.Join(got[id], ",") != `{"n":1},"two"` {
			t.Fatalf("%s got %q", id, got[id])
		}
	}
	sub.send(`{"type":"unsubscribe","id":"room"}`)
	if f := sub.expect("unsubscribe_success"); f.ID != "room" {
		t.Fatalf("unsubscribe_success %s", f.raw)
	}
	code, body, _ := s.post(t, `{"channel":"/default/room","events":["3"]}`, map[string]string{"x-api-key": apiKey})
	if code != 200 {
		t.Fatalf("POST %d %v", code, body)
	}
	if f := sub.expect("data"); f.ID != "all" || f.event(t) != "3" {
		t.Fatalf("after unsubscribe: %s", f.raw)
	}
}

// An event published right after subscribe_success reaches the
// subscriber, every time.
func TestFirstEventAfterSubscribeSuccess(t *testing.T) {
	s := newServer(t, nil)
	c := s.connect(t, keyAuth())
	for i := range 50 {
		id := fmt.Sprint("s", i)
		c.subscribe(id, fmt.Sprint("/default/fresh", i), keyAuth())
		if code, body, _ := s.post(t, fmt.Sprintf(`{"channel":"/default/fresh%d","events":["%d"]}`, i, i), map[string]string{"x-api-key": apiKey}); code != 200 {
			t.Fatalf("POST %d %v", code, body)
		}
		if f := c.expect("data"); f.ID != id || f.event(t) != fmt.Sprint(i) {
			t.Fatalf("got %s", f.raw)
		}
	}
}

func TestKeepAlive(t *testing.T) {
	s := newServer(t, func(c *events.Config) { c.KeepAlive = events.Duration(50 * time.Millisecond) })
	c := s.connect(t, keyAuth())
	start := time.Now()
	for range 3 {
		c.expect("ka")
	}
	if d := time.Since(start); d < 100*time.Millisecond || d > 2*time.Second {
		t.Fatalf("3 ka in %v with a 50 ms interval", d)
	}
}

func TestConnectionTimeout(t *testing.T) {
	s := newServer(t, func(c *events.Config) { c.ConnectionTimeout = events.Duration(150 * time.Millisecond) })
	idle, _, err := s.dial(t, &websocket.DialOptions{Subprotocols: []string{eventsapi.Subprotocol, headerProtocol(keyAuth())}})
	if err != nil {
		t.Fatal(err)
	}
	busy := s.connect(t, keyAuth())
	f := idle.expect("connection_error")
	if f.errType() != events.TypeConnectionTimeout {
		t.Fatalf("got %s", f.raw)
	}
	if code := idle.closed(); code != websocket.StatusPolicyViolation {
		t.Fatalf("close status %v", code)
	}
	busy.subscribe("s", "/default/a", keyAuth())
}

func TestTokenExpiry(t *testing.T) {
	s := newServer(t, nil)
	c := s.connect(t, tokenAuth("short-alice"))
	c.subscribe("mine", "/users/alice-sub/*", tokenAuth("tok-alice"))
	f := c.expect("connection_error")
	if f.errType() != events.TypeUnauthorized || f.Errors[0].ErrorCode != 401 || !strings.Contains(f.Errors[0].Message, "Token expired") {
		t.Fatalf("got %s", f.raw)
	}
	if code := c.closed(); code != websocket.StatusPolicyViolation {
		t.Fatalf("close status %v", code)
	}
}

// A client that stops reading is disconnected; the others keep getting
// every event and publishing never blocks.
func TestSlowConsumer(t *testing.T) {
	s := newServer(t, func(c *events.Config) { c.SendQueueLength = 8 })
	slow := s.connect(t, keyAuth())
	slow.subscribe("s", "/default/feed", keyAuth())
	fast := s.connect(t, keyAuth())
	fast.subscribe("f", "/default/feed", keyAuth())
	got := make(chan string)
	go func() {
		defer close(got)
		for {
			f, err := fast.read(10 * time.Second)
			if err != nil || f.Type != "data" {
				return
			}
			e := f.event(t)
			got <- e[:min(len(e), 10)]
		}
	}()
	// Big events fill the slow client's socket buffers, then its queue.
	event := fmt.Sprintf("%q", strings.Repeat("e", 200<<10))
	for i := 0; s.hub.Stats().SlowConsumers == 0; i++ {
		if i == 1000 {
			t.Fatal("the slow consumer was never dropped")
		}
		start := time.Now()
		res, err := s.hub.Publish(context.Background(), events.Headers{"x-api-key": apiKey}, "/default/feed", []string{event})
		if err != nil || len(res.Successful) != 1 {
			t.Fatalf("publish %d: %v %+v", i, err, res)
		}
		if d := time.Since(start); d > time.Second {
			t.Fatalf("publish %d took %v", i, d)
		}
		if e, ok := <-got; !ok || e != `"eeeeeeeee` {
			t.Fatalf("fast consumer: event %d is %q, %v", i, e, ok)
		}
	}
	if code := slow.closed(); code != websocket.StatusPolicyViolation {
		t.Fatalf("slow consumer closed with %v", code)
	}
	if _, err := s.hub.Publish(context.Background(), events.Headers{"x-api-key": apiKey}, "/default/feed", []string{`"after"`}); err != nil {
		t.Fatal(err)
	}
	if e := <-got; e != `"after"` {
		t.Fatalf("fast consumer after the drop: %q", e)
	}
}

// TestPipelinedPublishes: a client that writes many more publishes than
// its send queue holds before reading anything (helper-20's repro in
// bench/EVENTS-RESULTS.md closed it as a slow consumer) is held back, not
// closed, and gets every answer and every event of its own channel.
func TestPipelinedPublishes(t *testing.T) {
	s := newServer(t, func(c *events.Config) { c.SendQueueLength = 16 })
	c := s.connect(t, keyAuth())
	c.subscribe("own", "/default/echo", keyAuth())
	const n = 300
	var msgs strings.Builder
	for i := range n {
		fmt.Fprintf(&msgs, `{"type":"publish","id":"p%d","channel":"/default/echo","events":["%d"],"authorization":{"x-api-key":%q}}`+"\n", i, i, apiKey)
	}
	go func() {
		for line := range strings.Lines(msgs.String()) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			err := c.ws.Write(ctx, websocket.MessageText, []byte(strings.TrimSpace(line)))
			cancel()
			if err != nil {
				t.Errorf("write: %v", err)
				return
			}
		}
	}()
	acks, data := 0, 0
	for acks < n || data < n {
		f, err := c.read(10 * time.Second)
		if err != nil {
			t.Fatalf("after %d answers and %d events: %v", acks, data, err)
		}
		switch f.Type {
		case "publish_success":
			if f.ID != fmt.Sprint("p", acks) || len(f.Successful) != 1 {
				t.Fatalf("answer %d: %s", acks, f.raw)
			}
			acks++
		case "data":
			if e := f.event(t); e != fmt.Sprint(data) {
				t.Fatalf("event %d: %q", data, e)
			}
			data++
		case "ka":
		default:
			t.Fatalf("unexpected %s", f.raw)
		}
	}
	if st := s.hub.Stats(); st.SlowConsumers != 0 {
		t.Fatalf("stats %+v", st)
	}
}

func TestOrigins(t *testing.T) {
	s := newServer(t, nil, "app.example.com", "https://*.example.org")
	tests := []struct {
		origin string
		ok     bool
	}{
		{"", true},
		{"https://app.example.com", true},
		{"http://app.example.com", true},
		{"https://x.example.org", true},
		{"http://x.example.org", false},
		{"https://evil.example", false},
		{"null", false},
	}
	for _, tc := range tests {
		t.Run(tc.origin, func(t *testing.T) {
			h := http.Header{}
			if tc.origin != "" {
				h.Set("Origin", tc.origin)
			}
			_, resp, err := s.dial(t, &websocket.DialOptions{Subprotocols: []string{eventsapi.Subprotocol, headerProtocol(keyAuth())}, HTTPHeader: h})
			if tc.ok != (err == nil) {
				t.Fatalf("dial from %q: %v", tc.origin, err)
			}
			if !tc.ok && resp.StatusCode != http.StatusForbidden {
				t.Fatalf("status %d, want 403", resp.StatusCode)
			}
		})
	}
}

func TestShutdownClosesConnections(t *testing.T) {
	s := newServer(t, nil)
	c := s.connect(t, keyAuth())
	c.subscribe("s", "/default/a", keyAuth())
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.hub.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if code := c.closed(); code != websocket.StatusGoingAway {
		t.Fatalf("close status %v, want 1001", code)
	}
	if st := s.hub.Stats(); st.Connections != 0 || st.Subscriptions != 0 {
		t.Fatalf("stats after shutdown %+v", st)
	}
}

// A client may send its first frame right behind the upgrade request (and
// net/http's background read may already hold its first byte): no byte
// may be lost in the handover to the WebSocket.
func TestPipelinedFirstFrame(t *testing.T) {
	s := newServer(t, nil)
	for i := range 20 {
		c, err := net.Dial("tcp", strings.TrimPrefix(s.srv.URL, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		init := []byte(`{"type":"connection_init"}`)
		frame := append([]byte{0x81, 0x80 | byte(len(init)), 0, 0, 0, 0}, init...) // masked with a zero key
		req := fmt.Sprintf("GET %s HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
			"Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: %s, %s\r\n\r\n",
			eventsapi.RealtimePath, base64.StdEncoding.EncodeToString([]byte("0123456789abcdef")), eventsapi.Subprotocol, headerProtocol(keyAuth()))
		if i%2 == 0 {
			_, err = c.Write(append([]byte(req), frame...)) // one packet
		} else if _, err = c.Write([]byte(req)); err == nil {
			time.Sleep(time.Millisecond)
			_, err = c.Write(frame)
		}
		if err != nil {
			t.Fatal(err)
		}
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		br := bufio.NewReader(c)
		resp, err := http.ReadResponse(br, nil)
		if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
			t.Fatalf("upgrade: %v %v", resp, err)
		}
		head := make([]byte, 2)
		if _, err := io.ReadFull(br, head); err != nil {
			t.Fatal(err)
		}
		body := make([]byte, head[1]&0x7f)
		if _, err := io.ReadFull(br, body); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(body), "connection_ack") {
			t.Fatalf("attempt %d: got %q", i, body)
		}
		c.Close()
	}
}

// A client that stops reading for good (its socket buffers full) is
// dropped, and the server's write blocked on it ends within a few
// seconds: nothing keeps the connection, its goroutines or the close
// handshake alive.
func TestStalledClientIsReleased(t *testing.T) {
	s := newServer(t, func(c *events.Config) { c.SendQueueLength = 4 })
	c, err := net.Dial("tcp", strings.TrimPrefix(s.srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.(*net.TCPConn).SetReadBuffer(4 << 10)
	sub, _ := json.Marshal(map[string]any{"type": "subscribe", "id": "s", "channel": "/default/stall", "authorization": keyAuth()})
	frame := append([]byte{0x81, 0x80 | byte(len(sub)), 0, 0, 0, 0}, sub...)
	req := fmt.Sprintf("GET %s HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: %s, %s\r\n\r\n",
		eventsapi.RealtimePath, base64.StdEncoding.EncodeToString([]byte("0123456789abcdef")), eventsapi.Subprotocol, headerProtocol(keyAuth()))
	if _, err := c.Write(append([]byte(req), frame...)); err != nil {
		t.Fatal(err)
	}
	for s.hub.Stats().Subscriptions == 0 {
		time.Sleep(time.Millisecond)
	}
	// From here on the client reads nothing. Paced publishing lets the
	// server's writer keep up until the socket is full and a write blocks;
	// only then does the queue overflow.
	event := fmt.Sprintf("%q", strings.Repeat("z", 100<<10))
	for i := 0; s.hub.Stats().SlowConsumers == 0; i++ {
		if i == 5000 {
			t.Fatal("never dropped")
		}
		if _, err := s.hub.Publish(context.Background(), events.Headers{"x-api-key": apiKey}, "/default/stall", []string{event}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Millisecond)
	}
	deadline := time.Now().Add(8 * time.Second)
	for {
		buf := make([]byte, 1<<20)
		stacks := string(buf[:runtime.Stack(buf, true)])
		if !strings.Contains(stacks, "eventsapi.(*batchWriter)") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a write to the stalled client is still blocked:\n%s", stacks)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
