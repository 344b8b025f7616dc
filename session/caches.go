package session

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/cognate-auth/cognate/tokenverify"
)

// sessionCache maps verified, unexpired token pairs to their claims, so
// that a request with a known session costs two map lookups and no
// hashing beyond Go's own map hash. Entries are keyed by the exact access
// token and checked against the exact id token.
type sessionCache struct {
	m sync.Map // access token → *cacheEntry
	n atomic.Int64
}

type cacheEntry struct {
	id     string
	ac, ic *tokenverify.Claims
	sess   *Session
}

// maxCached bounds the cache; past it the cache starts over.
const maxCached = 50_000

func (c *sessionCache) get(access, id string, now time.Time) *cacheEntry {
	v, ok := c.m.Load(access)
	if !ok {
		return nil
	}
	e := v.(*cacheEntry)
	if e.id != id {
		return nil
	}
	if !now.Before(e.ac.Expires) || !now.Before(e.ic.Expires) {
		if c.m.CompareAndDelete(access, v) {
			c.n.Add(-1)
		}
		return nil
	}
	return e
}

func (c *sessionCache) put(access string, e *cacheEntry) {
	if c.n.Load() >= maxCached {
		c.m.Clear()
		c.n.Store(0)
	}
	if _, loaded := c.m.Swap(access, e); !loaded {
		c.n.Add(1)
	}
}

// headerCache remembers, per exact Cookie header, the session it
// resolved to when that needed no refresh and no cookie fixes: the next
// requests of a signed-in browser carry the same header until the next
// refresh, and skip parsing, decoding and looking up its cookies. Only
// such clean resolutions are stored, with no jar (read again from the
// header when a refresh needs it), and a hit is used only while the
// tokens are not due for refresh: it is exactly what resolving the
// header again would give, as verifying the same bytes at the same time
// gives the same answer.
type headerCache struct {
	m        sync.Map // Cookie header → *current
	n, bytes atomic.Int64
}

// Bounds of the cache: past either it starts over. Headers longer than
// maxCachedHeader (chunked tokens, many cookies) are not cached.
const (
	maxHeaderEntries = 20_000
	maxHeaderBytes   = 32 << 20
	maxCachedHeader  = 8 << 10
)

func (c *headerCache) get(header string) *current {
	if v, ok := c.m.Load(header); ok {
		return v.(*current)
	}
	return nil
}

// forget drops header's entry (its tokens are due).
func (c *headerCache) forget(header string) {
	if c.m.CompareAndDelete(header, c.get(header)) {
		c.n.Add(-1)
		c.bytes.Add(-headerCost(header))
	}
}

// headerCost is what an entry counts against maxHeaderBytes: the header,
// and the forwarded header remembered with it, of about the same size.
func headerCost(header string) int64 { return 2 * int64(len(header)) }

// put stores a copy of cur, without its per-request parts, and with an
// empty forwarded-header memo that the hits of this header share.
func (c *headerCache) put(header string, cur *current) {
	if len(header) > maxCachedHeader {
		return
	}
	if c.n.Load() >= maxHeaderEntries || c.bytes.Load()+headerCost(header) > maxHeaderBytes {
		c.m.Clear()
		c.n.Store(0)
		c.bytes.Store(0)
	}
	e := *cur
	e.j, e.refresh, e.refreshFailed = nil, nil, false
	e.forwarded = new(atomic.Pointer[string])
	if _, loaded := c.m.Swap(header, &e); !loaded {
		c.n.Add(1)
		c.bytes.Add(headerCost(header))
	}
}
