package keys

import (
	"crypto/sha256"
	"sync"

	"github.com/cognate-auth/cognate/internal/tokencache"
)

// cacheShards is the number of independently locked parts of the token
// cache (a power of two), so that parallel verifications rarely contend.
const cacheShards = 32

// evictSample is how many entries a full shard looks at to choose the one
// to evict.
const evictSample = 8

// tokenCache maps the SHA-256 of accepted tokens to their payloads until
// the tokens' exp. Eviction under size pressure drops the soonest-expiring
// of a random sample (tokencache.Soonest).
type tokenCache struct {
	perShard int
	shards   [cacheShards]cacheShard
}

type cacheShard struct {
	mu sync.Mutex
	m  map[[sha256.Size]byte]cacheEntry
	_  [48]byte // keep shards on separate cache lines
}

type cacheEntry struct {
	key     *signingKey // pool and use the token verified for
	payload []byte      // never modified
	exp     int64       // Unix seconds: gone at and after this
}

func newTokenCache(size int) *tokenCache {
	c := &tokenCache{perShard: max(1, (size+cacheShards-1)/cacheShards)}
	for i := range c.shards {
		c.shards[i].m = make(map[[sha256.Size]byte]cacheEntry)
	}
	return c
}

func (c *tokenCache) shard(sum *[sha256.Size]byte) *cacheShard {
	return &c.shards[sum[0]%cacheShards]
}

// get returns the payload cached for the token hash sum if it verified
// for the pool and use and has not expired at now; an expired entry is
// dropped. The payload must not be modified.
func (c *tokenCache) get(sum *[sha256.Size]byte, poolID string, use int, now int64) ([]byte, bool) {
	s := c.shard(sum)
	s.mu.Lock()
	e, ok := s.m[*sum]
	if ok && now >= e.exp {
		delete(s.m, *sum)
		ok = false
	}
	s.mu.Unlock()
	if !ok || e.key.use != use || e.key.pool != poolID {
		return nil, false
	}
	return e.payload, true
}

// put caches payload for the token hash sum, verified with key, until exp.
func (c *tokenCache) put(sum *[sha256.Size]byte, key *signingKey, payload []byte, exp int64) {
	s := c.shard(sum)
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.m[*sum]; !ok && len(s.m) >= c.perShard {
		s.evictOne()
	}
	s.m[*sum] = cacheEntry{key: key, payload: payload, exp: exp}
}

// evictOne drops the soonest-expiring of a few entries. s.mu is held.
func (s *cacheShard) evictOne() {
	tokencache.Soonest(s.m, evictSample, func(e cacheEntry) int64 { return e.exp })
}

// len returns the number of cached entries, expired ones included.
func (c *tokenCache) len() int {
	n := 0
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		n += len(s.m)
		s.mu.Unlock()
	}
	return n
}
