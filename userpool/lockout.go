package userpool

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/cognate-auth/cognate/storage"
)

// LockoutPolicy throttles password guessing per user: the FreeAttempts-th
// consecutive failure locks the user out for BaseDelay, and each further
// one for double the last, up to MaxDelay. Cognito's: 2^(n-5) seconds
// after n failures, so the fifth locks for one second. Names that have no
// user are counted and locked the same way, so the lock tells nothing
// about who exists.
type LockoutPolicy struct {
	FreeAttempts int
	BaseDelay    time.Duration
	MaxDelay     time.Duration
}

func (p LockoutPolicy) withDefaults() LockoutPolicy {
	if p.FreeAttempts <= 0 {
		p.FreeAttempts = 5
	}
	if p.BaseDelay <= 0 {
		p.BaseDelay = time.Second
	}
	if p.MaxDelay <= 0 {
		p.MaxDelay = 15 * time.Minute
	}
	return p
}

// delay is how long the n-th consecutive failure locks for (zero before
// the free attempts run out).
func (p LockoutPolicy) delay(n int) time.Duration {
	over := n - p.FreeAttempts
	switch {
	case over < 0:
		return 0
	case over >= 30:
		return p.MaxDelay
	}
	return min(p.BaseDelay<<over, p.MaxDelay)
}

// forgetFailuresAfter is how long a counter outlives its last failure (or
// the lock that followed it): a day without a wrong password starts
// afresh.
const forgetFailuresAfter = 24 * time.Hour

// errAttemptsExceeded answers any password attempt while locked out,
// right password or wrong, without checking it.
var errAttemptsExceeded = errorf(ErrNotAuthorized, "Password attempts exceeded")

// secret is a kind of secret callers guess at, with its answers: while
// locked out, and for a wrong guess.
type secret struct {
	prefix        string
	locked, wrong error
}

// Every guessed secret is counted per subject — a user's username, or,
// for a name no user has, the name as a lookup of it would match it (see
// lookupName), so every spelling that finds the same user shares one
// counter, and an unknown name locks exactly like a real user.
var passwordSecret = secret{"password/", errAttemptsExceeded, ErrNotAuthorized}

// codeSecret is the secret of a code of one purpose. Wrong codes count per user
// and purpose, not per code, so a fresh code brings no fresh guesses.
func codeSecret(purpose string) secret {
	return secret{"code/" + purpose + "/", ErrLimitExceeded, ErrCodeMismatch}
}

// lookupName is the form of name that findUser compares: lower-cased when
// it is looked up as an email.
func lookupName(p storage.Pool, name string) string {
	if signsInByEmail(p) && strings.Contains(name, "@") {
		return strings.ToLower(name)
	}
	return name
}

// guess is one attempt at a secret, checked against the lock first and
// settled after the comparison.
type guess struct {
	s      *Service
	secret secret
	poolID string
	key    string
	// counted is whether a counter existed when the guess began: a right
	// password with nothing to clear needs no write.
	counted bool
}

// startGuess refuses a guess at sec while subject is locked out. It only
// reads: the decision that holds under concurrency is settle's.
func (s *Service) startGuess(ctx context.Context, sec secret, poolID, subject string) (guess, error) {
	g := guess{s: s, secret: sec, poolID: poolID, key: sec.prefix + subject}
	a, err := s.store.GetAttempts(ctx, poolID, g.key)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return g, nil
	case err != nil:
		return g, internal("get attempts", err)
	}
	now := s.now()
	g.counted = now.Before(a.ExpiresAt)
	if now.Before(a.LockedUntil) {
		return g, sec.locked
	}
	return g, nil
}

// settle records the outcome of the comparison in one atomic step on the
// counter, which is what bounds parallel guesses: a wrong guess counts
// (and may lock); a right one clears the count; and either is refused
// with the secret's locked answer, without saying which it was, if other
// guesses locked the key since startGuess. A wrong guess returns the
// secret's wrong answer.
// tx is where the write goes, so that a success can clear the count in
// the transaction that uses it.
func (g guess) settle(ctx context.Context, tx storage.Storage, ok bool) error {
	if ok && !g.counted {
		// Nothing to clear: this success is ordered before any failure
		// still in flight, as if it had finished first.
		return nil
	}
	lp, now := g.s.lockout, g.s.now()
	var refused bool
	err := tx.UpdateAttempts(ctx, g.poolID, g.key, func(a storage.AttemptCount) (storage.AttemptCount, error) {
		refused = false
		if !now.Before(a.ExpiresAt) {
			a = storage.AttemptCount{PoolID: a.PoolID, Key: a.Key}
		}
		switch {
		case now.Before(a.LockedUntil):
			refused = true
			return a, g.secret.locked
		case ok:
			return storage.AttemptCount{PoolID: a.PoolID, Key: a.Key}, nil
		}
		a.Failures++
		a.LastFailure = now
		if d := lp.delay(a.Failures); d > 0 {
			a.LockedUntil = now.Add(d)
		}
		a.ExpiresAt = now.Add(forgetFailuresAfter)
		if a.LockedUntil.After(now) {
			a.ExpiresAt = a.LockedUntil.Add(forgetFailuresAfter)
		}
		return a, nil
	})
	switch {
	case refused:
		return g.secret.locked
	case errors.Is(err, storage.ErrNotFound):
		// The pool went away mid-guess.
		return g.secret.wrong
	case err != nil:
		return internal("record attempt", err)
	case !ok:
		return g.secret.wrong
	}
	return nil
}

// clearGuesses forgets a user's failed passwords (a new password was set).
func clearGuesses(ctx context.Context, tx storage.Storage, poolID, username string) error {
	err := tx.UpdateAttempts(ctx, poolID, passwordSecret.prefix+username, func(a storage.AttemptCount) (storage.AttemptCount, error) {
		return storage.AttemptCount{PoolID: a.PoolID, Key: a.Key}, nil
	})
	if err != nil {
		return internal("clear attempts", err)
	}
	return nil
}

// Code sends are limited per subject and purpose, for real users and
// unknown names alike: a caller cannot flood someone's inbox, and every
// request to send a code writes the same one counter whether a code goes
// out or not, so neither the answer nor its timing tells who exists.
const (
	maxSendsPerWindow = 10
	sendWindow        = time.Hour
)

// countSend counts a request to send a code of purpose to subject, in tx,
// and refuses it with LimitExceededException past the limit.
func (s *Service) countSend(ctx context.Context, tx storage.Storage, poolID, purpose, subject string) error {
	now := s.now()
	err := tx.UpdateAttempts(ctx, poolID, "send/"+purpose+"/"+subject, func(a storage.AttemptCount) (storage.AttemptCount, error) {
		if !now.Before(a.ExpiresAt) {
			a = storage.AttemptCount{PoolID: a.PoolID, Key: a.Key, ExpiresAt: now.Add(sendWindow)}
		}
		if a.Failures >= maxSendsPerWindow {
			return a, ErrLimitExceeded
		}
		a.Failures++
		a.LastFailure = now
		return a, nil
	})
	if err != nil {
		return internal("count send", err)
	}
	return nil
}
