package memory_test

import (
	"testing"

	"github.com/cognate-auth/cognate/broker"
	"github.com/cognate-auth/cognate/broker/brokertest"
	"github.com/cognate-auth/cognate/broker/memory"
)

func TestConformance(t *testing.T) {
	brokertest.Run(t, func(*testing.T) broker.Broker { return memory.New() })
}

func BenchmarkPublishDeliver(b *testing.B) {
	m := memory.New()
	defer m.Close()
	brokertest.BenchPublishDeliver(b, m, m)
}

func BenchmarkPublishDeliverParallel(b *testing.B) {
	m := memory.New()
	defer m.Close()
	b.SetParallelism(8)
	brokertest.BenchPublishDeliverParallel(b, m, m)
}
