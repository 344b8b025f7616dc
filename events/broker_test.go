package events_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cognate-auth/cognate/broker"
	"github.com/cognate-auth/cognate/broker/memory"
	"github.com/cognate-auth/cognate/broker/nats"
	"github.com/cognate-auth/cognate/events"
	"github.com/cognate-auth/cognate/internal/servicetest"
)

// flaky is a memory broker whose Publish fails, as a network broker's
// does, while down is set.
type flaky struct {
	*memory.Broker
	down atomic.Bool
}

func (f *flaky) Publish(ctx context.Context, m broker.Message) error {
	if f.down.Load() {
		return fmt.Errorf("flaky: %w", broker.ErrUnavailable)
	}
	return f.Broker.Publish(ctx, m)
}

func newHubWith(t *testing.T, b broker.Broker) *events.Hub {
	t.Helper()
	h, err := events.New(context.Background(), events.Config{}, events.Options{APIKeys: apiKeys, UserPool: userPool, Broker: b})
	if err != nil {
		t.Fatalf("events.New: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = h.Shutdown(ctx)
	})
	return h
}

func TestPublishWhileBrokerUnavailable(t *testing.T) {
	b := &flaky{Broker: memory.New()}
	h := newHubWith(t, b)
	c, tr := connect(t, h)
	subscribe(t, c, "s1", "/default/a", key())

	b.down.Store(true)
	_, err := h.Publish(context.Background(), key(), "/default/a", []string{`1`})
	var e *events.Error
	if !errors.As(err, &e) || e.Code != 503 || e.Type != events.TypeServiceClosing || !errors.Is(err, broker.ErrUnavailable) {
		t.Fatalf("HTTP publish while the broker is down: %v, want a 503 ServiceUnavailableException wrapping broker.ErrUnavailable", err)
	}
	if err := c.Publish(context.Background(), "p1", "/default/a", []string{`2`}, key()); !errors.Is(err, broker.ErrUnavailable) {
		t.Fatalf("WebSocket publish while the broker is down: %v", err)
	}
	f, _ := tr.wait(t, 0, ofType("publish_error"))
	if f.ID != "p1" || f.errType() != events.TypeServiceClosing || f.Errors[0].Message == "" {
		t.Fatalf("publish_error %+v, want id p1 and %s", f, events.TypeServiceClosing)
	}
	if got := h.Stats().PublishErrors; got != 2 {
		t.Fatalf("PublishErrors = %d, want 2", got)
	}

	b.down.Store(false)
	if _, err := h.Publish(context.Background(), key(), "/default/a", []string{`"0"`}); err != nil {
		t.Fatalf("publish once the broker is back: %v", err)
	}
	tr.wait(t, 0, ofType("data"))
	if n := strings.Count(strings.Join(tr.snapshot(), "\n"), `"type":"data"`); n != 1 {
		t.Fatalf("got %d data frames, want 1 (nothing published while the broker was down)", n)
	}
}

// TestTwoNodesOverNATS runs two hubs, each with its own connection to one
// NATS server, as two nodes do: an event published on either reaches the
// subscribers of both exactly once (the publishing node gets its own
// events back through the broker, and only that way).
func TestTwoNodesOverNATS(t *testing.T) {
	url, prefix := servicetest.NATS(t)
	hubs := make([]*events.Hub, 2)
	for i := range hubs {
		b, err := nats.Open(context.Background(), url, nats.Options{Prefix: prefix})
		if err != nil {
			t.Fatalf("nats.Open: %v", err)
		}
		t.Cleanup(func() { _ = b.Close() })
		hubs[i] = newHubWith(t, b)
	}
	trs := make([]*transport, len(hubs))
	for i, h := range hubs {
		var c *events.Conn
		c, trs[i] = connect(t, h)
		subscribe(t, c, "s", "/default/*", key())
	}
	const n = 50
	for i := range n {
		if _, err := hubs[i%2].Publish(context.Background(), key(), "/default/a", []string{fmt.Sprint(i)}); err != nil {
			t.Fatalf("Publish %d: %v", i, err)
		}
	}
	for i, tr := range trs {
		tr.wait(t, 0, func(f frame) bool { return f.Type == "data" && *f.Event == fmt.Sprint(n-1) })
		time.Sleep(100 * time.Millisecond)
		seen := map[string]int{}
		for _, s := range tr.snapshot() {
			if strings.Contains(s, `"type":"data"`) {
				seen[s[strings.LastIndex(s, `"event":`):]]++
			}
		}
		if len(seen) != n {
			t.Fatalf("node %d got %d distinct events, want %d", i, len(seen), n)
		}
		for ev, k := range seen {
			if k != 1 {
				t.Fatalf("node %d got %s %d times", i, ev, k)
			}
		}
	}
}
