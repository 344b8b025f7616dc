// Package broker carries published events between the nodes that serve
// subscribers. A Broker fans a Message out to every subscribed Handler: in
// one process (broker/memory) or across a network between the nodes of
// one installation (broker/nats, broker/redis); broker/brokers opens the
// configured one. Every implementation passes the conformance suite in
// broker/brokertest, and the network ones its outage part too.
package broker

import (
	"context"
	"errors"
	"strings"
)

// Sentinel errors callers branch on; a Broker's errors wrap them.
var (
	// ErrClosed is returned by Publish and Subscribe on a closed Broker.
	ErrClosed = errors.New("broker: closed")
	// ErrUnavailable is wrapped by the error of a Publish or Subscribe
	// that failed because the broker's server cannot be reached now (or
	// did not answer in time): the message was not accepted, and the
	// caller may retry later. A network broker never buffers messages
	// while it is disconnected.
	ErrUnavailable = errors.New("broker: unavailable")
)

// Message is one accepted publish: the events, in order, for one channel.
// Every field is a plain string so that a Message can cross a network as
// JSON.
type Message struct {
	// ID is unique per publish; network brokers may use it to drop
	// duplicates.
	ID string `json:"id"`
	// Channel is the normalized channel path, "/<namespace>/<segment>…".
	Channel string `json:"channel"`
	// Events are the event payloads, each a JSON document in a string.
	Events []string `json:"events"`
}

// Namespace is the channel's first segment.
func (m Message) Namespace() string {
	ns := strings.TrimPrefix(m.Channel, "/")
	if i := strings.IndexByte(ns, '/'); i >= 0 {
		ns = ns[:i]
	}
	return ns
}

// Handler receives messages. It must return quickly and never block: it
// runs on the publisher's goroutine (memory) or on the broker's receive
// path (network brokers), and it may be called from several goroutines at
// once. Messages from one publisher reach a Handler in publish order. A
// Handler must not modify the Message's Events.
type Handler func(Message)

// Subscription is a registered Handler.
type Subscription interface {
	// Unsubscribe stops deliveries: a Publish that starts after
	// Unsubscribe returns no longer reaches the Handler. It is idempotent.
	Unsubscribe() error
}

// Broker fans messages out to handlers.
type Broker interface {
	// Publish hands m to every subscription of its namespace and every
	// subscription of all namespaces. It returns once the broker has
	// accepted m, not necessarily once handlers have run.
	Publish(ctx context.Context, m Message) error
	// Subscribe registers h for the messages of namespace, or of every
	// namespace when namespace is "". It returns once the subscription is
	// active: a message published after Subscribe returns reaches h.
	Subscribe(ctx context.Context, namespace string, h Handler) (Subscription, error)
	// Close ends every subscription; later calls return ErrClosed. It is
	// idempotent.
	Close() error
}
