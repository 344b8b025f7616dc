// Package ratelimit slows credential guessing per client address with
// keyed token buckets: Limiter keeps them in the process's memory, for a
// single node; Shared keeps them in storage, so that every node behind a
// load balancer draws from the same buckets. HTTP handlers take either as
// an Allower.
package ratelimit

import (
	"context"
	"sync"
	"time"
)

// Allower decides whether key (a client address) may act now, and if
// not, how long until it may.
type Allower interface {
	Allow(ctx context.Context, key string) (bool, time.Duration)
}

var (
	_ Allower = (*Limiter)(nil)
	_ Allower = (*Shared)(nil)
)

// Limiter allows Burst events at once per key, refilled at Rate per
// second, counted in this process only: N nodes allow N times as much
// (Shared counts across nodes). The zero Rate disables it. Safe for
// concurrent use.
type Limiter struct {
	Rate  float64
	Burst int
	// MaxKeys bounds memory; when full, buckets idle long enough to be
	// full again are dropped first, then the whole table is reset (a
	// flood of distinct keys must not exhaust memory).
	MaxKeys int
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

// Allow implements Allower. A nil Limiter allows everything.
func (l *Limiter) Allow(_ context.Context, key string) (bool, time.Duration) {
	if l == nil || l.Rate <= 0 {
		return true, 0
	}
	now := time.Now()
	if l.Now != nil {
		now = l.Now()
	}
	burst := float64(max(l.Burst, 1))
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.buckets == nil {
		l.buckets = make(map[string]*bucket)
	}
	b, ok := l.buckets[key]
	if !ok {
		l.makeRoom(now, burst)
		b = &bucket{tokens: burst, last: now}
		l.buckets[key] = b
	}
	b.tokens = min(burst, b.tokens+now.Sub(b.last).Seconds()*l.Rate)
	b.last = now
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	return false, time.Duration((1 - b.tokens) / l.Rate * float64(time.Second))
}

func (l *Limiter) makeRoom(now time.Time, burst float64) {
	limit := l.MaxKeys
	if limit <= 0 {
		limit = 100_000
	}
	if len(l.buckets) < limit {
		return
	}
	refill := time.Duration(burst / l.Rate * float64(time.Second))
	for k, b := range l.buckets {
		if now.Sub(b.last) >= refill {
			delete(l.buckets, k)
		}
	}
	if len(l.buckets) >= limit {
		clear(l.buckets)
	}
}
