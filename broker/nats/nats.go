// Package nats is a broker.Broker over a NATS server (core NATS, no
// JetStream), for several nodes that fan events out to each other.
//
// Each namespace has its own subject, <prefix><namespace>, so a node
// subscribes only to what it needs; the all-namespaces subscription is
// <prefix>*. A message crosses the network as the JSON of a
// broker.Message.
//
// Delivery is at most once, in each publisher's order: one Broker is one
// connection, whose publishes the server forwards in order, and each
// subscription's handler runs on a goroutine of its own, one message at
// a time. Nothing is buffered while the connection is down: Publish
// fails at once with an error wrapping broker.ErrUnavailable, and each
// Publish waits for the server to acknowledge it (a PING round trip,
// bounded by Options.PublishTimeout), so a publish that returns nil was
// accepted by the server. Since no message is ever sent twice, nothing
// arrives twice. The connection is re-established forever, and the
// subscriptions with it, without the subscribers doing anything.
package nats

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	natsgo "github.com/nats-io/nats.go"

	"github.com/cognate-auth/cognate/broker"
)

// Defaults of the zero Options.
const (
	DefaultPrefix         = "cognate."
	DefaultPublishTimeout = 5 * time.Second
	DefaultDialTimeout    = 2 * time.Second
	DefaultReconnectWait  = 500 * time.Millisecond
)

// Options configure a Broker; the zero value is usable.
type Options struct {
	// Logger receives disconnects (warn), reconnects (info) and dropped
	// messages (error); nil discards them.
	Logger *slog.Logger
	// Prefix starts every subject, so that several installations (or
	// test runs) share one server; "" means DefaultPrefix. A "." is
	// added when it does not end with one.
	Prefix string
	// PublishTimeout bounds Publish and Subscribe when the context's
	// deadline is later; 0 means DefaultPublishTimeout.
	PublishTimeout time.Duration
	// DialTimeout bounds each connection attempt; 0 means
	// DefaultDialTimeout.
	DialTimeout time.Duration
	// ReconnectWait is the pause between reconnection attempts (plus a
	// little jitter); 0 means DefaultReconnectWait.
	ReconnectWait time.Duration
	// Name is the connection's name, shown by the server's monitoring;
	// "" means "cognate".
	Name string
}

// Broker is a broker.Broker over one NATS connection.
type Broker struct {
	nc      *natsgo.Conn
	log     *slog.Logger
	prefix  string
	timeout time.Duration

	closed atomic.Bool
	mu     sync.Mutex // guards subs
	subs   map[*subscription]struct{}
}

var _ broker.Broker = (*Broker)(nil)

// Open connects to the NATS server at url ("nats://host:port", several
// separated by commas; "tls://" for TLS) and returns the open Broker. It
// fails, with an error wrapping broker.ErrUnavailable, when no server
// can be reached within ctx and Options.DialTimeout.
func Open(ctx context.Context, url string, opts Options) (*Broker, error) {
	opts = opts.withDefaults()
	b := &Broker{
		log:     opts.Logger,
		prefix:  opts.Prefix,
		timeout: opts.PublishTimeout,
		subs:    make(map[*subscription]struct{}),
	}
	natsOpts := []natsgo.Option{
		natsgo.Name(opts.Name),
		natsgo.Timeout(opts.DialTimeout),
		natsgo.MaxReconnects(-1),
		natsgo.ReconnectWait(opts.ReconnectWait),
		natsgo.ReconnectJitter(opts.ReconnectWait/5, opts.ReconnectWait/5),
		// No reconnect buffer: a publish while disconnected fails instead
		// of waiting, invisible, for a server that may never return.
		natsgo.ReconnectBufSize(-1),
		natsgo.NoCallbacksAfterClientClose(),
		natsgo.DisconnectErrHandler(func(_ *natsgo.Conn, err error) {
			b.log.Warn("nats broker: disconnected; reconnecting", "err", err)
		}),
		natsgo.ReconnectHandler(func(nc *natsgo.Conn) {
			b.log.Info("nats broker: reconnected", "server", nc.ConnectedUrlRedacted())
		}),
		natsgo.ErrorHandler(func(_ *natsgo.Conn, s *natsgo.Subscription, err error) {
			subject := ""
			if s != nil {
				subject = s.Subject
			}
			b.log.Error("nats broker: asynchronous error", "subject", subject, "err", err)
		}),
	}
	type result struct {
		nc  *natsgo.Conn
		err error
	}
	// nats.Connect takes no context: wait for it or for ctx, and close a
	// connection that arrives too late.
	done := make(chan result, 1)
	go func() {
		nc, err := natsgo.Connect(url, natsOpts...)
		done <- result{nc, err}
	}()
	select {
	case r := <-done:
		if r.err != nil {
			return nil, fmt.Errorf("nats broker: connect: %w: %w", broker.ErrUnavailable, r.err)
		}
		b.nc = r.nc
	case <-ctx.Done():
		go func() {
			if r := <-done; r.nc != nil {
				r.nc.Close()
			}
		}()
		return nil, fmt.Errorf("nats broker: connect: %w: %w", broker.ErrUnavailable, ctx.Err())
	}
	return b, nil
}

