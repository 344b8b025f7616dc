package userpool

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/cognate-auth/cognate/storage"
)

// Code purposes, as stored.
const (
	purposeSignUp         = "signup"
	purposeForgotPassword = "forgot_password"
	purposeVerifyPrefix   = "verify:"
)

// Code lifetimes, as Cognito documents them.
const (
	signUpCodeTTL = 24 * time.Hour
	forgotCodeTTL = time.Hour
	verifyCodeTTL = 24 * time.Hour
)

// newCode returns a uniformly random code of n digits (at most 18).
func newCode(n int) (string, error) {
	limit := int64(1)
	for range n {
		limit *= 10
	}
	v, err := rand.Int(rand.Reader, big.NewInt(limit))
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%0*d", n, v.Int64()), nil
}

// hashCode keys the hash with a server secret: six digits are too few to
// survive a plain hash if the database leaks.
func (s *Service) hashCode(c storage.Code, code string) []byte {
	m := hmac.New(sha256.New, s.codeKey)
	m.Write([]byte(c.PoolID + "\x00" + c.Username + "\x00" + c.Purpose + "\x00" + c.Value + "\x00" + code))
	return m.Sum(nil)
}

// issueCode stores a fresh 6-digit code (replacing any earlier one of
// the same purpose) and returns its plaintext for delivery.
func (s *Service) issueCode(ctx context.Context, tx storage.Storage, u storage.User, purpose, value string, ttl time.Duration) (string, error) {
	code, _, err := s.issueDigits(ctx, tx, u, purpose, value, ttl, 6)
	return code, err
}

// issueDigits is issueCode for a code of n digits; it also returns the
// stored hash.
func (s *Service) issueDigits(ctx context.Context, tx storage.Storage, u storage.User, purpose, value string, ttl time.Duration, n int) (string, []byte, error) {
	code, err := newCode(n)
	if err != nil {
		return "", nil, internal("new code", err)
	}
	now := s.now()
	c := storage.Code{PoolID: u.PoolID, Username: u.Username, Purpose: purpose, Value: value, CreatedAt: now, ExpiresAt: now.Add(ttl)}
	c.Hash = s.hashCode(c, code)
	if err := tx.PutCode(ctx, c); err != nil {
		return "", nil, internal("put code", err)
	}
	return code, c.Hash, nil
}

// useCode checks a code submitted for subject — u's username, or, when u
// is the zero User, a name with no user, which has no code and so never
// matches but is counted all the same — and, if it matches, runs apply
// with the value the code confirms. A match marks the code used in the
// same transaction as apply's writes, so either both happen or neither,
// and of concurrent uses of one code exactly one wins. Wrong codes count
// toward a lock per subject and purpose (see codeSecret), answered with
// LimitExceededException. That a code expired, or was used, is revealed
// (ExpiredCodeException, uncounted) only to a caller who submits it.
func (s *Service) useCode(ctx context.Context, poolID string, u storage.User, subject, purpose, submitted string, apply func(ctx context.Context, tx storage.Storage, value string) error) error {
	g, err := s.startGuess(ctx, codeSecret(purpose), poolID, subject)
	if err != nil {
		return err
	}
	c, err := s.store.GetCode(ctx, poolID, subject, purpose)
	found := err == nil
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return internal("get code", err)
	}
	switch match := found && u.Username != "" && hmac.Equal(c.Hash, s.hashCode(c, submitted)); {
	case !match:
		return g.settle(ctx, s.store, false)
	case !c.UsedAt.IsZero() || s.now().After(c.ExpiresAt):
		return ErrExpiredCode
	}
	return s.store.Atomic(ctx, func(ctx context.Context, tx storage.Storage) error {
		if err := g.settle(ctx, tx, true); err != nil {
			return err
		}
		err := tx.UpdateCode(ctx, poolID, subject, purpose, func(now storage.Code) (storage.Code, error) {
			if !now.UsedAt.IsZero() || !hmac.Equal(now.Hash, c.Hash) {
				return now, ErrExpiredCode // used, or replaced, meanwhile
			}
			now.UsedAt = s.now()
			return now, nil
		})
		if errors.Is(err, storage.ErrNotFound) {
			return ErrExpiredCode
		} else if err != nil {
			return internal("use code", err)
		}
		return apply(ctx, tx, c.Value)
	})
}
