// Package events is the domain of Cognate's AppSync-Events-compatible
// real-time API: configuration, channel paths, authorization (API keys,
// user-pool and OIDC tokens, channel rules with claim templates), and the
// Hub that holds connections and subscriptions, validates publishes and
// fans events out through a broker.Broker. It has no HTTP code: package
// eventsapi carries it over WebSocket and HTTP.
//
// A transport opens a Conn with Hub.Connect, passing a Transport that
// writes frames; the Conn's methods handle the protocol's client messages
// and queue the replies, and events, as complete server → client frames.
// Each Conn has one bounded send queue, written by at most one goroutine
// that exists only while there is something to write, so an idle
// connection costs no goroutine here, and a connection that falls behind
// is closed instead of slowing publishers.
package events

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

	"github.com/cognate-auth/cognate/broker"
	"github.com/cognate-auth/cognate/broker/memory"
)

// Options are the Hub's collaborators. Every function is called on each
// connect, subscribe and publish that uses its kind of credential, so it
// should answer from a cache.
type Options struct {
	Logger *slog.Logger
	// Broker fans published events out; nil means an in-memory broker
	// the Hub owns (and closes on Shutdown). A Broker passed here is the
	// caller's to close, after Shutdown.
	Broker broker.Broker
	// APIKeys checks an API key and returns its expiry (zero: none). An
	// unknown key returns an error wrapping ErrUnauthorized, an expired one
	// ErrTokenExpired (or its past expiry).
	APIKeys func(ctx context.Context, key string) (expires time.Time, err error)
	// UserPool verifies a token of this server's own user pools.
	UserPool func(ctx context.Context, token string) (Identity, error)
	// Verifier builds the verifier of an external provider (a Cognito
	// pool by JWKS, an OIDC issuer by discovery), on first use; it may
	// return ErrLocalProvider for a Cognito pool this server serves.
	Verifier func(ctx context.Context, p AuthProvider) (TokenVerifier, error)
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Hub holds the connections and subscriptions of one node.
type Hub struct {
	cfg       Config
	log       *slog.Logger
	now       func() time.Time
	auth      authenticator
	ns        map[string]*namespace
	broker    broker.Broker
	ownBroker bool
	brokerSub broker.Subscription
	reg       registry
	ack       []byte

	mu     sync.Mutex
	conns  map[*Conn]struct{}
	limits connLimits
	closed bool
	down   atomic.Bool // closed, readable without mu
	// writing counts the connections whose writer runs (see writeLoop).
	writing atomic.Int64

	stats struct {
		connections, subscriptions                                   atomic.Int64
		published, deliveries, dropped, slowConsumers, publishErrors atomic.Uint64
	}
}

// Stats are the Hub's counters (for metrics).
type Stats struct {
	// Connections and Subscriptions are open now.
	Connections, Subscriptions int64
	// Published counts events accepted for delivery.
	Published uint64
	// Deliveries counts data frames written to connections.
	Deliveries uint64
	// Dropped counts data frames discarded because their connection was
	// closed as a slow consumer.
	Dropped uint64
	// SlowConsumers counts connections closed for falling behind.
	SlowConsumers uint64
	// PublishErrors counts publishes refused whole plus events refused
	// one by one.
	PublishErrors uint64
}

// New validates cfg, fills its defaults and subscribes the Hub to the
// broker.
func New(ctx context.Context, cfg Config, opts Options) (*Hub, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	cfg = cfg.withDefaults(opts.APIKeys != nil, opts.UserPool != nil)
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("events config: %w", err)
	}
	h := &Hub{
		cfg: cfg, log: opts.Logger, now: opts.Now,
		ns:     make(map[string]*namespace),
		conns:  make(map[*Conn]struct{}),
		limits: connLimits{perAddr: make(map[string]int), perKey: make(map[keySum]int)},
		ack:    ackFrame(time.Duration(cfg.ConnectionTimeout).Milliseconds()),
		auth:   authenticator{apiKeys: opts.APIKeys, providers: map[string][]*provider{}, now: opts.Now, log: opts.Logger},
	}
	h.reg.init()
	for i, p := range cfg.AuthProviders {
		switch p.AuthType {
		case AuthAPIKey:
			if opts.APIKeys == nil {
				return nil, fmt.Errorf("events config: authProviders[%d]: API_KEY needs Options.APIKeys", i)
			}
		default:
			pr, err := newProvider(p, &opts)
			if err != nil {
				return nil, fmt.Errorf("events config: authProviders[%d]: %w", i, err)
			}
			h.auth.providers[p.AuthType] = append(h.auth.providers[p.AuthType], pr)
		}
	}
	for _, n := range cfg.Namespaces {
		c, err := compileNamespace(n)
		if err != nil {
			return nil, fmt.Errorf("events config: %w", err)
		}
		h.ns[n.Name] = c
	}
	h.broker = opts.Broker
	if h.broker == nil {
		h.broker, h.ownBroker = memory.New(), true
	}
	sub, err := h.broker.Subscribe(ctx, "", h.deliver)
	if err != nil {
		return nil, fmt.Errorf("events: subscribe to broker: %w", err)
	}
	h.brokerSub = sub
	return h, nil
}

