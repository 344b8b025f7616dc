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

// Code lifetimes and attempt limit, as Cognito documents them.
const (
	signUpCodeTTL   = 24 * time.Hour
	forgotCodeTTL   = time.Hour
	verifyCodeTTL   = 24 * time.Hour
	maxCodeAttempts = 5
)

// newCode returns a uniformly random 6-digit code.
func newCode() (string, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%06d", n.Int64()), nil
}

// hashCode keys the hash with a server secret: six digits are too few to
// survive a plain hash if the database leaks.
func (s *Service) hashCode(c storage.Code, code string) []byte {
	m := hmac.New(sha256.New, s.codeKey)
	m.Write([]byte(c.PoolID + "\x00" + c.Username + "\x00" + c.Purpose + "\x00" + c.Value + "\x00" + code))
	return m.Sum(nil)
}

// issueCode stores a fresh code (replacing any earlier one of the same
// purpose) and returns its plaintext for delivery.
func (s *Service) issueCode(ctx context.Context, tx storage.Storage, u storage.User, purpose, value string, ttl time.Duration) (string, error) {
	code, err := newCode()
	if err != nil {
		return "", internal("new code", err)
	}
	now := s.now()
	c := storage.Code{PoolID: u.PoolID, Username: u.Username, Purpose: purpose, Value: value, CreatedAt: now, ExpiresAt: now.Add(ttl)}
	c.Hash = s.hashCode(c, code)
	if err := tx.PutCode(ctx, c); err != nil {
		return "", internal("put code", err)
	}
	return code, nil
}

// errCodeBurned marks a code that hit the attempt limit: it is deleted,
// and the caller reports LimitExceededException.
var errCodeBurned = errors.New("code attempts exhausted")

// useCode checks a submitted code and, if it matches, runs apply with the
// value the code confirms. The code is single-use: a match deletes it in
// the same transaction as apply's writes, so either both happen or
// neither. A mismatch counts an attempt (committed even though the call
// fails) and, at the limit, deletes the code.
func (s *Service) useCode(ctx context.Context, u storage.User, purpose, code string, apply func(ctx context.Context, tx storage.Storage, value string) error) error {
	var outcome error
	err := s.store.Atomic(ctx, func(ctx context.Context, tx storage.Storage) error {
		var value string
		outcome = nil
		err := tx.UpdateCode(ctx, u.PoolID, u.Username, purpose, func(c storage.Code) (storage.Code, error) {
			outcome = nil
			switch {
			case s.now().After(c.ExpiresAt):
				outcome = ErrExpiredCode
			case c.Attempts >= maxCodeAttempts:
				outcome = errCodeBurned
			case hmac.Equal(c.Hash, s.hashCode(c, code)):
				value = c.Value
			default:
				c.Attempts++
				outcome = ErrCodeMismatch
				if c.Attempts >= maxCodeAttempts {
					outcome = errCodeBurned
				}
			}
			return c, nil
		})
		if errors.Is(err, storage.ErrNotFound) {
			outcome = ErrExpiredCode
			return nil
		}
		if err != nil {
			return internal("update code", err)
		}
		if errors.Is(outcome, ErrCodeMismatch) {
			return nil
		}
		if err := tx.DeleteCode(ctx, u.PoolID, u.Username, purpose); err != nil && !errors.Is(err, storage.ErrNotFound) {
			return internal("delete code", err)
		}
		if outcome != nil {
			return nil
		}
		return apply(ctx, tx, value)
	})
	switch {
	case err != nil:
		return err
	case errors.Is(outcome, errCodeBurned):
		return ErrLimitExceeded
	}
	return outcome
}
