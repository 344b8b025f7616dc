// Package brokertest is the conformance suite every broker.Broker
// implementation runs:
//
//	func TestConformance(t *testing.T) {
//		brokertest.Run(t, func(t *testing.T) broker.Broker { return memory.New() })
//	}
//
// Handlers may be called asynchronously, so every check waits (up to
// Timeout) for deliveries instead of expecting them on return from Publish.
//
// Network brokers also run RunNodes (two brokers on one server, as two
// nodes) and RunOutage (the server stopped and started again, with a
// private server process from internal/servicetest), and measure
// themselves with BenchPublishDeliver.
package brokertest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cognate-auth/cognate/broker"
)

// Timeout bounds every wait for a delivery.
var Timeout = 5 * time.Second

// quiet is how long a check waits to be sure something is NOT delivered.
const quiet = 100 * time.Millisecond

// Run runs the suite; newBroker returns a fresh, open broker per subtest
// (Run closes it).
func Run(t *testing.T, newBroker func(t *testing.T) broker.Broker) {
	tests := []struct {
		name string
		fn   func(t *testing.T, b broker.Broker)
	}{
		{"Delivery", testDelivery},
		{"NamespaceFilter", testNamespaceFilter},
		{"OrderPerPublisher", testOrder},
		{"SeveralSubscribers", testSeveral},
		{"Unsubscribe", testUnsubscribe},
		{"Close", testClose},
		{"ConcurrentPublish", testConcurrent},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := newBroker(t)
			t.Cleanup(func() { _ = b.Close() })
			tc.fn(t, b)
		})
	}
}

// recorder collects the messages a handler receives.
type recorder struct {
	mu   sync.Mutex
	msgs []broker.Message
	more chan struct{}
}

func newRecorder() *recorder { return &recorder{more: make(chan struct{}, 1)} }

func (r *recorder) handle(m broker.Message) {
	r.mu.Lock()
	r.msgs = append(r.msgs, m)
	r.mu.Unlock()
	select {
	case r.more <- struct{}{}:
	default:
	}
}

func (r *recorder) snapshot() []broker.Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.msgs)
}

// wait returns once n messages arrived, failing the test after Timeout.
func (r *recorder) wait(t *testing.T, n int) []broker.Message {
	t.Helper()
	deadline := time.After(Timeout)
	for {
		if got := r.snapshot(); len(got) >= n {
			return got
		}
		select {
		case <-r.more:
		case <-deadline:
			t.Fatalf("got %d messages, want %d", len(r.snapshot()), n)
		}
	}
}

func subscribe(t *testing.T, b broker.Broker, ns string, r *recorder) broker.Subscription {
	t.Helper()
	s, err := b.Subscribe(context.Background(), ns, r.handle)
	if err != nil {
		t.Fatalf("Subscribe(%q): %v", ns, err)
	}
	return s
}

func publish(t *testing.T, b broker.Broker, m broker.Message) {
	t.Helper()
	if err := b.Publish(context.Background(), m); err != nil {
		t.Fatalf("Publish(%s): %v", m.ID, err)
	}
}

func msg(id, channel string, events ...string) broker.Message {
	return broker.Message{ID: id, Channel: channel, Events: events}
}

func testDelivery(t *testing.T, b broker.Broker) {
	r := newRecorder()
	subscribe(t, b, "", r)
	want := msg("m1", "/default/room/1", `{"a":1}`, `"two"`, `3`)
	publish(t, b, want)
	got := r.wait(t, 1)
	if len(got) != 1 || got[0].ID != want.ID || got[0].Channel != want.Channel || !slices.Equal(got[0].Events, want.Events) {
		t.Fatalf("got %+v, want [%+v]", got, want)
	}
}

func testNamespaceFilter(t *testing.T, b broker.Broker) {
	chat, all := newRecorder(), newRecorder()
	subscribe(t, b, "chat", chat)
	subscribe(t, b, "", all)
	publish(t, b, msg("other", "/other/x", `1`))
	publish(t, b, msg("chatty", "/chat/x/y", `2`))
	publish(t, b, msg("prefix", "/chatter/x", `3`))
	if got := all.wait(t, 3); len(got) != 3 {
		t.Fatalf("all-namespace subscriber got %d messages, want 3", len(got))
	}
	chat.wait(t, 1)
	time.Sleep(quiet)
	got := chat.snapshot()
	if len(got) != 1 || got[0].ID != "chatty" {
		t.Fatalf("chat subscriber got %+v, want only message chatty", got)
	}
}

