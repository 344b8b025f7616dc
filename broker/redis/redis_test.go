package redis_test

import (
	"context"
	"testing"
	"time"

	"github.com/cognate-auth/cognate/broker"
	"github.com/cognate-auth/cognate/broker/brokertest"
	"github.com/cognate-auth/cognate/broker/redis"
	"github.com/cognate-auth/cognate/internal/servicetest"
)

func open(t testing.TB, url, prefix string) broker.Broker {
	t.Helper()
	b, err := redis.Open(context.Background(), url, redis.Options{Prefix: prefix, Logger: brokertest.Logger(t)})
	if err != nil {
		t.Fatalf("Open(%s): %v", url, err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return b
}

func TestConformance(t *testing.T) {
	brokertest.Run(t, func(t *testing.T) broker.Broker {
		url, prefix := servicetest.Redis(t)
		return open(t, url, prefix)
	})
}

func TestNodes(t *testing.T) {
	url, prefix := servicetest.Redis(t)
	brokertest.RunNodes(t, func(t *testing.T) broker.Broker { return open(t, url, prefix) })
}

func TestOutage(t *testing.T) {
	tests := []struct {
		name string
		stop func(*servicetest.Server, testing.TB)
	}{
		{"SIGTERM", (*servicetest.Server).Stop},
		{"SIGKILL", (*servicetest.Server).Kill},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := servicetest.StartRedisServer(t)
			brokertest.RunOutage(t,
				func(t *testing.T) broker.Broker { return open(t, srv.URL(), "") },
				func(t *testing.T) { tc.stop(srv, t) },
				func(t *testing.T) { srv.Start(t) })
		})
	}
}

func BenchmarkPublishDeliver(b *testing.B) {
	url, prefix := servicetest.Redis(b)
	brokertest.BenchPublishDeliver(b, open(b, url, prefix), open(b, url, prefix))
}

func BenchmarkPublishDeliverParallel(b *testing.B) {
	url, prefix := servicetest.Redis(b)
	b.SetParallelism(8)
	brokertest.BenchPublishDeliverParallel(b, open(b, url, prefix), open(b, url, prefix))
}

// TestIdleSubscriptionIsPinged: a subscription silent for several health
// intervals is pinged, keeps its connection and still delivers.
func TestIdleSubscriptionIsPinged(t *testing.T) {
	url, prefix := servicetest.Redis(t)
	b, err := redis.Open(context.Background(), url, redis.Options{Prefix: prefix, HealthInterval: 50 * time.Millisecond, Logger: brokertest.Logger(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	got := make(chan broker.Message, 1)
	if _, err := b.Subscribe(context.Background(), "default", func(m broker.Message) { got <- m }); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	if err := b.Publish(context.Background(), broker.Message{ID: "1", Channel: "/default/a", Events: []string{"1"}}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-got:
	case <-time.After(brokertest.Timeout):
		t.Fatal("an idle subscription stopped delivering")
	}
}
