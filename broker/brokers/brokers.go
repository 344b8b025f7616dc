// Package brokers opens the configured broker.Broker from a URL: the one
// place that knows every implementation.
package brokers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/cognate-auth/cognate/broker"
	"github.com/cognate-auth/cognate/broker/memory"
	"github.com/cognate-auth/cognate/broker/nats"
	"github.com/cognate-auth/cognate/broker/redis"
	"github.com/cognate-auth/cognate/internal/redact"
)

// ErrUnsupported is wrapped by Open's error for a URL of no known
// broker.
var ErrUnsupported = errors.New("unsupported broker URL")

// Accepted lists the URL forms Open accepts.
const Accepted = `"" or "memory" (in-process, one node), nats://host:port or tls://host:port (NATS), redis://host:port[/db] or rediss://host:port[/db] (Redis)`

// Options apply to the network brokers; the zero value is usable.
type Options struct {
	// Logger receives the broker's connection events; nil discards them.
	Logger *slog.Logger
	// Prefix starts every subject or channel, so that several
	// installations share one server; "" means the broker's default
	// ("cognate." for NATS, "cognate:" for Redis).
	Prefix string
	// PublishTimeout bounds each Publish and Subscribe; 0 means the
	// broker's default.
	PublishTimeout time.Duration
}

// Open opens the broker url names: "" or "memory" an in-process broker
// (for a single node), nats:// or tls:// a NATS one, redis:// or
// rediss:// a Redis one. A network broker's server must answer within
// ctx, else the error wraps broker.ErrUnavailable; a URL of none of
// these forms gives an error wrapping ErrUnsupported.
func Open(ctx context.Context, url string, opts Options) (broker.Broker, error) {
	scheme, _, _ := strings.Cut(url, "://")
	switch {
	case url == "" || url == "memory":
		return memory.New(), nil
	case scheme == "nats" || scheme == "tls":
		b, err := nats.Open(ctx, url, nats.Options{Logger: opts.Logger, Prefix: opts.Prefix, PublishTimeout: opts.PublishTimeout})
		if err != nil {
			return nil, err
		}
		return b, nil
	case scheme == "redis" || scheme == "rediss":
		b, err := redis.Open(ctx, url, redis.Options{Logger: opts.Logger, Prefix: opts.Prefix, PublishTimeout: opts.PublishTimeout})
		if err != nil {
			return nil, err
		}
		return b, nil
	}
	return nil, fmt.Errorf("broker %q: %w; use %s", redact.URL(url), ErrUnsupported, Accepted)
}
