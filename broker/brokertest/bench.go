package brokertest

import (
	"context"
	"crypto/rand"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cognate-auth/cognate/broker"
)

// benchEvent is a typical small event (about 100 bytes of JSON).
const benchEvent = `{"type":"message","room":"lobby","from":"alice","text":"hello, everyone: the meeting starts at ten"}`

// BenchPublishDeliver measures b.N messages, published one after another
// on pub, each delivered to a subscriber on sub (another connection, for
// a network broker; pub itself for memory). Besides ns/op it reports
// msgs/s (publish of the first to delivery of the last) and p50-µs, the
// median time from the start of a Publish to the delivery.
func BenchPublishDeliver(b *testing.B, pub, sub broker.Broker) {
	benchPublishDeliver(b, pub, sub, false)
}

// BenchPublishDeliverParallel is BenchPublishDeliver with GOMAXPROCS
// publishing goroutines (b.SetParallelism raises it), as concurrent
// requests publish on one node.
func BenchPublishDeliverParallel(b *testing.B, pub, sub broker.Broker) {
	benchPublishDeliver(b, pub, sub, true)
}

func benchPublishDeliver(b *testing.B, pub, sub broker.Broker, parallel bool) {
	ns := "bench" + rand.Text()[:8]
	ch := "/" + ns + "/room"
	sent := make([]atomic.Int64, b.N)
	lat := make([]int64, b.N)
	var got atomic.Int64
	done := make(chan struct{})
	s, err := sub.Subscribe(context.Background(), ns, func(m broker.Message) {
		i, err := strconv.Atoi(m.ID)
		if err != nil || i >= len(lat) {
			return
		}
		lat[i] = time.Now().UnixNano() - sent[i].Load()
		if got.Add(1) == int64(len(lat)) {
			close(done)
		}
	})
	if err != nil {
		b.Fatalf("Subscribe: %v", err)
	}
	defer s.Unsubscribe()
	events := []string{benchEvent}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	publish := func(i int) error {
		sent[i].Store(time.Now().UnixNano())
		return pub.Publish(ctx, broker.Message{ID: strconv.Itoa(i), Channel: ch, Events: events})
	}
	if parallel {
		var next atomic.Int64
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := publish(int(next.Add(1) - 1)); err != nil {
					b.Errorf("Publish: %v", err)
					return
				}
			}
		})
	} else {
		for i := range b.N {
			if err := publish(i); err != nil {
				b.Fatalf("Publish: %v", err)
			}
		}
	}
	if b.Failed() {
		return
	}
	select {
	case <-done:
	case <-time.After(Timeout + time.Duration(b.N)*time.Millisecond):
		b.Fatalf("%d of %d messages delivered", got.Load(), b.N)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msgs/s")
	b.ReportMetric(float64(lat[len(lat)/2])/1e3, "p50-µs")
}
