package session

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cognate-auth/cognate/tokenverify"
)

// TestSessionCacheIsExact: the verified-session cache answers only for
// the exact access token with the exact id token it was stored with, only
// while both are unexpired, and starts over when full.
func TestSessionCacheIsExact(t *testing.T) {
	now := time.Now()
	entry := func(exp time.Time) *cacheEntry {
		return &cacheEntry{id: "id-1", ac: &tokenverify.Claims{Expires: exp}, ic: &tokenverify.Claims{Expires: exp}}
	}
	var c sessionCache
	c.put("access-1", entry(now.Add(time.Minute)))
	if c.get("access-1", "id-1", now) == nil {
		t.Fatal("the stored pair is not found")
	}
	for _, miss := range [][2]string{{"access-1", "id-2"}, {"access-1", ""}, {"access-2", "id-1"}, {"access-1x", "id-1"}} {
		if c.get(miss[0], miss[1], now) != nil {
			t.Errorf("get(%q, %q) answered for another pair", miss[0], miss[1])
		}
	}
	if c.get("access-1", "id-1", now.Add(time.Minute)) != nil {
		t.Error("an entry answered at its tokens' expiry")
	}
	if c.n.Load() != 0 {
		t.Errorf("the expired entry was kept (%d entries)", c.n.Load())
	}
	for i := range maxCached + 5 {
		c.put(fmt.Sprint("a", i), entry(now.Add(time.Minute)))
	}
	if n := c.n.Load(); n < 1 || n > maxCached {
		t.Fatalf("%d entries after %d puts, bound %d", n, maxCached+5, maxCached)
	}
}

func TestHeaderCacheBounds(t *testing.T) {
	var c headerCache
	cur := &current{user: "u", j: &jar{}, refresh: []string{"rt"}, refreshFailed: true}
	c.put("a=1", cur)
	got := c.get("a=1")
	if got == nil || got == cur || got.user != "u" || got.j != nil || got.refresh != nil || got.refreshFailed {
		t.Fatalf("stored %+v: want a copy without the per-request parts", got)
	}
	c.forget("a=1")
	if c.get("a=1") != nil || c.n.Load() != 0 || c.bytes.Load() != 0 {
		t.Fatalf("after forget: %v entries, %v bytes", c.n.Load(), c.bytes.Load())
	}
	c.put(strings.Repeat("x", maxCachedHeader+1), cur)
	if c.n.Load() != 0 {
		t.Fatal("an oversized header was cached")
	}
	for i := range maxHeaderEntries + 10 {
		c.put(fmt.Sprint("h=", i), cur)
	}
	if n := c.n.Load(); n < 1 || n > maxHeaderEntries {
		t.Fatalf("%d entries after %d puts, bound %d", n, maxHeaderEntries+10, maxHeaderEntries)
	}
}
