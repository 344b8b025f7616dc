package cluster_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/cognate-auth/cognate/internal/servicetest"
)

// channel is where the broker tests publish and subscribe.
const channel = "/default/cluster"

// frame is one message a subscriber's socket received.
type frame struct {
	at  time.Time
	typ string
	raw string
	m   map[string]any
}

// subscriber is one events WebSocket on one node with one subscription
// to channel, authorized by an API key, read by a goroutine of its own
// for as long as the server keeps it open.
type subscriber struct {
	t    *testing.T
	name string
	ws   *websocket.Conn

	mu       sync.Mutex
	frames   []frame
	closedAt time.Time
	closeErr error
}

// subscribe opens a WebSocket on n (the AppSync Events handshake: the
// aws-appsync-event-ws subprotocol, the authorization in a header-…
// subprotocol, connection_init → connection_ack) and subscribes to
// channel with id "s".
func subscribe(t *testing.T, n *node, key string) *subscriber {
	t.Helper()
	auth := map[string]string{"x-api-key": key, "host": n.addr}
	hdr, _ := json.Marshal(auth)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, "ws://"+n.addr+"/event/realtime", &websocket.DialOptions{
		Subprotocols: []string{"aws-appsync-event-ws", "header-" + base64.RawURLEncoding.EncodeToString(hdr)},
	})
	if err != nil {
		t.Fatalf("%s: dial events: %v", n.name, err)
	}
	ws.SetReadLimit(1 << 20)
	t.Cleanup(func() { ws.CloseNow() })
	s := &subscriber{t: t, name: n.name, ws: ws}
	s.send(ctx, map[string]any{"type": "connection_init"})
	if m := s.read(ctx); m["type"] != "connection_ack" {
		t.Fatalf("%s: after connection_init: %v", n.name, m)
	}
	s.send(ctx, map[string]any{"type": "subscribe", "id": "s", "channel": channel, "authorization": auth})
	if m := s.read(ctx); m["type"] != "subscribe_success" || m["id"] != "s" {
		t.Fatalf("%s: subscribe: %v", n.name, m)
	}
	go s.readLoop()
	return s
}

func (s *subscriber) send(ctx context.Context, m map[string]any) {
	s.t.Helper()
	b, _ := json.Marshal(m)
	if err := s.ws.Write(ctx, websocket.MessageText, b); err != nil {
		s.t.Fatalf("%s: write: %v", s.name, err)
	}
}

// read returns the next message that is not a keep-alive (before the
// read loop runs).
func (s *subscriber) read(ctx context.Context) map[string]any {
	s.t.Helper()
	for {
		_, b, err := s.ws.Read(ctx)
		if err != nil {
			s.t.Fatalf("%s: read: %v", s.name, err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			s.t.Fatalf("%s: frame %q: %v", s.name, b, err)
		}
		if m["type"] != "ka" {
			return m
		}
	}
}

// readLoop records every frame until the socket ends.
func (s *subscriber) readLoop() {
	for {
		_, b, err := s.ws.Read(context.Background())
		now := time.Now()
		if err != nil {
			s.mu.Lock()
			s.closedAt, s.closeErr = now, err
			s.mu.Unlock()
			return
		}
		f := frame{at: now, raw: string(b)}
		if json.Unmarshal(b, &f.m) == nil {
			f.typ, _ = f.m["type"].(string)
		}
		s.mu.Lock()
		s.frames = append(s.frames, f)
		s.mu.Unlock()
	}
}

// events are the events of the data frames received, in order, with
// when each arrived.
func (s *subscriber) events() (evs []string, at []time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range s.frames {
		if f.typ == "data" {
			ev, _ := f.m["event"].(string)
			evs = append(evs, ev)
			at = append(at, f.at)
		}
	}
	return evs, at
}

// received says when ev arrived (zero if it has not).
func (s *subscriber) received(ev string) time.Time {
	evs, at := s.events()
	for i, e := range evs {
		if e == ev {
			return at[i]
		}
	}
	return time.Time{}
}

// others are the frames that are neither data nor keep-alives: error
// frames the server sent.
func (s *subscriber) others() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, f := range s.frames {
		if f.typ != "data" && f.typ != "ka" {
			out = append(out, f.raw)
		}
	}
	return out
}

// closed says whether, when and how the server ended the socket.
func (s *subscriber) closed() (time.Time, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closedAt, s.closeErr
}

// publishResult is the answer to one POST /event.
type publishResult struct {
	status     int
	errType    string // x-amzn-ErrorType
	retryAfter string
	body       string
	err        error // no answer
	took       time.Duration
}