func testOrder(t *testing.T, b broker.Broker) {
	const n = 500
	r := newRecorder()
	subscribe(t, b, "default", r)
	for i := range n {
		publish(t, b, msg(strconv.Itoa(i), "/default/seq", strconv.Itoa(i)))
	}
	got := r.wait(t, n)
	for i, m := range got {
		if m.ID != strconv.Itoa(i) {
			t.Fatalf("message %d has id %s: out of order", i, m.ID)
		}
	}
}

func testSeveral(t *testing.T, b broker.Broker) {
	rs := []*recorder{newRecorder(), newRecorder(), newRecorder()}
	for _, r := range rs {
		subscribe(t, b, "default", r)
	}
	publish(t, b, msg("x", "/default/a", `true`))
	for i, r := range rs {
		if got := r.wait(t, 1); got[0].ID != "x" {
			t.Fatalf("subscriber %d got %+v", i, got)
		}
	}
}

func testUnsubscribe(t *testing.T, b broker.Broker) {
	gone, stays := newRecorder(), newRecorder()
	s := subscribe(t, b, "", gone)
	subscribe(t, b, "", stays)
	publish(t, b, msg("before", "/default/a", `1`))
	gone.wait(t, 1)
	if err := s.Unsubscribe(); err != nil {
		t.Fatalf("Unsubscribe: %v", err)
	}
	if err := s.Unsubscribe(); err != nil {
		t.Fatalf("second Unsubscribe: %v", err)
	}
	publish(t, b, msg("after", "/default/a", `2`))
	if got := stays.wait(t, 2); got[1].ID != "after" {
		t.Fatalf("remaining subscriber got %+v", got)
	}
	time.Sleep(quiet)
	if got := gone.snapshot(); len(got) != 1 {
		t.Fatalf("unsubscribed handler got %d messages, want 1", len(got))
	}
}

func testClose(t *testing.T, b broker.Broker) {
	r := newRecorder()
	subscribe(t, b, "", r)
	if err := b.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := b.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := b.Publish(context.Background(), msg("late", "/default/a", `1`)); !errors.Is(err, broker.ErrClosed) {
		t.Fatalf("Publish after Close: %v, want ErrClosed", err)
	}
	if _, err := b.Subscribe(context.Background(), "", r.handle); !errors.Is(err, broker.ErrClosed) {
		t.Fatalf("Subscribe after Close: %v, want ErrClosed", err)
	}
	time.Sleep(quiet)
	if got := r.snapshot(); len(got) != 0 {
		t.Fatalf("closed broker delivered %+v", got)
	}
}

func testConcurrent(t *testing.T, b broker.Broker) {
	const publishers, each = 8, 200
	r := newRecorder()
	subscribe(t, b, "", r)
	var wg sync.WaitGroup
	errs := make(chan error, publishers)
	for p := range publishers {
		wg.Go(func() {
			for i := range each {
				m := msg(fmt.Sprintf("%d-%d", p, i), fmt.Sprintf("/default/p%d", p), strconv.Itoa(i))
				if err := b.Publish(context.Background(), m); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("concurrent Publish: %v", err)
	}
	got := r.wait(t, publishers*each)
	next := make(map[string]int)
	for _, m := range got {
		seq, err := strconv.Atoi(m.Events[0])
		if err != nil {
			t.Fatalf("message %s: bad event %q", m.ID, m.Events[0])
		}
		if seq != next[m.Channel] {
			t.Fatalf("channel %s: got event %d, want %d (publisher order lost)", m.Channel, seq, next[m.Channel])
		}
		next[m.Channel]++
	}
}

// Logger is a logger that writes to t's log until t ends (and then
// discards), for the brokers under test.
func Logger(t testing.TB) *slog.Logger {
	w := &testWriter{t: t}
	t.Cleanup(func() {
		w.mu.Lock()
		w.done = true
		w.mu.Unlock()
	})
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type testWriter struct {
	t    testing.TB
	mu   sync.Mutex // a Write finishes before done is set
	done bool
}

func (w *testWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done {
		w.t.Log(strings.TrimSuffix(string(p), "\n"))
	}
	return len(p), nil
}
