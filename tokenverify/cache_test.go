package tokenverify

import (
	"fmt"
	"testing"
	"time"
	"unsafe"
)

func tok(i int) string { return fmt.Sprintf("token %d", i) }

// TestCacheBound fills a small cache far past its size: it never holds
// more than its bound, keeps entries that were just put, and sweeps
// expired ones.
func TestCacheBound(t *testing.T) {
	const size = 4 * cacheShards
	c := newTokenCache(size)
	now := time.Now().UnixNano()
	claims := &Claims{Subject: "s"}
	for i := range 10 * size {
		k := c.key(tok(i))
		c.put(k, tok(i), claims, now+int64(time.Hour), now)
		if got, valid, found := c.get(k, tok(i), now); !found || !valid || got != claims {
			t.Fatalf("entry %d missing right after put", i)
		}
		if n := c.len(); n > size {
			t.Fatalf("cache holds %d entries, bound %d", n, size)
		}
	}
	// Past the deadline: entries read as expired once, then are gone.
	later := now + int64(2*time.Hour)
	last := tok(10*size - 1)
	if got, valid, found := c.get(c.key(last), last, later); !found || valid || got != claims {
		t.Fatalf("expired entry: found %v valid %v", found, valid)
	}
	if _, _, found := c.get(c.key(last), last, later); found {
		t.Fatal("expired entry still cached after it was read")
	}
	// A put after the sweep interval drops every expired entry of its
	// shard.
	for i := range 10 * size {
		c.put(c.key(tok(i+10*size)), tok(i+10*size), claims, later+int64(time.Hour), later+int64(sweepEvery))
	}
	for i := range 10 * size {
		if _, _, found := c.get(c.key(tok(i)), tok(i), later); found {
			t.Fatalf("expired entry %d survived the sweep", i)
		}
	}
}

func TestShardSize(t *testing.T) {
	if s := unsafe.Sizeof(cacheShard{}); s%64 != 0 {
		t.Fatalf("cacheShard is %d bytes, not a multiple of a cache line", s)
	}
}

// TestCacheExactMatch: an entry answers only for its own token, even
// under the same key.
func TestCacheExactMatch(t *testing.T) {
	c := newTokenCache(cacheShards)
	now := time.Now().UnixNano()
	k := c.key("a.b.c")
	c.put(k, "a.b.c", &Claims{}, now+int64(time.Hour), now)
	if _, _, found := c.get(k, "a.b.d", now); found {
		t.Fatal("another token under the same key hit the entry")
	}
	if _, valid, found := c.get(k, "a.b.c", now); !found || !valid {
		t.Fatal("the entry's own token missed")
	}
}
