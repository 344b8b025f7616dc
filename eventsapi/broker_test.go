package eventsapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cognate-auth/cognate/broker"
	"github.com/cognate-auth/cognate/broker/memory"
	"github.com/cognate-auth/cognate/events"
	"github.com/cognate-auth/cognate/eventsapi"
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

func TestPublishWhileBrokerUnavailable(t *testing.T) {
	b := &flaky{Broker: memory.New()}
	var cfg events.Config
	if err := json.Unmarshal([]byte(testConfig), &cfg); err != nil {
		t.Fatal(err)
	}
	hub, err := events.New(context.Background(), cfg, events.Options{APIKeys: apiKeys, UserPool: userPool, Broker: b})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	eventsapi.New(eventsapi.Options{Hub: hub, Registerer: prometheus.NewRegistry()}).Register(mux)
	s := &server{hub: hub, srv: httptest.NewServer(mux)}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = hub.Shutdown(ctx)
		s.srv.Close()
	})
	const body = `{"channel":"/default/room","events":["1"]}`
	key := map[string]string{"x-api-key": apiKey}
	c := s.connect(t, keyAuth())

	b.down.Store(true)
	status, resp, hdr := s.post(t, body, key)
	if status != http.StatusServiceUnavailable || errorType(resp) != events.TypeServiceClosing || hdr.Get("Retry-After") == "" {
		t.Fatalf("HTTP publish while the broker is down: %d %v Retry-After=%q, want 503 %s with Retry-After",
			status, resp, hdr.Get("Retry-After"), events.TypeServiceClosing)
	}
	c.sendJSON(map[string]any{"type": "publish", "id": "p1", "channel": "/default/room", "events": []string{"1"}, "authorization": keyAuth()})
	if f := c.expect("publish_error"); f.ID != "p1" || f.errType() != events.TypeServiceClosing {
		t.Fatalf("WebSocket publish while the broker is down: %s", f.raw)
	}

	b.down.Store(false)
	if status, resp, _ := s.post(t, body, key); status != http.StatusOK {
		t.Fatalf("HTTP publish once the broker is back: %d %v", status, resp)
	}
	c.sendJSON(map[string]any{"type": "publish", "id": "p2", "channel": "/default/room", "events": []string{"2"}, "authorization": keyAuth()})
	if f := c.expect("publish_success"); f.ID != "p2" {
		t.Fatalf("WebSocket publish once the broker is back: %s", f.raw)
	}
}
