package session

import (
	"fmt"
	"strings"
	"testing"
)

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
