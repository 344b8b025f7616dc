// Package redis is the bffstore.Store on Redis, for gateway nodes that
// share sessions: values are plain keys with a PX expiry, locks are
// SET NX PX keys holding a random token that a script compares before
// deleting, so a holder whose ttl ran out releases nothing.
//
// Expiry is Redis's own clock, whatever the nodes' clocks say.
package redis

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"

	"github.com/cognate-auth/cognate/gateway/bffstore"
)

var _ bffstore.Store = (*Store)(nil)

// DefaultPrefix starts every key the store writes.
const DefaultPrefix = "cognate:gateway:"

// Options configures Open.
type Options struct {
	// Prefix starts every key; "" means DefaultPrefix. Gateways of other
	// apps sharing one Redis need their own.
	Prefix string
}

// Store is a Redis connection pool. It is safe for concurrent use.
type Store struct {
	c      *goredis.Client
	prefix string
}

// unlockScript deletes the lock only while it still holds our token.
var unlockScript = goredis.NewScript(`if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("del", KEYS[1]) end return 0`)

// Open parses url (redis://[user:password@]host:port[/db], rediss:// for
// TLS, with go-redis's query options) and returns a Store. It makes no
// network call: an unreachable Redis fails the requests that need it.
func Open(url string, opts Options) (*Store, error) {
	o, err := goredis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("bffstore/redis: %w", err)
	}
	// Short timeouts unless the URL sets them: a request waits for the
	// store, so a dead one must fail it quickly rather than hang it.
	if o.DialTimeout == 0 {
		o.DialTimeout = 2 * time.Second
	}
	if o.ReadTimeout == 0 {
		o.ReadTimeout = 2 * time.Second
	}
	if o.WriteTimeout == 0 {
		o.WriteTimeout = 2 * time.Second
	}
	if o.MaxRetries == 0 {
		o.MaxRetries = 1
	}
	if o.DialerRetries == 0 {
		o.DialerRetries = 1
	}
	// Cluster maintenance notifications are a managed-service feature;
	// asking a plain Redis for them only adds a failing command per
	// connection.
	o.MaintNotificationsConfig = &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}
	if opts.Prefix == "" {
		opts.Prefix = DefaultPrefix
	}
	return &Store{c: goredis.NewClient(o), prefix: opts.Prefix}, nil
}

// Close closes the pool.
func (s *Store) Close() error { return s.c.Close() }

func (s *Store) valueKey(k bffstore.Key) string { return s.prefix + "s:" + hex.EncodeToString(k[:]) }
func (s *Store) lockKey(k bffstore.Key) string  { return s.prefix + "l:" + hex.EncodeToString(k[:]) }

// Get returns the value under key and its expiry, or
// bffstore.ErrNotFound: GET and PTTL in one round trip.
func (s *Store) Get(ctx context.Context, key bffstore.Key) ([]byte, time.Time, error) {
	k := s.valueKey(key)
	var get *goredis.StringCmd
	var ttl *goredis.DurationCmd
	_, err := s.c.Pipelined(ctx, func(p goredis.Pipeliner) error {
		get, ttl = p.Get(ctx, k), p.PTTL(ctx, k)
		return nil
	})
	if errors.Is(err, goredis.Nil) {
		return nil, time.Time{}, bffstore.ErrNotFound
	}
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("bffstore/redis: get: %w", err)
	}
	v, _ := get.Bytes()
	d := ttl.Val()
	if d <= 0 {
		// Expired between the two commands (or, written by something
		// else, without an expiry: not a session of this store).
		return nil, time.Time{}, bffstore.ErrNotFound
	}
	return v, time.Now().Add(d), nil
}

// Touch moves the expiry of an existing value.
func (s *Store) Touch(ctx context.Context, key bffstore.Key, expires time.Time) error {
	if time.Until(expires) < time.Millisecond {
		return s.Delete(ctx, key)
	}
	ok, err := s.c.PExpireAt(ctx, s.valueKey(key), expires).Result()
	if err != nil {
		return fmt.Errorf("bffstore/redis: touch: %w", err)
	}
	if !ok {
		return bffstore.ErrNotFound
	}
	return nil
}

// Put stores value under key until expires.
func (s *Store) Put(ctx context.Context, key bffstore.Key, value []byte, expires time.Time) error {
	if err := bffstore.CheckSize(value); err != nil {
		return err
	}
	ttl := time.Until(expires)
	if ttl < time.Millisecond {
		return s.Delete(ctx, key)
	}
	if err := s.c.Set(ctx, s.valueKey(key), value, ttl).Err(); err != nil {
		return fmt.Errorf("bffstore/redis: put: %w", err)
	}
	return nil
}

// Delete removes key's value.
func (s *Store) Delete(ctx context.Context, key bffstore.Key) error {
	if err := s.c.Del(ctx, s.valueKey(key)).Err(); err != nil {
		return fmt.Errorf("bffstore/redis: delete: %w", err)
	}
	return nil
}

// Lock takes the lock named key.
func (s *Store) Lock(ctx context.Context, key bffstore.Key, ttl time.Duration) (func(context.Context) error, error) {
	k, token := s.lockKey(key), rand.Text()
	err := bffstore.Poll(ctx, func(ctx context.Context) (bool, error) {
		return s.c.SetNX(ctx, k, token, ttl).Result()
	})
	if err != nil {
		return nil, fmt.Errorf("bffstore/redis: lock: %w", err)
	}
	return func(ctx context.Context) error {
		if err := unlockScript.Run(ctx, s.c, []string{k}, token).Err(); err != nil {
			return fmt.Errorf("bffstore/redis: unlock: %w", err)
		}
		return nil
	}, nil
}
