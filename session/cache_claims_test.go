package session

// Tests that back claims of docs/SECURITY.md which no other test proves.

import (
	"fmt"
	"log/slog"
	"net/http/httptest"
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

// TestBounceEscapesItsTarget: the page that follows the sign-in callback
// writes its (same-origin) target into an attribute, a link and a script,
// escaped for each, so no target can close them.
func TestBounceEscapesItsTarget(t *testing.T) {
	m := &Manager{log: slog.New(slog.DiscardHandler)}
	target := `/p?q=</script><script>alert(1)</script>&r="'><img src=x onerror=alert(2)>`
	if safePath(target) != target {
		t.Fatalf("the target is not a same-origin path the library would keep")
	}
	rec := httptest.NewRecorder()
	m.bounce(rec, target)
	body := rec.Body.String()
	for _, bad := range []string{"<script>alert(1)", "</script><script>", `"'><img`, "<img src=x"} {
		if strings.Contains(body, bad) {
			t.Errorf("the bounce page carries %q unescaped:\n%s", bad, body)
		}
	}
	if rec.Header().Get("Cache-Control") != "private, no-store" {
		t.Errorf("Cache-Control %q", rec.Header().Get("Cache-Control"))
	}
}
