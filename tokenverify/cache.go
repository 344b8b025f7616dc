package tokenverify

import (
	"hash/maphash"
	"strings"
	"sync"
	"time"

	"github.com/cognate-auth/cognate/internal/tokencache"
)

const (
	// cacheShards is the number of independently locked parts of the
	// verified-token cache, so that parallel requests rarely contend.
	cacheShards = 64
	// cacheEntries bounds the cache. An entry holds a token and its
	// claims, about 3 KiB for a Cognito token: some 100 MiB at most.
	cacheEntries = 1 << 15
	// evictSample is how many entries a full shard looks at to choose the
	// one to drop.
	evictSample = 8
	// sweepEvery is how often a shard that is written to drops its
	// expired entries.
	sweepEvery = time.Minute
)

// tokenCache maps verified tokens to their claims until the tokens expire
// (with the verifier's skew). Entries are found by a seeded 64-bit hash
// of the token and hold the token itself, which must equal the one looked
// up: an exact match, as with a SHA-256 key, at a tenth of the cost of
// hashing a kilobyte with SHA-256 on every request. The seed is random
// per cache, so nobody can aim a token at another's entry.
type tokenCache struct {
	seed     maphash.Seed
	perShard int
	shards   [cacheShards]cacheShard
}

type cacheShard struct {
	mu        sync.RWMutex
	m         map[uint64]cacheEntry
	nextSweep int64    // Unix nanoseconds
	_         [88]byte // pad to 128 bytes: shards on separate cache lines
}

type cacheEntry struct {
	token    string
	claims   *Claims
	deadline int64 // Unix nanoseconds: expired at and after this
}

func newTokenCache(size int) *tokenCache {
	c := &tokenCache{seed: maphash.MakeSeed(), perShard: max(1, size/cacheShards)}
	for i := range c.shards {
		c.shards[i].m = make(map[uint64]cacheEntry)
	}
	return c
}

func (c *tokenCache) key(token string) uint64 { return maphash.String(c.seed, token) }

func (c *tokenCache) shard(k uint64) *cacheShard { return &c.shards[k%cacheShards] }

// get returns the cached claims of token (whose key is k) and whether
// they are still valid at now. Expired entries are returned once and
// dropped.
func (c *tokenCache) get(k uint64, token string, now int64) (claims *Claims, valid, found bool) {
	s := c.shard(k)
	s.mu.RLock()
	e, ok := s.m[k]
	s.mu.RUnlock()
	if !ok || e.token != token {
		return nil, false, false
	}
	if now < e.deadline {
		return e.claims, true, true
	}
	s.mu.Lock()
	if cur, ok := s.m[k]; ok && cur.token == token {
		delete(s.m, k)
	}
	s.mu.Unlock()
	return e.claims, false, true
}

// put caches claims for token (whose key is k) until deadline. The token
// is copied: the caller's string may share memory with a whole request
// header.
func (c *tokenCache) put(k uint64, token string, claims *Claims, deadline, now int64) {
	token = strings.Clone(token)
	s := c.shard(k)
	s.mu.Lock()
	defer s.mu.Unlock()
	if now >= s.nextSweep {
		for key, e := range s.m {
			if now >= e.deadline {
				delete(s.m, key)
			}
		}
		s.nextSweep = now + int64(sweepEvery)
	}
	if _, ok := s.m[k]; !ok && len(s.m) >= c.perShard {
		s.evictOne()
	}
	s.m[k] = cacheEntry{token: token, claims: claims, deadline: deadline}
}

// evictOne drops the soonest-expiring of a few entries. s.mu is held.
func (s *cacheShard) evictOne() {
	tokencache.Soonest(s.m, evictSample, func(e cacheEntry) int64 { return e.deadline })
}

// len counts the cached entries, expired ones included.
func (c *tokenCache) len() int {
	n := 0
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.RLock()
		n += len(s.m)
		s.mu.RUnlock()
	}
	return n
}
