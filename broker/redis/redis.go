// Package redis is a broker.Broker over Redis pub/sub, for several nodes
// that fan events out to each other.
//
// Each namespace has its own channel, <prefix><namespace>, so a node
// subscribes only to what it needs; the all-namespaces subscription is
// the pattern <prefix>*. A message crosses the network as the JSON of a
// broker.Message.
//
// Delivery is at most once, in each publisher's order: a Publish returns
// once the server has answered PUBLISH (so one publisher's messages
// reach the server one after another), and the server pushes them in
// that order on each subscription's own connection, read by one
// goroutine. Publish is never retried (a retried PUBLISH that had
// reached the server would arrive twice) and nothing is buffered: while
// the server cannot be reached Publish fails with an error wrapping
// broker.ErrUnavailable. A subscription whose connection breaks (or
// stays silent past Options.HealthInterval and then fails a PING) is
// made again on a new connection, with a growing pause between attempts,
// until it is ended; its subscriber does nothing.
package redis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/cognate-auth/cognate/broker"
)

// Defaults of the zero Options.
const (
	DefaultPrefix         = "cognate:"
	DefaultPublishTimeout = 5 * time.Second
	DefaultDialTimeout    = 2 * time.Second
	DefaultReconnectWait  = time.Second
	DefaultHealthInterval = 15 * time.Second
)

// firstRetry is the first pause before subscribing again; it doubles up
// to Options.ReconnectWait.
const firstRetry = 100 * time.Millisecond

// Options configure a Broker; the zero value is usable.
type Options struct {
	// Logger receives lost and restored connections (warn, info) and
	// dropped messages (error); nil discards them.
	Logger *slog.Logger
	// Prefix starts every channel, so that several installations (or
	// test runs) share one server; "" means DefaultPrefix.
	Prefix string
	// PublishTimeout bounds Publish and Subscribe when the context's
	// deadline is later; 0 means DefaultPublishTimeout.
	PublishTimeout time.Duration
	// DialTimeout bounds each connection attempt; 0 means
	// DefaultDialTimeout.
	DialTimeout time.Duration
	// ReconnectWait is the longest pause between attempts to subscribe
	// again; 0 means DefaultReconnectWait.
	ReconnectWait time.Duration
	// HealthInterval is how long a subscription's connection may be
	// silent before it is pinged (and, silent as long again, replaced);
	// 0 means DefaultHealthInterval.
	HealthInterval time.Duration
}

// Broker is a broker.Broker over a Redis client: a pool of connections
// for publishing and one connection per subscription.
type Broker struct {
	client *goredis.Client
	log    *slog.Logger
	opts   Options

	closed  atomic.Bool
	pubDown atomic.Bool // the last Publish failed to reach the server
	mu      sync.Mutex  // guards subs
	subs    map[*subscription]struct{}
}

var _ broker.Broker = (*Broker)(nil)

// Open connects to the Redis server at url ("redis://[user:password@]
// host:port[/db]", "rediss://" for TLS) and returns the open Broker. It
// fails, with an error wrapping broker.ErrUnavailable, when the server
// does not answer a PING within ctx and Options.DialTimeout.
func Open(ctx context.Context, url string, opts Options) (*Broker, error) {
	quietClient.Do(func() { goredis.SetLogger(discardLogging{}) })
	opts = opts.withDefaults()
	ro, err := goredis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("redis broker: %w", err)
	}
	ro.DialTimeout = opts.DialTimeout
	ro.MaxRetries = -1   // a retried PUBLISH may be delivered twice
	ro.DialerRetries = 1 // fail at once while the server is down; the caller retries
	ro.ContextTimeoutEnabled = true
	b := &Broker{
		client: goredis.NewClient(ro),
		log:    opts.Logger,
		opts:   opts,
		subs:   make(map[*subscription]struct{}),
	}
	pctx, cancel := context.WithTimeout(ctx, opts.DialTimeout)
	defer cancel()
	if err := b.client.Ping(pctx).Err(); err != nil {
		_ = b.client.Close()
		return nil, fmt.Errorf("redis broker: connect: %w: %w", broker.ErrUnavailable, err)
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
	if o.PublishTimeout <= 0 {
		o.PublishTimeout = DefaultPublishTimeout
	}
	if o.DialTimeout <= 0 {
		o.DialTimeout = DefaultDialTimeout
	}
	if o.ReconnectWait <= 0 {
		o.ReconnectWait = DefaultReconnectWait
	}
	if o.HealthInterval <= 0 {
		o.HealthInterval = DefaultHealthInterval
	}
	return o
}

