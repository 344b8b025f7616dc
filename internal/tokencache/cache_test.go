package tokencache

import (
	"fmt"
	"hash/maphash"
	"math"
	"sync"
	"testing"
	"time"
	"unsafe"
)

func tok(i int) string { return fmt.Sprintf("token %d", i) }

// at is a fixed clock reading for the tests.
var at = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

// ns is a clock reading in the cache's units.
func ns(t time.Time) int64 { return t.UnixNano() }

// TestCacheBound fills a small cache far past its size: it never holds
// more than its bound, keeps entries that were just put, and sweeps
// expired ones.
func TestCacheBound(t *testing.T) {
	const size = 4 * shardCount
	c := New[string](size)
	hour := at.Add(time.Hour)
	for i := range 10 * size {
		c.Put(tok(i), "v", ns(hour), ns(at))
		if got, found, expired := c.Get(tok(i), ns(at)); !found || expired || got != "v" {
			t.Fatalf("entry %d missing right after put", i)
		}
		if n := c.Len(); n > size {
			t.Fatalf("cache holds %d entries, bound %d", n, size)
		}
	}
	// Past the deadline: entries read as expired once, then are gone.
	later := at.Add(2 * time.Hour)
	last := tok(10*size - 1)
	if got, found, expired := c.Get(last, ns(later)); !found || !expired || got != "v" {
		t.Fatalf("expired entry: found %v expired %v value %q", found, expired, got)
	}
	if _, found, _ := c.Get(last, ns(later)); found {
		t.Fatal("expired entry still cached after it was read")
	}
	// A put after the sweep interval drops every expired entry of its
	// shard.
	sweep := later.Add(time.Duration(sweepEvery))
	for i := range 10 * size {
		c.Put(tok(i+10*size), "w", ns(sweep.Add(time.Hour)), ns(sweep))
	}
	for i := range 10 * size {
		if _, found, _ := c.Get(tok(i), ns(later)); found {
			t.Fatalf("expired entry %d survived the sweep", i)
		}
	}
}

func TestShardSize(t *testing.T) {
	if s := unsafe.Sizeof(shard[string]{}); s%64 != 0 {
		t.Fatalf("shard is %d bytes, not a multiple of a cache line", s)
	}
}

// TestCacheExactMatch: an entry answers only for its own token, even
// under the same hash.
func TestCacheExactMatch(t *testing.T) {
	c := New[int](shardCount)
	h := maphash.String(c.seed, "a.b.d")
	// "a.b.c" goes in under the hash of "a.b.d", as if the two collided.
	c.put(h, "a.b.c", 1, ns(at.Add(time.Hour)), ns(at))
	if _, found, _ := c.Get("a.b.d", ns(at)); found {
		t.Fatal("another token under the same hash hit the entry")
	}
	// The other token takes the entry over.
	c.Put("a.b.d", 2, ns(at.Add(time.Hour)), ns(at))
	if v, found, _ := c.Get("a.b.d", ns(at)); !found || v != 2 {
		t.Fatal("the replacing token missed")
	}
	if n := c.Len(); n != 1 {
		t.Fatalf("two tokens of one hash hold %d entries, want 1", n)
	}
}

// TestGet covers what one Get answers, from a cache holding one live and
// one expired token.
func TestGet(t *testing.T) {
	for _, tc := range []struct {
		name           string
		token          string
		now            time.Time
		found, expired bool
		v              int
	}{
		{"hit", "live", at, true, false, 1},
		{"hit just before the deadline", "live", at.Add(time.Hour - time.Nanosecond), true, false, 1},
		{"expired at the deadline", "live", at.Add(time.Hour), true, true, 1},
		{"expired after the deadline", "live", at.Add(2 * time.Hour), true, true, 1},
		{"expired entry", "old", at, true, true, 2},
		{"miss", "unknown", at, false, false, 0},
		{"miss on a prefix", "liv", at, false, false, 0},
		{"miss on an extension", "live.", at, false, false, 0},
		{"miss on the empty token", "", at, false, false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := New[int](1024) // room for both in any shard
			c.Put("live", 1, ns(at.Add(time.Hour)), ns(at))
			c.Put("old", 2, ns(at.Add(-time.Second)), ns(at))
			v, found, expired := c.Get(tc.token, ns(tc.now))
			if found != tc.found || expired != tc.expired || v != tc.v {
				t.Fatalf("Get = %d, found %v, expired %v; want %d, %v, %v", v, found, expired, tc.v, tc.found, tc.expired)
			}
			if expired {
				if _, found, _ := c.Get(tc.token, ns(tc.now)); found {
					t.Fatal("an expired entry was not dropped when read")
				}
			}
		})
	}
}