// Config is the effective configuration, defaults filled in.
func (h *Hub) Config() Config { return h.cfg }

// Stats reads the counters.
func (h *Hub) Stats() Stats {
	return Stats{
		Connections:   h.stats.connections.Load(),
		Subscriptions: h.stats.subscriptions.Load(),
		Published:     h.stats.published.Load(),
		Deliveries:    h.stats.deliveries.Load(),
		Dropped:       h.stats.dropped.Load(),
		SlowConsumers: h.stats.slowConsumers.Load(),
		PublishErrors: h.stats.publishErrors.Load(),
	}
}

// PublishResult is the outcome of a publish, per event, in AppSync's
// shape (the HTTP response body; publish_success adds type and id).
type PublishResult struct {
	Successful []PublishedEvent `json:"successful"`
	Failed     []FailedEvent    `json:"failed"`
}

// PublishedEvent is an accepted event.
type PublishedEvent struct {
	Identifier string `json:"identifier"`
	Index      int    `json:"index"`
}

// FailedEvent is a refused event; Code is e.g. EventTooLargeException.
type FailedEvent struct {
	Identifier string `json:"identifier"`
	Index      int    `json:"index"`
	Code       string `json:"code"`
	Message    string `json:"message"`
}

// Publish authorizes and publishes events (each a JSON document as a
// string) to channel, with the credentials in auth: the HTTP publish.
// A refused request returns an *Error (BadRequestException for a bad
// channel, namespace or event count, UnauthorizedException with Code 401
// or 403, ServiceUnavailableException with Code 503, wrapping
// broker.ErrUnavailable, while the broker cannot be reached); events
// refused one by one (too large, not JSON) are listed in Failed while the
// others are delivered.
func (h *Hub) Publish(ctx context.Context, auth Headers, channel string, events []string) (PublishResult, error) {
	ch, err := h.authorizePublish(ctx, auth, channel, events)
	if err != nil {
		h.stats.publishErrors.Add(1)
		return PublishResult{}, err
	}
	res := PublishResult{Successful: []PublishedEvent{}, Failed: []FailedEvent{}}
	ok := make([]string, 0, len(events))
	for i, ev := range events {
		fail := func(code, msg string) {
			res.Failed = append(res.Failed, FailedEvent{Identifier: newID(), Index: i, Code: code, Message: msg})
		}
		switch {
		case len(ev) > MaxEventBytes:
			fail(TypeEventTooLarge, "Event is larger than 240KB")
		case !json.Valid([]byte(ev)):
			fail(TypeBadRequest, "Event is not valid JSON")
		default:
			res.Successful = append(res.Successful, PublishedEvent{Identifier: newID(), Index: i})
			ok = append(ok, ev)
		}
	}
	h.stats.publishErrors.Add(uint64(len(res.Failed)))
	if len(ok) > 0 {
		if err := h.broker.Publish(ctx, broker.Message{ID: newID(), Channel: ch.String(), Events: ok}); err != nil {
			h.stats.publishErrors.Add(1)
			return PublishResult{}, h.brokerError(ch, err)
		}
		h.stats.published.Add(uint64(len(ok)))
	}
	return res, nil
}

// brokerError is the protocol error of a failed broker publish: a
// retryable ServiceUnavailableException (503) while the broker cannot be
// reached, or once it is closed; an internal failure otherwise.
func (h *Hub) brokerError(ch Channel, err error) *Error {
	switch {
	case errors.Is(err, broker.ErrClosed):
		h.log.Error("events: broker publish", "channel", ch.String(), "err", err)
		return AsError(ErrClosed)
	case errors.Is(err, broker.ErrUnavailable):
		h.log.Warn("events: broker unavailable; publish refused", "channel", ch.String(), "err", err)
		return &Error{Type: TypeServiceClosing, Code: 503, Message: "Events cannot be delivered now; retry later.", Err: err}
	}
	h.log.Error("events: broker publish", "channel", ch.String(), "err", err)
	return AsError(err)
}

