package userpool

import (
	"sync"
	"time"

	"github.com/cognate-auth/cognate/internal/tokencache"
)

// Read-through caches for what nearly every request reads and almost
// never changes: pools, app clients, the liveness of a sign-in, and the
// claims of verified access tokens. Writes made through this Service
// invalidate them at once; writes made by another node are seen within
// the TTL (see docs/SECURITY.md, "Known limits").
const (
	configCacheTTL = 5 * time.Second
	familyCacheTTL = 2 * time.Second
	cacheMaxKeys   = 50_000
	// tokenCacheTTL bounds how long a verified access token's claims are
	// trusted without verifying it again; entries end at the token's exp
	// when that is sooner.
	tokenCacheTTL = time.Hour
)

// verifiedTokens remembers verified access tokens (a tokencache, at most
// cacheMaxKeys of them) until their exp or tokenCacheTTL, whichever comes
// first.
type verifiedTokens struct {
	c *tokencache.Cache[verifiedToken]
}

func newVerifiedTokens() verifiedTokens {
	return verifiedTokens{c: tokencache.New[verifiedToken](cacheMaxKeys)}
}

func (t verifiedTokens) get(token string, now time.Time) (verifiedToken, bool) {
	v, found, expired := t.c.Get(token, now.UnixNano())
	return v, found && !expired
}

// put remembers v for token until exp, or until now+tokenCacheTTL if
// that is sooner.
func (t verifiedTokens) put(token string, v verifiedToken, now, exp time.Time) {
	deadline := now.Add(tokenCacheTTL)
	if exp.Before(deadline) {
		deadline = exp
	}
	t.c.Put(token, v, tokencache.UnixNano(deadline), now.UnixNano())
}

// ttlCache is a map whose entries expire. When full it is emptied rather
// than evicted entry by entry: it only ever holds what a few seconds of
// traffic touched, and a flood of distinct keys must not grow it.
type ttlCache[K comparable, V any] struct {
	mu      sync.RWMutex
	ttl     time.Duration
	entries map[K]cacheEntry[V]
}

type cacheEntry[V any] struct {
	v   V
	exp time.Time
}

func newTTLCache[K comparable, V any](ttl time.Duration) *ttlCache[K, V] {
	return &ttlCache[K, V]{ttl: ttl, entries: make(map[K]cacheEntry[V])}
}

func (c *ttlCache[K, V]) get(k K, now time.Time) (V, bool) {
	c.mu.RLock()
	e, ok := c.entries[k]
	c.mu.RUnlock()
	if !ok || !now.Before(e.exp) {
		var zero V
		return zero, false
	}
	return e.v, true
}

// put stores v until now+ttl, or until exp if that is sooner.
func (c *ttlCache[K, V]) put(k K, v V, now, exp time.Time) {
	if e := now.Add(c.ttl); exp.IsZero() || e.Before(exp) {
		exp = e
	}
	c.mu.Lock()
	if len(c.entries) >= cacheMaxKeys {
		clear(c.entries)
	}
	c.entries[k] = cacheEntry[V]{v: v, exp: exp}
	c.mu.Unlock()
}

func (c *ttlCache[K, V]) drop(k K) {
	c.mu.Lock()
	delete(c.entries, k)
	c.mu.Unlock()
}

func (c *ttlCache[K, V]) clear() {
	c.mu.Lock()
	clear(c.entries)
	c.mu.Unlock()
}