// kind names the result for the counts: "200", or the status, error
// type and whether Retry-After came.
func (r publishResult) kind() string {
	switch {
	case r.err != nil:
		return "no answer: " + classify(r.err)
	case r.status == http.StatusOK:
		return "200"
	case r.retryAfter != "":
		return fmt.Sprintf("%d %s (Retry-After: %s)", r.status, r.errType, r.retryAfter)
	}
	return fmt.Sprintf("%d %s (no Retry-After)", r.status, r.errType)
}

// publish posts ev to channel through n with the API key.
func publish(ctx context.Context, n *node, key, ev string) publishResult {
	body, _ := json.Marshal(map[string]any{"channel": channel, "events": []string{ev}})
	ctx, cancel := ctxFor(ctx)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, n.url+"/event", bytes.NewReader(body))
	if err != nil {
		return publishResult{err: err}
	}
	req.Header.Set("x-api-key", key)
	req.Header.Set("Content-Type", "application/json")
	start := time.Now()
	resp, err := n.http.Do(req)
	if err != nil {
		return publishResult{err: err, took: time.Since(start)}
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	r := publishResult{
		status: resp.StatusCode, errType: resp.Header.Get("x-amzn-ErrorType"), retryAfter: resp.Header.Get("Retry-After"),
		body: string(b), took: time.Since(start),
	}
	if r.status == http.StatusOK {
		// A 200 can still report the event failed.
		var res struct {
			Failed []any `json:"failed"`
		}
		if json.Unmarshal(b, &res) == nil && len(res.Failed) > 0 {
			r.status, r.errType = -1, "200 with failed events: "+r.body
		}
	}
	return r
}