// authorizePublish checks everything a publish is refused for as a whole.
func (h *Hub) authorizePublish(ctx context.Context, auth Headers, channel string, events []string) (Channel, error) {
	if h.down.Load() {
		return Channel{}, AsError(ErrClosed)
	}
	ch, err := ParseChannel(channel)
	if err != nil {
		return Channel{}, channelError(err)
	}
	ns, err := h.namespace(ch)
	if err != nil {
		return Channel{}, err
	}
	if len(events) == 0 || len(events) > MaxEvents {
		return Channel{}, BadRequest("A publish carries 1 to %d events, not %d.", MaxEvents, len(events))
	}
	id, err := h.auth.authenticate(ctx, auth, ns.publishModes)
	if err != nil {
		return Channel{}, err
	}
	if !ns.allows(OpPublish, ch, &id) {
		return Channel{}, Unauthorized(403, "Not allowed to publish to %s.", ch)
	}
	return ch, nil
}

func (h *Hub) namespace(ch Channel) (*namespace, error) {
	ns := h.ns[ch.Namespace()]
	if ns == nil {
		return nil, BadRequest("Namespace %q does not exist.", ch.Namespace())
	}
	return ns, nil
}

// channelError turns a parse error into a BadRequestException.
func channelError(err error) error {
	msg := strings.TrimPrefix(err.Error(), ErrBadRequest.Error()+": ")
	return &Error{Type: TypeBadRequest, Code: 400, Message: strings.ToUpper(msg[:1]) + msg[1:] + ".", Err: err}
}

// deliver is the broker handler: it fans m out to the matching
// subscriptions, encoding each event once.
func (h *Hub) deliver(m broker.Message) {
	ch, err := ParseChannel(m.Channel)
	if err != nil {
		h.log.Warn("events: broker message with an invalid channel", "channel", m.Channel)
		return
	}
	var lists [MaxSegments][]*subscription
	n := h.reg.match(ch, &lists)
	if n == 0 {
		return
	}
	tails := make([][]byte, len(m.Events))
	for i, ev := range m.Events {
		tails[i] = dataTail(ev)
	}
	for _, list := range lists[:n] {
		for _, s := range list {
			s.conn.deliver(s, tails)
		}
	}
}

// Shutdown stops accepting connections, closes every connection after
// its queued frames are written (the transport sees reason ErrClosed),
// and waits for them until ctx is done; then it closes what remains at
// once. It closes the broker only if the Hub created it.
func (h *Hub) Shutdown(ctx context.Context) error {
	h.mu.Lock()
	first := !h.closed
	h.closed = true
	h.down.Store(true)
	conns := make([]*Conn, 0, len(h.conns))
	for c := range h.conns {
		conns = append(conns, c)
	}
	h.mu.Unlock()
	if first {
		_ = h.brokerSub.Unsubscribe()
	}
	reason := &Error{Type: TypeServiceClosing, Code: 503, Message: "The service is shutting down.", Err: ErrClosed}
	for _, c := range conns {
		c.closeWith(nil, reason, false)
	}
	var err error
	for _, c := range conns {
		select {
		case <-c.done:
		case <-ctx.Done():
			err = ctx.Err()
			c.finish()
		}
	}
	if first && h.ownBroker {
		_ = h.broker.Close()
	}
	return err
}

// addConn registers c, whose slot admit reserved; on failure the slot
// is given back.
func (h *Hub) addConn(c *Conn) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		h.releaseLocked(c.addr)
		return AsError(ErrClosed)
	}
	if err := h.countKeyLocked(c); err != nil {
		h.releaseLocked(c.addr)
		return err
	}
	h.conns[c] = struct{}{}
	h.stats.connections.Add(1)
	return nil
}

// removeConn unregisters c and gives back its slots, once.
func (h *Hub) removeConn(c *Conn) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.conns[c]; ok {
		delete(h.conns, c)
		h.stats.connections.Add(-1)
		h.releaseLocked(c.addr)
		h.uncountKeyLocked(c)
	}
}
