package redis_test

import (
	"context"
	"testing"

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
