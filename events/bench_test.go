package events_test

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/cognate-auth/cognate/events"
)

// discard is a transport that writes nowhere, so the benchmarks measure
// the Hub: authorization, broker, fan-out, queues and writer goroutines.
type discard struct{}

func (discard) WriteFrame([]byte) error { return nil }
func (discard) Flush() error            { return nil }
func (discard) Close(error)             {}

// BenchmarkFanout publishes 100-byte events (one per publish) to
// subscriptions on one channel (subscribers=N) or to one subscription on
// each of N channels (channels=N), and reports deliveries per second.
func BenchmarkFanout(b *testing.B) {
	event := fmt.Sprintf(`{"text":%q}`, strings.Repeat("x", 88))
	for _, bc := range []struct {
		name                  string
		subscribers, channels int
	}{
		{"subscribers=1000", 1000, 1},
		{"subscribers=10000", 10000, 1},
		{"channels=10000", 1, 10000},
	} {
		b.Run(bc.name, func(b *testing.B) {
			h := newHub(b, events.Config{
				SendQueueLength: 1 << 20, SendQueueBytes: 1 << 30, MaxSubscriptionsPerConnection: 1,
				MaxConnections: events.Unlimited, MaxConnectionsPerAPIKey: events.Unlimited,
			})
			ctx := context.Background()
			channels := make([]string, bc.channels)
			for i := range channels {
				channels[i] = fmt.Sprintf("/default/ch%d", i)
			}
			for i := range bc.subscribers * bc.channels {
				c, err := h.Connect(ctx, "", key(), discard{})
				if err != nil {
					b.Fatal(err)
				}
				if err := c.Subscribe(ctx, "s", channels[i%bc.channels], key()); err != nil {
					b.Fatal(err)
				}
			}
			base := h.Stats().Deliveries
			want := base + uint64(b.N*bc.subscribers)
			runtime.GC()
			b.ReportAllocs()
			b.ResetTimer()
			start := time.Now()
			events := []string{event}
			for i := range b.N {
				if _, err := h.Publish(ctx, key(), channels[i%bc.channels], events); err != nil {
					b.Fatal(err)
				}
			}
			for h.Stats().Deliveries < want {
				if time.Since(start) > 30*time.Second {
					b.Fatalf("stats %+v, want %d deliveries", h.Stats(), want)
				}
				time.Sleep(100 * time.Microsecond)
			}
			elapsed := time.Since(start)
			b.StopTimer()
			if d := h.Stats().Dropped; d != 0 {
				b.Fatalf("%d deliveries dropped", d)
			}
			b.ReportMetric(float64(b.N*bc.subscribers)/elapsed.Seconds(), "deliveries/s")
			b.ReportMetric(float64(elapsed.Nanoseconds())/float64(b.N*bc.subscribers), "ns/delivery")
		})
	}
}
