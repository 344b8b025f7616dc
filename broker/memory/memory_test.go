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
