package brokertest

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cognate-auth/cognate/broker"
)

// Bounds of the outage part.
var (
	// CallTimeout is the context deadline of each call made while the
	// server is down; a call must return within it plus Slack.
	CallTimeout = 2 * time.Second
	// Slack is how far past its context's deadline a call may return.
	Slack = time.Second
	// FailWithin bounds the time from the server's stop to the first
	// Publish that fails.
	FailWithin = 5 * time.Second
	// RecoverWithin bounds the time from the server's start to the first
	// publish that reaches the existing subscriptions again.
	RecoverWithin = 15 * time.Second
)

// RunOutage is the outage part of the suite, for network brokers. open
// returns a new, open broker connected to the server (RunOutage closes
// it); stop and start stop the server and start it again at the same
// address. It checks that, with subscribers on one broker and a
// publisher on another (two nodes):
//
//   - once the server is gone, Publish fails, within FailWithin, with an
//     error wrapping broker.ErrUnavailable, and no call (Publish,
//     Subscribe, Unsubscribe, Close) outlives its context by more than
//     Slack;
//   - once the server is back, within RecoverWithin, publishes reach the
//     subscriptions made before the outage, without resubscribing, in
//     order and each once, while a subscription ended during the outage
//     stays ended.
func RunOutage(t *testing.T, open func(t *testing.T) broker.Broker, stop, start func(t *testing.T)) {
	sub, pub, spare := open(t), open(t), open(t)
	for _, b := range []broker.Broker{sub, pub, spare} {
		t.Cleanup(func() { _ = b.Close() })
	}
	all, ns, gone := newRecorder(), newRecorder(), newRecorder()
	subscribe(t, sub, "", all)
	subscribe(t, sub, "default", ns)
	ended := subscribe(t, sub, "default", gone)
	publish(t, pub, msg("before", "/default/a", `0`))
	for _, r := range []*recorder{all, ns, gone} {
		r.wait(t, 1)
	}

	stop(t)
	down := time.Now()
	var failure error
	for i := 0; failure == nil; i++ {
		if time.Since(down) > FailWithin {
			t.Fatalf("Publish still succeeds %s after the server stopped: messages are buffered or lost silently", FailWithin)
		}
		failure = bounded(t, "Publish while the server is down", func(ctx context.Context) error {
			return pub.Publish(ctx, msg("down-"+strconv.Itoa(i), "/default/a", `1`))
		})
		if failure == nil {
			time.Sleep(50 * time.Millisecond)
		}
	}
	if !errors.Is(failure, broker.ErrUnavailable) {
		t.Fatalf("Publish while the server is down: %v, want an error wrapping broker.ErrUnavailable", failure)
	}
	t.Logf("Publish failed %s after the server stopped: %v", time.Since(down).Round(time.Millisecond), failure)
	if err := bounded(t, "Publish on the subscribing broker while the server is down", func(ctx context.Context) error {
		return sub.Publish(ctx, msg("down-sub", "/default/a", `1`))
	}); err == nil {
		t.Logf("the subscribing broker has not noticed the outage yet: its Publish succeeded")
	}
	var late broker.Subscription
	if err := bounded(t, "Subscribe while the server is down", func(ctx context.Context) error {
		s, err := spare.Subscribe(ctx, "default", func(broker.Message) {})
		late = s
		return err
	}); err != nil && !errors.Is(err, broker.ErrUnavailable) {
		t.Fatalf("Subscribe while the server is down: %v, want nil or an error wrapping broker.ErrUnavailable", err)
	}
	if late != nil {
		bounded(t, "Unsubscribe of a subscription made while the server is down", func(context.Context) error {
			return late.Unsubscribe()
		})
	}
	if err := bounded(t, "Unsubscribe while the server is down", func(context.Context) error { return ended.Unsubscribe() }); err != nil {
		t.Fatalf("Unsubscribe while the server is down: %v", err)
	}
	if err := bounded(t, "Close while the server is down", func(context.Context) error { return spare.Close() }); err != nil {
		t.Fatalf("Close while the server is down: %v", err)
	}

	start(t)
	up := time.Now()
	for i := 0; !has(all, "retry-") || !has(ns, "retry-"); i++ {
		if time.Since(up) > RecoverWithin {
			t.Fatalf("no publish reached the subscriptions within %s of the server's restart (all-namespaces got %d messages, namespace %d)",
				RecoverWithin, len(all.snapshot()), len(ns.snapshot()))
		}
		_ = bounded(t, "Publish after the server restarted", func(ctx context.Context) error {
			return pub.Publish(ctx, msg("retry-"+strconv.Itoa(i), "/default/a", `2`))
		})
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("deliveries resumed %s after the server restarted", time.Since(up).Round(time.Millisecond))

	const n = 100
	for i := range n {
		publish(t, pub, msg("after-"+strconv.Itoa(i), "/default/a", strconv.Itoa(i)))
	}
	for _, r := range []*recorder{all, ns} {
		got := waitFor(t, r, "after-"+strconv.Itoa(n-1))
		checkOnce(t, got)
		next := 0
		for _, m := range got {
			if seq, ok := strings.CutPrefix(m.ID, "after-"); ok {
				if seq != strconv.Itoa(next) {
					t.Fatalf("after the restart got %s, want after-%d (order lost or message missing)", m.ID, next)
				}
				next++
			}
		}
	}
	time.Sleep(quiet)
	if got := gone.snapshot(); len(got) != 1 {
		t.Fatalf("a subscription ended during the outage got %d messages, want 1", len(got))
	}
}

// RunNodes checks two brokers of one installation, as two nodes would
// open them (open returns a new, open broker on the same server and
// prefix each time; RunNodes closes them): each publishes a sequence of
// messages at the same time, and every subscriber on both receives every
// message once, in each publisher's order (its own messages included).
func RunNodes(t *testing.T, open func(t *testing.T) broker.Broker) {
	const n = 1000
	nodes := []broker.Broker{open(t), open(t)}
	recs := make([]*recorder, len(nodes))
	for i, b := range nodes {
		t.Cleanup(func() { _ = b.Close() })
		recs[i] = newRecorder()
		subscribe(t, b, "", recs[i])
	}
	var wg sync.WaitGroup
	errs := make(chan error, len(nodes))
	for i, b := range nodes {
		wg.Go(func() {
			for j := range n {
				if err := b.Publish(context.Background(), msg(fmt.Sprintf("n%d-%d", i, j), fmt.Sprintf("/default/n%d", i), strconv.Itoa(j))); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("Publish: %v", err)
	}
	for i, r := range recs {
		r.wait(t, len(nodes)*n)
		time.Sleep(quiet)
		got := r.snapshot()
		if len(got) != len(nodes)*n {
			t.Fatalf("node %d got %d messages, want %d", i, len(got), len(nodes)*n)
		}
		checkOnce(t, got)
		next := make(map[string]int)
		for _, m := range got {
			if seq := m.Events[0]; seq != strconv.Itoa(next[m.Channel]) {
				t.Fatalf("node %d: channel %s: got event %s, want %d (publisher order lost)", i, m.Channel, seq, next[m.Channel])
			}
			next[m.Channel]++
		}
	}
}

// bounded runs f with a context of CallTimeout and fails t unless f
// returns within CallTimeout plus Slack.
func bounded(t *testing.T, what string, f func(ctx context.Context) error) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), CallTimeout)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- f(ctx) }()
	select {
	case err := <-done:
		return err
	case <-time.After(CallTimeout + Slack):
		t.Fatalf("%s hangs: no return within %s of a %s context", what, CallTimeout+Slack, CallTimeout)
		return nil
	}
}

// has reports whether r received a message whose ID starts with prefix.
func has(r *recorder, prefix string) bool {
	for _, m := range r.snapshot() {
		if strings.HasPrefix(m.ID, prefix) {
			return true
		}
	}
	return false
}

// waitFor returns r's messages once one has the ID id, failing t after
// Timeout.
func waitFor(t *testing.T, r *recorder, id string) []broker.Message {
	t.Helper()
	deadline := time.After(Timeout)
	for {
		got := r.snapshot()
		for _, m := range got {
			if m.ID == id {
				return got
			}
		}
		select {
		case <-r.more:
		case <-deadline:
			t.Fatalf("message %s not delivered within %s (got %d messages)", id, Timeout, len(got))
		}
	}
}

// checkOnce fails t if a message ID arrived twice.
func checkOnce(t *testing.T, got []broker.Message) {
	t.Helper()
	seen := make(map[string]bool, len(got))
	for _, m := range got {
		if seen[m.ID] {
			t.Fatalf("message %s delivered twice", m.ID)
		}
		seen[m.ID] = true
	}
}