// TestBrokerOutage publishes on node 1 to WebSocket subscribers on nodes
// 2 and 3 through a private broker, stops the broker, publishes into the
// outage, starts it again and publishes until the events resume, for
// NATS and for Redis. No node restarts and no client reconnects. During
// the outage a publish must fail with an error that says to retry, and
// must not be delivered later; afterwards the existing subscriptions must
// receive events again within resumeBound (or, if the server ends them,
// the client must be told with an error frame).
func TestBrokerOutage(t *testing.T) {
	const (
		outageFor    = 3 * time.Second
		publishEvery = 250 * time.Millisecond
		resumeBound  = 20 * time.Second
		deliverBound = 5 * time.Second
	)
	tests := []struct {
		name  string
		start func(testing.TB) *servicetest.Server
	}{
		{"nats", servicetest.StartNATSServer},
		{"redis", servicetest.StartRedisServer},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			db := servicetest.Postgres(t)
			broker := tc.start(t)
			c := newCluster(t, db, broker.URL())
			ctx := t.Context()
			pub := c.nodes[0]
			subs := []*subscriber{subscribe(t, c.nodes[1], c.eventsKey), subscribe(t, c.nodes[2], c.eventsKey)}
			seq := 0
			next := func(phase string) string {
				seq++
				return fmt.Sprintf(`{"phase":%q,"seq":%d}`, phase, seq)
			}
			// waitAll waits until every subscriber has ev, or bound.
			waitAll := func(ev string, bound time.Duration) bool {
				deadline := time.Now().Add(bound)
				for time.Now().Before(deadline) {
					ok := true
					for _, s := range subs {
						ok = ok && !s.received(ev).IsZero()
					}
					if ok {
						return true
					}
					time.Sleep(20 * time.Millisecond)
				}
				return false
			}

			// Before: node 1's publish reaches nodes 2 and 3.
			first := next("before")
			if r := publish(ctx, pub, c.eventsKey, first); r.status != http.StatusOK {
				t.Fatalf("publish before the outage: %s %s %v", r.kind(), r.body, r.err)
			}
			if !waitAll(first, deliverBound) {
				t.Fatalf("event published on node1 did not reach both subscribers within %s", deliverBound)
			}

			// Outage: every publish fails, and says to retry.
			stopStart := time.Now()
			broker.Stop(t)
			down := time.Now()
			outcomes := newTally()
			var outageEvents []string
			var slowest time.Duration
			for time.Since(down) < outageFor {
				ev := next("outage")
				r := publish(ctx, pub, c.eventsKey, ev)
				outcomes.add("publish during the outage", r.kind(), nil)
				slowest = max(slowest, r.took)
				if r.status == http.StatusOK {
					t.Errorf("publish %s %s after the broker stopped was acknowledged", ev, time.Since(down).Round(time.Millisecond))
				}
				if r.err != nil {
					t.Errorf("publish during the outage got no answer: %v", r.err)
				}
				if r.status != http.StatusOK && r.err == nil && r.status != http.StatusServiceUnavailable {
					t.Errorf("publish during the outage: %s, want 503 (retryable); body %s", r.kind(), r.body)
				}
				if r.status == http.StatusServiceUnavailable && r.retryAfter == "" {
					t.Errorf("publish during the outage: 503 without Retry-After; body %s", r.body)
				}
				outageEvents = append(outageEvents, ev)
				time.Sleep(publishEvery)
			}
			t.Logf("%s stopped (took %s); %d publishes during %s of outage, slowest answer %s:%s",
				tc.name, down.Sub(stopStart).Round(time.Millisecond), len(outageEvents), outageFor, slowest.Round(time.Millisecond), outcomes)

			// After: publish until both subscribers get an event again.
			broker.Start(t)
			up := time.Now()
			var firstAccepted time.Time
			var accepted []string
			acceptedAt := map[string]time.Time{}
			after := newTally()
			for time.Since(up) < resumeBound {
				ev := next("after")
				r := publish(ctx, pub, c.eventsKey, ev)
				after.add("publish after the restart", r.kind(), nil)
				if r.status == http.StatusOK {
					if firstAccepted.IsZero() {
						firstAccepted = time.Now()
					}
					accepted = append(accepted, ev)
					acceptedAt[ev] = time.Now()
				} else if r.err != nil || r.status != http.StatusServiceUnavailable {
					t.Errorf("publish after the restart: %s %s %v", r.kind(), r.body, r.err)
				}
				done := len(accepted) > 0
				for _, s := range subs {
					evs, _ := s.events()
					got := false
					for _, e := range evs {
						got = got || strings.Contains(e, `"after"`)
					}
					done = done && got
				}
				if done {
					break
				}
				time.Sleep(publishEvery)
			}
			if firstAccepted.IsZero() {
				t.Fatalf("no publish was accepted within %s of %s's restart:%s", resumeBound, tc.name, after)
			}
			t.Logf("%s back: node1 accepted publishes again after %s:%s", tc.name, firstAccepted.Sub(up).Round(time.Millisecond), after)

			// Then steady: every event reaches both, in order.
			var steady []string
			for range 5 {
				ev := next("steady")
				if r := publish(ctx, pub, c.eventsKey, ev); r.status != http.StatusOK {
					t.Errorf("publish once recovered: %s %s %v", r.kind(), r.body, r.err)
					continue
				}
				steady = append(steady, ev)
			}
			for _, ev := range steady {
				waitAll(ev, deliverBound)
			}

			for _, s := range subs {
				evs, at := s.events()
				index := map[string]int{}
				for i, e := range evs {
					index[e] = i
				}
				var lostAfter []string
				firstAfter := time.Time{}
				for i, e := range evs {
					if strings.Contains(e, `"after"`) && firstAfter.IsZero() {
						firstAfter = at[i]
					}
				}
				for _, ev := range accepted {
					if _, ok := index[ev]; ok {
						continue
					}
					lostAfter = append(lostAfter, ev)
					if !firstAfter.IsZero() && acceptedAt[ev].After(firstAfter) {
						t.Errorf("%s: %s, accepted after the subscription had resumed, was never delivered", s.name, ev)
					}
				}
				var phantom []string
				for _, ev := range outageEvents {
					if _, ok := index[ev]; ok {
						phantom = append(phantom, ev)
					}
				}
				if len(phantom) > 0 {
					t.Errorf("%s received %d events whose publish failed during the outage (a retrying client would send them twice): %v", s.name, len(phantom), phantom)
				}
				closedAt, closeErr := s.closed()
				notices := s.others()
				switch {
				case !firstAfter.IsZero():
					t.Logf("%s: existing subscription resumed %s after %s's restart (no reconnect); %d of %d publishes accepted before then were lost; frames other than data: %v",
						s.name, firstAfter.Sub(up).Round(time.Millisecond), tc.name, len(lostAfter), len(accepted), notices)
				case !closedAt.IsZero() && len(notices) > 0:
					t.Logf("%s: the server ended the subscription %s after the outage began, telling the client %v (close: %v)",
						s.name, closedAt.Sub(down).Round(time.Millisecond), notices, closeErr)
				case !closedAt.IsZero():
					t.Errorf("%s: the server closed the socket %s after the outage began without an error frame (close: %v)",
						s.name, closedAt.Sub(down).Round(time.Millisecond), closeErr)
				default:
					t.Errorf("%s: the subscription is open but received nothing within %s of %s's restart, and the client was told nothing (frames: %v)",
						s.name, resumeBound, tc.name, notices)
				}
				if closedAt.IsZero() {
					var order []int
					for _, ev := range steady {
						i, ok := index[ev]
						if !ok {
							t.Errorf("%s: steady event %s not delivered within %s", s.name, ev, deliverBound)
							continue
						}
						order = append(order, i)
					}
					if !sort.IntsAreSorted(order) {
						t.Errorf("%s: steady events out of order: %v", s.name, order)
					}
				}
			}
		})
	}
}