func (o Options) withDefaults() Options {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Prefix == "" {
		o.Prefix = DefaultPrefix
	}
	if !strings.HasSuffix(o.Prefix, ".") {
		o.Prefix += "."
	}
	if o.PublishTimeout <= 0 {
		o.PublishTimeout = DefaultPublishTimeout
	}
	if o.DialTimeout <= 0 {
		o.DialTimeout = DefaultDialTimeout
	}
	if o.ReconnectWait <= 0 {
		o.ReconnectWait = DefaultReconnectWait
	}
	if o.Name == "" {
		o.Name = "cognate"
	}
	return o
}

// subject is the subject of namespace, or the wildcard of every
// namespace for "".
func (b *Broker) subject(namespace string) (string, error) {
	if namespace == "" {
		return b.prefix + "*", nil
	}
	if strings.ContainsAny(namespace, ".*> \t\r\n") {
		return "", fmt.Errorf("nats broker: namespace %q cannot be a subject token", namespace)
	}
	return b.prefix + namespace, nil
}

// Publish sends m to the subject of its namespace and waits until the
// server has acknowledged it.
func (b *Broker) Publish(ctx context.Context, m broker.Message) error {
	if b.closed.Load() {
		return broker.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	subj, err := b.subject(m.Namespace())
	if err != nil {
		return err
	}
	data, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("nats broker: encode message: %w", err)
	}
	if !b.nc.IsConnected() {
		return b.unavailable("publish", natsgo.ErrDisconnected)
	}
	if err := b.nc.Publish(subj, data); err != nil {
		return b.unavailable("publish", err)
	}
	return b.flush(ctx, "publish")
}

// flush waits for the server's answer to a PING sent after everything
// written so far, within ctx and the broker's timeout.
func (b *Broker) flush(ctx context.Context, op string) error {
	fctx, cancel := context.WithTimeout(ctx, b.timeout)
	defer cancel()
	err := b.nc.FlushWithContext(fctx)
	switch {
	case err == nil:
		return nil
	case errors.Is(ctx.Err(), context.Canceled):
		return fmt.Errorf("nats broker: %s: %w", op, ctx.Err())
	}
	return b.unavailable(op, err)
}

// unavailable wraps err, a failure to reach the server, in
// broker.ErrUnavailable (or is ErrClosed after Close).
func (b *Broker) unavailable(op string, err error) error {
	if b.closed.Load() {
		return broker.ErrClosed
	}
	return fmt.Errorf("nats broker: %s: %w: %w", op, broker.ErrUnavailable, err)
}

// Subscribe subscribes h to the subject of namespace (every namespace
// for "") and returns once the server has registered the subscription.
func (b *Broker) Subscribe(ctx context.Context, namespace string, h broker.Handler) (broker.Subscription, error) {
	subj, err := b.subject(namespace)
	if err != nil {
		return nil, err
	}
	s := &subscription{b: b}
	s.active.Store(true)
	b.mu.Lock()
	if b.closed.Load() {
		b.mu.Unlock()
		return nil, broker.ErrClosed
	}
	b.subs[s] = struct{}{}
	b.mu.Unlock()
	s.ns, err = b.nc.Subscribe(subj, func(msg *natsgo.Msg) {
		if !s.active.Load() {
			return
		}
		var m broker.Message
		if err := json.Unmarshal(msg.Data, &m); err != nil {
			b.log.Error("nats broker: undecodable message dropped", "subject", msg.Subject, "err", err)
			return
		}
		h(m)
	})
	if err != nil {
		s.forget()
		return nil, b.unavailable("subscribe", err)
	}
	if err := b.flush(ctx, "subscribe"); err != nil {
		_ = s.Unsubscribe()
		return nil, err
	}
	return s, nil
}

// Close ends every subscription and closes the connection without
// waiting for a server that is gone.
func (b *Broker) Close() error {
	b.mu.Lock()
	if b.closed.Swap(true) {
		b.mu.Unlock()
		return nil
	}
	for s := range b.subs {
		s.active.Store(false)
	}
	clear(b.subs)
	b.mu.Unlock()
	b.nc.Close()
	return nil
}

type subscription struct {
	b      *Broker
	ns     *natsgo.Subscription
	active atomic.Bool // false once unsubscribed: late messages are dropped
}

// Unsubscribe stops deliveries at once; the server learns of it when it
// can be reached.
func (s *subscription) Unsubscribe() error {
	if !s.active.Swap(false) {
		return nil
	}
	s.forget()
	err := s.ns.Unsubscribe()
	if err != nil && !errors.Is(err, natsgo.ErrConnectionClosed) && !errors.Is(err, natsgo.ErrBadSubscription) {
		return fmt.Errorf("nats broker: unsubscribe: %w", err)
	}
	return nil
}

func (s *subscription) forget() {
	s.b.mu.Lock()
	delete(s.b.subs, s)
	s.b.mu.Unlock()
}