// Publish sends m to the channel of its namespace and returns once the
// server has taken it.
func (b *Broker) Publish(ctx context.Context, m broker.Message) error {
	if b.closed.Load() {
		return broker.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	data, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("redis broker: encode message: %w", err)
	}
	pctx, cancel := context.WithTimeout(ctx, b.opts.PublishTimeout)
	defer cancel()
	err = b.client.Publish(pctx, b.opts.Prefix+m.Namespace(), data).Err()
	switch {
	case err == nil:
		if b.pubDown.Swap(false) {
			b.log.Info("redis broker: publishing again")
		}
		return nil
	case b.closed.Load():
		return broker.ErrClosed
	case errors.Is(ctx.Err(), context.Canceled):
		return fmt.Errorf("redis broker: publish: %w", ctx.Err())
	}
	if !b.pubDown.Swap(true) {
		b.log.Warn("redis broker: publish failed; server unreachable", "err", err)
	}
	return fmt.Errorf("redis broker: publish: %w: %w", broker.ErrUnavailable, err)
}

// Subscribe subscribes h, on a connection of its own, to the channel of
// namespace (to the pattern of every namespace for "") and returns once
// the server has confirmed the subscription.
func (b *Broker) Subscribe(ctx context.Context, namespace string, h broker.Handler) (broker.Subscription, error) {
	if b.closed.Load() {
		return nil, broker.ErrClosed
	}
	s := &subscription{b: b, h: h, pattern: namespace == "", done: make(chan struct{})}
	if s.pattern {
		s.channel = globEscape(b.opts.Prefix) + "*"
	} else {
		s.channel = b.opts.Prefix + namespace
	}
	sctx, cancel := context.WithTimeout(ctx, b.opts.PublishTimeout)
	defer cancel()
	ps, err := s.connect(sctx)
	if err != nil {
		if errors.Is(ctx.Err(), context.Canceled) {
			return nil, fmt.Errorf("redis broker: subscribe: %w", ctx.Err())
		}
		return nil, fmt.Errorf("redis broker: subscribe: %w: %w", broker.ErrUnavailable, err)
	}
	s.ps = ps
	s.ctx, s.stop = context.WithCancel(context.Background())
	b.mu.Lock()
	if b.closed.Load() {
		b.mu.Unlock()
		s.stop()
		_ = ps.Close()
		return nil, broker.ErrClosed
	}
	b.subs[s] = struct{}{}
	b.mu.Unlock()
	s.active.Store(true)
	go s.run()
	return s, nil
}

// Close ends every subscription and closes the connections; it waits
// for nothing the server must answer.
func (b *Broker) Close() error {
	b.mu.Lock()
	if b.closed.Swap(true) {
		b.mu.Unlock()
		return nil
	}
	subs := make([]*subscription, 0, len(b.subs))
	for s := range b.subs {
		subs = append(subs, s)
	}
	b.mu.Unlock()
	for _, s := range subs {
		_ = s.Unsubscribe()
	}
	return b.client.Close()
}

