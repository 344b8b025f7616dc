// Package bffstore is the contract of the store in which cognate
// gateway's BFF mode keeps sessions server-side: the browser holds one
// opaque session id, the store holds the session's tokens (sealed by the
// gateway) under the SHA-256 of that id, and a lock per session lets one
// gateway node, of several sharing the store, refresh the tokens while
// the others wait and then read what it stored.
//
// Backends: sqlite (an embedded file, the default: one host), redis and
// postgres (several nodes). Every backend runs the conformance suite in
// storetest.
package bffstore

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

// Key names a session in a store: the SHA-256 digest of its id. A store
// never sees an id, so reading the store does not give one away.
type Key [32]byte

// MaxValueBytes bounds a stored value. The session layer refuses more
// than 64 KiB of token cookies, so a sealed session is well within it.
const MaxValueBytes = 128 << 10

// CheckSize is every backend's check of a value before Put:
// ErrTooLarge over MaxValueBytes.
func CheckSize(value []byte) error {
	if len(value) > MaxValueBytes {
		return fmt.Errorf("%w: %d bytes", ErrTooLarge, len(value))
	}
	return nil
}

// Errors of every Store, wrapped with detail.
var (
	// ErrNotFound: no value under the key, or it expired.
	ErrNotFound = errors.New("bffstore: not found")
	// ErrTooLarge: the value is over MaxValueBytes; nothing was stored.
	ErrTooLarge = errors.New("bffstore: value too large")
)

// Store keeps sealed sessions with an expiry, and per-key locks that
// span every node using the same store. Implementations are safe for
// concurrent use.
type Store interface {
	// Get returns the value under key and when it expires, or
	// ErrNotFound.
	Get(ctx context.Context, key Key) (value []byte, expires time.Time, err error)
	// Put stores value under key until expires (a time already past
	// stores nothing and removes what was there).
	Put(ctx context.Context, key Key, value []byte, expires time.Time) error
	// Touch moves the expiry of the value under key, without writing
	// the value: a value deleted or replaced meanwhile stays so. A
	// missing key is ErrNotFound; a time already past removes it.
	Touch(ctx context.Context, key Key, expires time.Time) error
	// Delete removes key's value; a missing key is no error.
	Delete(ctx context.Context, key Key) error
	// Lock takes the lock named key, waiting while another holder (of
	// this or another node) has it, until ctx is done. The lock is
	// released by unlock, or after ttl if its holder never calls it (a
	// crashed node); unlock after ttl releases nothing another holder
	// has since taken. Locks and values are separate name spaces.
	Lock(ctx context.Context, key Key, ttl time.Duration) (unlock func(context.Context) error, err error)
}

// Poll calls try until it reports the lock taken, fails, or ctx is done,
// sleeping a few jittered milliseconds between calls (the time a refresh
// takes is short next to any wake-up machinery's cost). For backends.
func Poll(ctx context.Context, try func(context.Context) (bool, error)) error {
	wait := 2 * time.Millisecond
	for {
		ok, err := try(ctx)
		if err != nil || ok {
			return err
		}
		t := time.NewTimer(wait/2 + rand.N(wait))
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		wait = min(wait*2, 50*time.Millisecond)
	}
}
