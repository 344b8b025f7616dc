// Package memory is the in-process Broker: Publish runs the matching
// handlers synchronously on the publisher's goroutine, which keeps each
// publisher's messages in order at no cost.
package memory

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/cognate-auth/cognate/broker"
)

// Broker is an in-memory broker.Broker. The zero value is not usable;
// call New.
type Broker struct {
	mu     sync.Mutex // serializes writers of subs
	subs   atomic.Pointer[[]*subscription]
	closed atomic.Bool
}

type subscription struct {
	b         *Broker
	namespace string
	h         broker.Handler
}

// New returns an empty, open broker.
func New() *Broker {
	b := &Broker{}
	b.subs.Store(&[]*subscription{})
	return b
}

// Publish runs every matching handler before it returns.
func (b *Broker) Publish(ctx context.Context, m broker.Message) error {
	if b.closed.Load() {
		return broker.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	ns := ""
	for _, s := range *b.subs.Load() {
		if s.namespace != "" {
			if ns == "" {
				ns = m.Namespace()
			}
			if s.namespace != ns {
				continue
			}
		}
		s.h(m)
	}
	return nil
}

// Subscribe registers h; it is active when Subscribe returns.
func (b *Broker) Subscribe(_ context.Context, namespace string, h broker.Handler) (broker.Subscription, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed.Load() {
		return nil, broker.ErrClosed
	}
	s := &subscription{b: b, namespace: namespace, h: h}
	old := *b.subs.Load()
	next := make([]*subscription, len(old), len(old)+1)
	copy(next, old)
	next = append(next, s)
	b.subs.Store(&next)
	return s, nil
}

// Unsubscribe removes the subscription; later publishes skip it.
func (s *subscription) Unsubscribe() error {
	b := s.b
	b.mu.Lock()
	defer b.mu.Unlock()
	old := *b.subs.Load()
	next := make([]*subscription, 0, len(old))
	for _, o := range old {
		if o != s {
			next = append(next, o)
		}
	}
	b.subs.Store(&next)
	return nil
}

// Close drops every subscription.
func (b *Broker) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed.Store(true)
	b.subs.Store(&[]*subscription{})
	return nil
}