// globEscape quotes the characters of s that Redis patterns give a
// meaning.
func globEscape(s string) string {
	var sb strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[]\`, r) {
			sb.WriteByte('\\')
		}
		sb.WriteRune(r)
	}
	return sb.String()
}

type subscription struct {
	b       *Broker
	h       broker.Handler
	channel string // a channel, or a pattern when pattern is set
	pattern bool
	ctx     context.Context // canceled by Unsubscribe
	stop    context.CancelFunc
	done    chan struct{} // closed when run returns

	active atomic.Bool // set while deliveries are wanted
	mu     sync.Mutex  // guards ps and ended
	ps     *goredis.PubSub
	ended  bool
}

// connect subscribes on a new connection and waits for the server's
// confirmation.
func (s *subscription) connect(ctx context.Context) (*goredis.PubSub, error) {
	ps := s.b.client.Subscribe(ctx)
	var err error
	if s.pattern {
		err = ps.PSubscribe(ctx, s.channel)
	} else {
		err = ps.Subscribe(ctx, s.channel)
	}
	if err == nil {
		var reply any
		if reply, err = ps.Receive(ctx); err == nil {
			if _, ok := reply.(*goredis.Subscription); !ok {
				err = fmt.Errorf("unexpected reply %T to SUBSCRIBE", reply)
			}
		}
	}
	if err != nil {
		_ = ps.Close()
		return nil, err
	}
	return ps, nil
}

// run reads the subscription's messages until Unsubscribe, replacing
// a broken connection.
func (s *subscription) run() {
	defer close(s.done)
	log := s.b.log.With("channel", s.channel)
	ps := s.ps
	pinged := false
	var lost time.Time
	retry := firstRetry
	for s.ctx.Err() == nil {
		if ps == nil {
			if !sleep(s.ctx, retry) {
				return
			}
			retry = min(2*retry, s.b.opts.ReconnectWait)
			cctx, cancel := context.WithTimeout(s.ctx, s.b.opts.PublishTimeout)
			next, err := s.connect(cctx)
			cancel()
			if err != nil {
				continue
			}
			if !s.swap(next) {
				return
			}
			ps, pinged, retry = next, false, firstRetry
			log.Info("redis broker: resubscribed", "after", time.Since(lost).Round(time.Millisecond))
		}
		reply, err := ps.ReceiveTimeout(s.ctx, s.b.opts.HealthInterval)
		if s.ctx.Err() != nil {
			return
		}
		if err != nil {
			if isTimeout(err) && !pinged {
				if err = ps.Ping(s.ctx); err == nil {
					pinged = true
					continue
				}
			}
			log.Warn("redis broker: subscription lost; resubscribing", "err", err)
			lost = time.Now()
			s.swap(nil)
			_ = ps.Close()
			ps = nil
			continue
		}
		pinged = false
		if msg, ok := reply.(*goredis.Message); ok {
			s.deliver(log, msg)
		}
	}
}

// swap makes ps the subscription's connection unless it has ended, and
// reports whether it has not.
func (s *subscription) swap(ps *goredis.PubSub) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended {
		if ps != nil {
			_ = ps.Close()
		}
		return false
	}
	s.ps = ps
	return true
}

func (s *subscription) deliver(log *slog.Logger, msg *goredis.Message) {
	if !s.active.Load() {
		return
	}
	var m broker.Message
	if err := json.Unmarshal([]byte(msg.Payload), &m); err != nil {
		log.Error("redis broker: undecodable message dropped", "err", err)
		return
	}
	s.h(m)
}

// Unsubscribe stops deliveries at once, closes the subscription's
// connection and waits for its reader to return.
func (s *subscription) Unsubscribe() error {
	s.mu.Lock()
	if s.ended {
		s.mu.Unlock()
		return nil
	}
	s.ended = true
	s.active.Store(false)
	s.stop()
	ps := s.ps
	s.mu.Unlock()
	if ps != nil {
		_ = ps.Close()
	}
	<-s.done
	s.b.mu.Lock()
	delete(s.b.subs, s)
	s.b.mu.Unlock()
	return nil
}

// sleep waits d, or less if ctx ends first; it reports whether ctx is
// still live.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// quietClient silences go-redis's own logger, which writes plain lines to
// stderr (breaking --log-format json) about what this package already
// logs through its Logger: lost connections and their recovery. It is
// process-wide, as go-redis's logger is.
var quietClient sync.Once

type discardLogging struct{}

func (discardLogging) Printf(context.Context, string, ...any) {}
