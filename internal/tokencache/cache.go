// Package tokencache remembers that an exact token verified, with what
// result, until a deadline, so that a token presented again costs a hash,
// a map lookup and a comparison instead of an RSA verification. keys,
// tokenverify and userpool each keep one, with their own bound and their
// own notion of a token's deadline.
//
// Entries are found by a seeded 64-bit hash of the token and hold a copy
// of the token, which must equal the one looked up: an exact match, as a
// SHA-256 key would give, without hashing a kilobyte with SHA-256 on
// every lookup. The seed is random per cache, so nobody can aim a token
// at another's entry; two tokens that share a hash take turns in one
// entry.
//
// A cache is split into independently locked shards so that parallel
// requests rarely contend. A shard makes its map on its first Put: a
// cache that is barely used leaves little heap for every garbage
// collection to mark. A full shard drops the entry with the soonest
// deadline among a random sample; expired entries are dropped when read,
// and a shard that is written to sweeps them out at most once a minute.
//
// Times are Unix nanoseconds, as time.Time.UnixNano gives them: a clock
// reading is in range, and UnixNano converts a deadline that may not be.
package tokencache

import (
	"hash/maphash"
	"math"
	"strings"
	"sync"
	"time"
)

const (
	// shardCount is the number of shards of every cache: a power of two,
	// so that picking one is a mask; enough that parallel lookups rarely
	// meet, few enough that an idle cache is 2 KiB of shards.
	shardCount = 32
	// sweepEvery is how often a shard that is written to drops its
	// expired entries, in nanoseconds.
	sweepEvery = int64(time.Minute)
)

// Cache maps tokens to values until their deadlines. It is safe for
// concurrent use.
type Cache[V any] struct {
	seed     maphash.Seed
	perShard int
	shards   [shardCount]shard[V]
}

type shard[V any] struct {
	mu        sync.RWMutex
	m         map[uint64]entry[V] // nil until the first Put
	nextSweep int64               // Unix nanoseconds
	_         [24]byte            // pad to 64 bytes: no two shards' locks share a cache line
}

type entry[V any] struct {
	token    string
	deadline int64 // Unix nanoseconds: expired at and after this
	v        V
}

// New returns a cache that holds at most size entries, or one per shard
// (32) if size is smaller.
func New[V any](size int) *Cache[V] {
	return &Cache[V]{seed: maphash.MakeSeed(), perShard: max(1, size/shardCount)}
}

// Get looks token up at now. found reports an entry for exactly this
// token; expired, that its deadline has passed. An expired entry is
// dropped, and v is still what it held, for callers that answer "expired"
// differently from "unknown".
func (c *Cache[V]) Get(token string, now int64) (v V, found, expired bool) {
	h := maphash.String(c.seed, token)
	s := c.shard(h)
	s.mu.RLock()
	e, ok := s.m[h]
	s.mu.RUnlock()
	if !ok || e.token != token {
		return v, false, false
	}
	if now < e.deadline {
		return e.v, true, false
	}
	s.mu.Lock()
	// The entry may have been replaced since: drop it only if what is
	// there now has expired too.
	if cur, ok := s.m[h]; ok && now >= cur.deadline {
		delete(s.m, h)
	}
	s.mu.Unlock()
	return e.v, true, true
}

// Put caches v for token until deadline, replacing what token had. The
// token is copied: the caller's string may share memory with a whole
// request. now is the time of the call, which decides when the shard
// sweeps.
func (c *Cache[V]) Put(token string, v V, deadline, now int64) {
	c.put(maphash.String(c.seed, token), token, v, deadline, now)
}

// Len counts the entries, expired ones not yet dropped included.
func (c *Cache[V]) Len() int {
	n := 0
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.RLock()
		n += len(s.m)
		s.mu.RUnlock()
	}
	return n
}

// shard is the shard of the token whose hash is h. The number of shards
// is a constant, not the cache's to choose, because loading it on every
// lookup measurably slowed the hits.
func (c *Cache[V]) shard(h uint64) *shard[V] { return &c.shards[h%shardCount] }

// put is Put for a token whose hash is h; tests give two tokens one h.
func (c *Cache[V]) put(h uint64, token string, v V, deadline, now int64) {
	token = strings.Clone(token)
	s := c.shard(h)
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.m == nil:
		s.m = make(map[uint64]entry[V])
		s.nextSweep = now + sweepEvery
	case now >= s.nextSweep:
		for k, e := range s.m {
			if now >= e.deadline {
				delete(s.m, k)
			}
		}
		s.nextSweep = now + sweepEvery
	}
	if _, ok := s.m[h]; !ok && len(s.m) >= c.perShard {
		s.evictSoonest()
	}
	s.m[h] = entry[V]{token: token, deadline: deadline, v: v}
}

// maxSeconds bounds the times whose Unix nanoseconds fit an int64 (years
// 1678 to 2262).
const maxSeconds = math.MaxInt64/int64(time.Second) - 1

// UnixNano is t.UnixNano, saturated instead of wrapped outside the int64
// range (years 1678 to 2262), for deadlines: a token may name an exp
// centuries away.
func UnixNano(t time.Time) int64 {
	switch sec := t.Unix(); {
	case sec > maxSeconds:
		return math.MaxInt64
	case sec < -maxSeconds:
		return math.MinInt64
	default:
		return sec*int64(time.Second) + int64(t.Nanosecond())
	}
}
