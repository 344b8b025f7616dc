package brokers_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/cognate-auth/cognate/broker"
	"github.com/cognate-auth/cognate/broker/brokers"
	"github.com/cognate-auth/cognate/broker/memory"
	"github.com/cognate-auth/cognate/broker/nats"
	"github.com/cognate-auth/cognate/broker/redis"
	"github.com/cognate-auth/cognate/internal/servicetest"
)

func TestOpen(t *testing.T) {
	natsURL, natsPrefix := servicetest.NATS(t)
	redisURL, redisPrefix := servicetest.Redis(t)
	tests := []struct {
		url, prefix string
		want        broker.Broker
	}{
		{"", "", (*memory.Broker)(nil)},
		{"memory", "", (*memory.Broker)(nil)},
		{natsURL, natsPrefix, (*nats.Broker)(nil)},
		{redisURL, redisPrefix, (*redis.Broker)(nil)},
	}
	for _, tc := range tests {
		t.Run(tc.url, func(t *testing.T) {
			b, err := brokers.Open(context.Background(), tc.url, brokers.Options{Prefix: tc.prefix})
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			defer b.Close()
			if got, want := typeName(b), typeName(tc.want); got != want {
				t.Fatalf("Open(%q) is a %s, want a %s", tc.url, got, want)
			}
			got := make(chan broker.Message, 1)
			if _, err := b.Subscribe(context.Background(), "default", func(m broker.Message) { got <- m }); err != nil {
				t.Fatalf("Subscribe: %v", err)
			}
			if err := b.Publish(context.Background(), broker.Message{ID: "1", Channel: "/default/a", Events: []string{"1"}}); err != nil {
				t.Fatalf("Publish: %v", err)
			}
			select {
			case m := <-got:
				if m.ID != "1" {
					t.Fatalf("got %+v", m)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("no delivery")
			}
		})
	}
}

func TestOpenRefuses(t *testing.T) {
	tests := []struct {
		url  string
		want error
	}{
		{"amqp://user:secret@host/", brokers.ErrUnsupported},
		{"postgres://host/db", brokers.ErrUnsupported},
		{"mem", brokers.ErrUnsupported},
		{"nats://127.0.0.1:1", broker.ErrUnavailable},
		{"redis://127.0.0.1:1/0", broker.ErrUnavailable},
	}
	for _, tc := range tests {
		t.Run(tc.url, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			b, err := brokers.Open(ctx, tc.url, brokers.Options{})
			if !errors.Is(err, tc.want) {
				if b != nil {
					b.Close()
				}
				t.Fatalf("Open(%q): %v, want %v", tc.url, err, tc.want)
			}
			if strings.Contains(err.Error(), "secret") {
				t.Fatalf("error shows the password: %v", err)
			}
			if errors.Is(err, brokers.ErrUnsupported) && !strings.Contains(err.Error(), "redis://") {
				t.Fatalf("error does not list the accepted forms: %v", err)
			}
		})
	}
}

func typeName(b broker.Broker) string {
	switch b.(type) {
	case *memory.Broker:
		return "memory"
	case *nats.Broker:
		return "nats"
	case *redis.Broker:
		return "redis"
	}
	return "unknown"
}
