package ratelimit

import (
	"context"
	"log/slog"
	"time"
)

// Store keeps token buckets for every node that uses it, taking a token
// in one atomic step (storage.RateLimits, which every storage.Storage
// implements).
type Store interface {
	TakeRateToken(ctx context.Context, key string, now time.Time, rate float64, burst int) (ok bool, retryAfter time.Duration, err error)
}

// Shared allows Burst events at once per key, refilled at Rate per
// second, like Limiter, but with the buckets in a Store that every node
// shares: N nodes on one database allow Burst and Rate between them, not
// N times that. Each Allow costs one write to the store. The zero Rate
// disables it. Safe for concurrent use.
type Shared struct {
	Store Store
	Rate  float64
	Burst int
	// Prefix is put before every key in the store, so that limiters
	// sharing a store keep separate buckets.
	Prefix string
	// Fallback decides while the store fails; nil allows.
	Fallback Allower
	// Logger receives store failures (warn); nil discards them.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Allow implements Allower. A nil Shared allows everything.
//
// A store failure fails open, to Fallback (meant to be a Limiter of the
// same Rate and Burst, so the node still limits on its own). This is
// deliberate: the guesses this limit slows are checked against the same
// database (the user, the per-user lockout counter), so while it is down
// no guess gets an answer and the request fails with a retryable error
// anyway; failing closed would turn that error into a
// TooManyRequestsException with a made-up wait, and refuse every
// address whenever this one statement fails alone (a timeout under
// load), which is when Fallback's per-node limit still holds. The
// per-user lockout, kept in the database, bounds guesses at any one user
// whatever this limiter answers.
func (s *Shared) Allow(ctx context.Context, key string) (bool, time.Duration) {
	if s == nil || s.Rate <= 0 {
		return true, 0
	}
	now := time.Now()
	if s.Now != nil {
		now = s.Now()
	}
	ok, wait, err := s.Store.TakeRateToken(ctx, s.Prefix+key, now, s.Rate, max(s.Burst, 1))
	if err == nil {
		return ok, wait
	}
	if s.Logger != nil {
		s.Logger.WarnContext(ctx, "ratelimit: shared store failed, limiting on this node alone", "err", err)
	}
	if s.Fallback == nil {
		return true, 0
	}
	return s.Fallback.Allow(ctx, key)
}