// TestDeadlineRange: deadlines beyond what int64 nanoseconds hold (a
// token's exp may be centuries away) saturate instead of wrapping.
func TestDeadlineRange(t *testing.T) {
	for _, tc := range []struct {
		t    time.Time
		want int64
	}{
		{at, at.UnixNano()},
		{time.Unix(0, 0), 0},
		{time.Unix(-1, 5), -999_999_995},
		{time.Unix(maxSeconds, 999_999_999), maxSeconds*1e9 + 999_999_999},
		{time.Unix(maxSeconds+1, 0), math.MaxInt64},
		{time.Unix(1<<62, 0), math.MaxInt64},
		{time.Unix(-maxSeconds-1, 0), math.MinInt64},
		{time.Time{}, math.MinInt64},
	} {
		if got := UnixNano(tc.t); got != tc.want {
			t.Errorf("UnixNano(%v) = %d, want %d", tc.t, got, tc.want)
		}
	}
	c := New[int](1024) // room for both in any shard
	c.Put("far", 1, UnixNano(time.Unix(1<<62, 0)), ns(at))
	c.Put("ancient", 2, UnixNano(time.Time{}), ns(at))
	if _, found, expired := c.Get("far", ns(at.AddDate(200, 0, 0))); !found || expired {
		t.Fatalf("far deadline: found %v expired %v", found, expired)
	}
	if _, found, expired := c.Get("ancient", ns(at)); !found || !expired {
		t.Fatalf("ancient deadline: found %v expired %v", found, expired)
	}
}

// TestEvictionOrder: a full shard drops its entry with the soonest
// deadline (its sample covers a shard this small).
func TestEvictionOrder(t *testing.T) {
	const perShard = 4
	c := New[int](perShard * shardCount)
	// Hashes that are multiples of shardCount share shard 0.
	h := func(i int) uint64 { return uint64(i) * shardCount }
	deadlines := []int{40, 10, 30, 20}
	for i, d := range deadlines {
		c.put(h(i), tok(i), i, ns(at.Add(time.Duration(d)*time.Minute)), ns(at))
	}
	present := func(i int) bool {
		e, ok := c.shards[0].m[h(i)]
		return ok && e.token == tok(i)
	}
	for _, step := range []struct {
		add, gone int
	}{
		{4, 1}, // deadline 10 goes
		{5, 3}, // then 20
		{6, 2}, // then 30
	} {
		c.put(h(step.add), tok(step.add), step.add, ns(at.Add(time.Hour)), ns(at))
		if present(step.gone) || !present(step.add) {
			t.Fatalf("after adding %d: %d still there, or %d missing", step.add, step.gone, step.add)
		}
		if n := len(c.shards[0].m); n != perShard {
			t.Fatalf("shard holds %d entries, want %d", n, perShard)
		}
	}
	if !present(0) {
		t.Fatal("the entry with the latest deadline was evicted")
	}
	// Replacing an entry evicts nothing.
	c.put(h(0), tok(0), 0, ns(at.Add(2*time.Hour)), ns(at))
	for _, i := range []int{0, 4, 5, 6} {
		if !present(i) {
			t.Fatalf("entry %d evicted by a replacement", i)
		}
	}
}

// TestBounds: whatever the size, a cache never holds more, or more than
// one entry per shard when size is smaller than that.
func TestBounds(t *testing.T) {
	for _, size := range []int{-1, 0, 1, 5, 31, 32, 33, 100, 1000} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			c := New[int](size)
			bound := max(shardCount, size)
			for i := range 20 * bound {
				c.Put(tok(i), i, ns(at.Add(time.Hour)), ns(at))
				if n := c.Len(); n > bound || n == 0 {
					t.Fatalf("after %d puts the cache holds %d entries, bound %d", i+1, n, bound)
				}
			}
		})
	}
}

// TestLazyShards: a new cache has made no map, and a Put makes one.
func TestLazyShards(t *testing.T) {
	c := New[int](1 << 15)
	for i := range c.shards {
		if c.shards[i].m != nil {
			t.Fatalf("shard %d has a map before any Put", i)
		}
	}
	c.Put("a", 1, ns(at.Add(time.Hour)), ns(at))
	made := 0
	for i := range c.shards {
		if c.shards[i].m != nil {
			made++
		}
	}
	if made != 1 {
		t.Fatalf("%d shards have a map after one Put, want 1", made)
	}
}

// TestTokenCopied: the cache keeps its own copy of a token, not the
// caller's memory, which may be a whole request.
func TestTokenCopied(t *testing.T) {
	c := New[int](16)
	buf := []byte("header.payload.signature")
	token := unsafe.String(&buf[0], 6) // shares buf, as a substring would
	c.Put(token, 1, ns(at.Add(time.Hour)), ns(at))
	for i := range c.shards {
		for _, e := range c.shards[i].m {
			if unsafe.StringData(e.token) == &buf[0] {
				t.Fatal("the cache kept the caller's memory")
			}
		}
	}
	if _, found, _ := c.Get(token, ns(at)); !found {
		t.Fatal("copied token missed")
	}
}

// TestConcurrent drives Get, Put and Len from several goroutines at
// once, with entries expiring, sweeps and evictions; run it with -race.
func TestConcurrent(t *testing.T) {
	c := New[int](128)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 2000 {
				now := at.Add(time.Duration(i) * time.Second)
				token := tok((g*7 + i) % 300)
				if v, found, expired := c.Get(token, ns(now)); found && !expired && v != (g*7+i)%300 {
					t.Errorf("%s holds %d", token, v)
					return
				}
				c.Put(token, (g*7+i)%300, ns(now.Add(time.Duration(i%90)*time.Second)), ns(now))
				if i%100 == 0 && c.Len() > 128 {
					t.Errorf("cache over its bound: %d", c.Len())
					return
				}
			}
		})
	}
	wg.Wait()
}
