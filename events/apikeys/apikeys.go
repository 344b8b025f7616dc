// Package apikeys issues and checks the events API's keys (the x-api-key
// header of AppSync Events). A key is "da2-" and 26 random characters, as
// AppSync's are; only its SHA-256 is stored, so a database leak reveals
// no usable key. Lookups are cached briefly, so a deleted key stops
// working within CacheTTL on every node.
package apikeys

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/cognate-auth/cognate/storage"
)

// Prefix starts every key, as AppSync's "da2-" keys.
const Prefix = "da2-"

// alphabet is lower-case base32 without padding: keys survive URLs,
// headers and shells unquoted.
const alphabet = "abcdefghijklmnopqrstuvwxyz234567"

const keyLen = 26

// Sentinel errors callers branch on.
var (
	// ErrUnknown: no such key (or it was deleted).
	ErrUnknown = errors.New("apikeys: unknown API key")
	// ErrExpired: the key exists but its expiry has passed.
	ErrExpired = errors.New("apikeys: API key expired")
)

// Options configure a Manager; the zero value works.
type Options struct {
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// CacheTTL bounds how long a lookup result is reused; zero means 5 s,
	// negative turns caching off.
	CacheTTL time.Duration
}

// Manager creates, lists, deletes and checks keys in storage.
type Manager struct {
	store storage.APIKeys
	now   func() time.Time
	ttl   time.Duration

	mu    sync.Mutex
	cache map[[sha256.Size]byte]cached
}

type cached struct {
	rec     storage.APIKey
	err     error
	expires time.Time
}

// maxCached bounds the cache, so a flood of made-up keys cannot grow it.
const maxCached = 10000

// New returns a Manager over store.
func New(store storage.APIKeys, opts Options) *Manager {
	m := &Manager{store: store, now: opts.Now, ttl: opts.CacheTTL, cache: make(map[[sha256.Size]byte]cached)}
	if m.now == nil {
		m.now = time.Now
	}
	if m.ttl == 0 {
		m.ttl = 5 * time.Second
	}
	return m
}

// Create stores a new key that expires after ttl and returns its value,
// which is shown once and never stored.
func (m *Manager) Create(ctx context.Context, description string, ttl time.Duration) (string, storage.APIKey, error) {
	if ttl <= 0 {
		return "", storage.APIKey{}, errors.New("apikeys: the expiry must be in the future")
	}
	key := Prefix + random(keyLen)
	sum := sha256.Sum256([]byte(key))
	now := m.now().UTC()
	rec := storage.APIKey{
		ID: random(10), Hash: sum[:], Description: description,
		CreatedAt: now, ExpiresAt: now.Add(ttl),
	}
	if err := m.store.CreateAPIKey(ctx, rec); err != nil {
		return "", storage.APIKey{}, fmt.Errorf("apikeys: create: %w", err)
	}
	return key, rec, nil
}

// List returns every key record, oldest first (values are not stored).
func (m *Manager) List(ctx context.Context) ([]storage.APIKey, error) {
	return m.store.ListAPIKeys(ctx)
}

// Delete removes the key with the given id; ErrUnknown if there is none.
func (m *Manager) Delete(ctx context.Context, id string) error {
	err := m.store.DeleteAPIKey(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		return ErrUnknown
	}
	m.mu.Lock()
	clear(m.cache)
	m.mu.Unlock()
	return err
}

// Lookup checks a key sent by a client and returns its record:
// ErrUnknown or ErrExpired when it may not be used.
func (m *Manager) Lookup(ctx context.Context, key string) (storage.APIKey, error) {
	if !wellFormed(key) {
		return storage.APIKey{}, ErrUnknown
	}
	sum := sha256.Sum256([]byte(key))
	now := m.now()
	m.mu.Lock()
	c, ok := m.cache[sum]
	m.mu.Unlock()
	if !ok || !now.Before(c.expires) {
		c = cached{expires: now.Add(m.ttl)}
		c.rec, c.err = m.store.GetAPIKey(ctx, sum[:])
		if errors.Is(c.err, storage.ErrNotFound) {
			c.err = ErrUnknown
		}
		if c.err != nil && !errors.Is(c.err, ErrUnknown) {
			// A storage failure is not an answer about the key: not cached.
			return storage.APIKey{}, fmt.Errorf("apikeys: lookup: %w", c.err)
		}
		if m.ttl > 0 {
			m.remember(sum, c, now)
		}
	}
	if c.err != nil {
		return storage.APIKey{}, c.err
	}
	if !now.Before(c.rec.ExpiresAt) {
		return c.rec, ErrExpired
	}
	return c.rec, nil
}

func (m *Manager) remember(sum [sha256.Size]byte, c cached, now time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.cache) >= maxCached {
		for k, v := range m.cache {
			if !now.Before(v.expires) {
				delete(m.cache, k)
			}
		}
		if len(m.cache) >= maxCached {
			clear(m.cache)
		}
	}
	m.cache[sum] = c
}

// wellFormed rejects what cannot be a key before any hashing or lookup.
func wellFormed(key string) bool {
	rest, ok := strings.CutPrefix(key, Prefix)
	if !ok || len(rest) != keyLen {
		return false
	}
	for i := range len(rest) {
		if strings.IndexByte(alphabet, rest[i]) < 0 {
			return false
		}
	}
	return true
}

func random(n int) string {
	b := make([]byte, n)
	rand.Read(b) // never fails (crypto/rand crashes the program instead)
	for i := range b {
		b[i] = alphabet[b[i]&31]
	}
	return string(b)
}
