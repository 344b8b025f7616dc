// Package keys holds the RSA keys a user pool signs its tokens with, and
// signs and verifies those tokens the way Amazon Cognito does.
//
// Every pool has its own keys, and access tokens and id tokens are signed
// with different keys, so a pool publishes (at least) two keys in its JWKS.
// Tokens are RS256 compact JWS whose header is exactly
//
//	{"kid":"<kid>","alg":"RS256"}
//
// (kid first, no "typ"), as Cognito's are. A kid is the RFC 7638 SHA-256
// thumbprint of the public key, base64url without padding (43 characters).
//
// A Manager keeps each pool's parsed keys in memory. It reads them from
// storage the first time the pool is used, again when a token names a kid it
// does not know (another node may have rotated; at most once per
// Options.ReloadInterval), and again when signing with a key set older than
// Options.RefreshInterval. Keys are never deleted: Rotate adds a key that
// signs from then on while older keys stay in the JWKS and keep verifying.
//
// Verify caches what it accepted: a token maps to its payload until its
// exp, so a token presented again costs a hash, a map lookup and a
// comparison instead of an RSA operation.
package keys

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"hash/maphash"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cognate-auth/cognate/internal/tokencache"
	"github.com/cognate-auth/cognate/storage"
)

// Token uses: Cognito signs access tokens and id tokens with different keys.
const (
	UseAccess = "access"
	UseID     = "id"
)

// Algorithm is the only JWS algorithm Cognate signs with and accepts.
const Algorithm = "RS256"

// MaxTokenSize is the longest token Verify looks at; longer input is
// rejected with ErrMalformed before any other work.
const MaxTokenSize = 16 << 10

// Defaults for the zero values of Options.
const (
	DefaultCacheSize       = 100_000
	DefaultKeyBits         = 2048
	DefaultReloadInterval  = 5 * time.Second
	DefaultRefreshInterval = time.Minute
)

// DefaultActivationDelay is how far ahead RotateAt should schedule a key
// so that every node (at DefaultRefreshInterval) and every JWKS client
// that refetches on an unknown kid has it before it signs.
const DefaultActivationDelay = 2 * DefaultRefreshInterval

// minKeyBits is the smallest RSA modulus Manager generates.
const minKeyBits = 2048

// Errors callers branch on with errors.Is. Verify wraps ErrMalformed,
// ErrUnknownKey and ErrBadSignature with detail; storage errors are
// returned wrapped as they are.
var (
	// ErrMalformed: the token is not an RS256 compact JWS Cognate could
	// have produced (empty, oversized, not three base64url segments, bad
	// header, alg other than RS256, missing kid, critical extensions).
	ErrMalformed = errors.New("keys: malformed token")
	// ErrUnknownKey: the token's kid is not a key of the pool, or is the
	// pool's key for the other token use.
	ErrUnknownKey = errors.New("keys: unknown signing key")
	// ErrBadSignature: the signature does not verify with the named key.
	ErrBadSignature = errors.New("keys: bad signature")
	// ErrNoKey: the pool has no key for that use (EnsurePoolKeys was not
	// called, or the pool does not exist).
	ErrNoKey = errors.New("keys: pool has no signing key")
	// ErrInvalidUse: the use argument is neither UseAccess nor UseID.
	ErrInvalidUse = errors.New("keys: invalid key use")
	// ErrInvalidClaims: the claims do not marshal to a JSON object.
	ErrInvalidClaims = errors.New("keys: claims are not a JSON object")
)

// Options configure a Manager. The zero value is usable.
type Options struct {
	// Logger receives key creation and rotation (info), reloads (debug)
	// and unusable key records or failed refreshes (warn); nil discards
	// them.
	Logger *slog.Logger
	// Now is the clock, for key timestamps, cache expiry and reload
	// intervals; nil means time.Now.
	Now func() time.Time
	// CacheSize bounds the verified-token cache, in tokens; 0 means
	// DefaultCacheSize, a negative value disables the cache. An entry
	// holds a copy of the token and its payload: about 1.8 KiB for a
	// Cognito-shaped access token of 1 KiB.
	CacheSize int
	// KeyBits is the RSA modulus size of new keys; 0 means DefaultKeyBits.
	// Values below 2048 make key creation fail.
	KeyBits int
	// ReloadInterval is the least time between two storage reloads of a
	// pool's keys triggered by tokens naming an unknown kid; 0 means
	// DefaultReloadInterval.
	ReloadInterval time.Duration
	// RefreshInterval is the age after which Sign and JWKS reload the
	// pool's keys, so that keys rotated on another node are picked up;
	// 0 means DefaultRefreshInterval.
	RefreshInterval time.Duration
}

// Manager creates, caches and uses the signing keys of every pool. It is
// safe for concurrent use.
type Manager struct {
	store           storage.SigningKeys
	log             *slog.Logger
	now             func() time.Time
	keyBits         int
	reloadInterval  time.Duration
	refreshInterval time.Duration

	sets   sync.Map // pool ID → *keySet, only for pools that have keys
	loads  flight
	create stripedLock                 // serialises EnsurePoolKeys and Rotate per pool
	cache  *tokencache.Cache[verified] // nil when disabled

	// rsaVerifies counts RSA signature verifications (tests and
	// benchmarks read it to tell cache hits from misses).
	rsaVerifies atomic.Int64
}

// NewManager returns a Manager over store.
func NewManager(store storage.SigningKeys, opts Options) *Manager {
	m := &Manager{
		store:           store,
		log:             opts.Logger,
		now:             opts.Now,
		keyBits:         opts.KeyBits,
		reloadInterval:  opts.ReloadInterval,
		refreshInterval: opts.RefreshInterval,
	}
	if m.log == nil {
		m.log = slog.New(slog.DiscardHandler)
	}
	if m.now == nil {
		m.now = time.Now
	}
	if m.keyBits == 0 {
		m.keyBits = DefaultKeyBits
	}
	if m.reloadInterval <= 0 {
		m.reloadInterval = DefaultReloadInterval
	}
	if m.refreshInterval <= 0 {
		m.refreshInterval = DefaultRefreshInterval
	}
	switch {
	case opts.CacheSize == 0:
		m.cache = tokencache.New[verified](DefaultCacheSize)
	case opts.CacheSize > 0:
		m.cache = tokencache.New[verified](opts.CacheSize)
	}
	m.create.seed = maphash.MakeSeed()
	return m
}

// useIndex maps a use name to its slot in keySet.current.
func useIndex(use string) (int, error) {
	switch use {
	case UseAccess:
		return 0, nil
	case UseID:
		return 1, nil
	}
	return 0, fmt.Errorf("%w: %q", ErrInvalidUse, use)
}

// useNames is the inverse of useIndex.
var useNames = [2]string{UseAccess, UseID}

// EnsurePoolKeys creates the pool's access and id keys unless it has them
// already. It is idempotent and safe to call concurrently: callers of one
// Manager are serialised, and storage adds a use's first key only where
// the pool has none (AddMissingSigningKeys), so Managers on several nodes
// starting at once also end with one key per use.
func (m *Manager) EnsurePoolKeys(ctx context.Context, poolID string) error {
	if poolID == "" {
		return errors.New("keys: empty pool ID")
	}
	if ks := m.cached(poolID); ks != nil && ks.complete() {
		return nil
	}
	unlock := m.create.lock(poolID)
	defer unlock()

	ks, err := m.load(ctx, poolID, true)
	if err != nil {
		return err
	}
	if ks.complete() {
		return nil
	}
	var fresh []storage.SigningKey
	for i, use := range useNames {
		if ks.current[i] != nil {
			continue
		}
		k, err := m.generate(poolID, use, m.now())
		if err != nil {
			return err
		}
		fresh = append(fresh, k)
	}
	_, err = m.store.AddMissingSigningKeys(ctx, fresh)
	if err != nil {
		// Another node may have created the keys while we tried: that is
		// success too.
		if ks, lerr := m.load(ctx, poolID, true); lerr == nil && ks.complete() {
			m.log.DebugContext(ctx, "keys: pool keys created concurrently elsewhere", "pool", poolID, "err", err)
			return nil
		}
		return fmt.Errorf("keys: create keys of pool %s: %w", poolID, err)
	}
	ks, err = m.load(ctx, poolID, true)
	if err != nil {
		return err
	}
	if !ks.complete() {
		return fmt.Errorf("keys: pool %s still lacks keys after creating them", poolID)
	}
	for _, k := range fresh {
		if ks.byKID[k.ID] != nil {
			m.log.InfoContext(ctx, "keys: created pool key", "pool", poolID, "use", k.Use, "kid", k.ID)
		}
	}
	return nil
}

// Rotate adds a new key for use to the pool. This Manager signs with it
// from now on; other Managers on the same storage switch to it within
// their RefreshInterval. Older keys stay in the JWKS, so tokens they signed
// keep verifying. Several nodes should rotate with RotateAt instead.
func (m *Manager) Rotate(ctx context.Context, poolID, use string) error {
	return m.RotateAt(ctx, poolID, use, m.now())
}

// RotateAt adds a new key for use to the pool that signs from activate
// on. Every Manager on the same storage publishes it in the JWKS within
// its RefreshInterval and switches to it at activate, so with activate at
// least a RefreshInterval ahead (DefaultActivationDelay) no verifier ever
// meets a token signed by a key it could not have fetched yet, and all
// nodes switch together.
func (m *Manager) RotateAt(ctx context.Context, poolID, use string, activate time.Time) error {
	idx, err := useIndex(use)
	if err != nil {
		return err
	}
	if poolID == "" {
		return errors.New("keys: empty pool ID")
	}
	unlock := m.create.lock(poolID)
	defer unlock()

	ks, err := m.load(ctx, poolID, true)
	if err != nil {
		return err
	}
	// The newest key signs, so the new one must be strictly newer than
	// the current one even if the clock is coarse or stands still.
	// Storage may keep times at a millisecond's precision.
	at := activate
	if cur := ks.current[idx]; cur != nil && at.Sub(cur.createdAt) < time.Millisecond {
		at = cur.createdAt.Add(time.Millisecond)
	}
	k, err := m.generate(poolID, use, at)
	if err != nil {
		return err
	}
	if err := m.store.CreateSigningKey(ctx, k); err != nil {
		return fmt.Errorf("keys: store rotated key of pool %s: %w", poolID, err)
	}
	ks, err = m.load(ctx, poolID, true)
	if err != nil {
		return err
	}
	if cur := ks.current[idx]; !at.After(ks.loadedAt.Add(scheduleSlack)) && (cur == nil || cur.kid != k.ID) {
		// Only a newer key written concurrently by another node can win.
		m.log.WarnContext(ctx, "keys: rotated key is not the current one", "pool", poolID, "use", use, "kid", k.ID)
	}
	m.log.InfoContext(ctx, "keys: rotated pool key", "pool", poolID, "use", use, "kid", k.ID, "signs_from", at)
	return nil
}

// generate makes a new RSA key record for the pool.
func (m *Manager) generate(poolID, use string, at time.Time) (storage.SigningKey, error) {
	if m.keyBits < minKeyBits {
		return storage.SigningKey{}, fmt.Errorf("keys: KeyBits %d is below the minimum %d", m.keyBits, minKeyBits)
	}
	priv, err := rsa.GenerateKey(rand.Reader, m.keyBits)
	if err != nil {
		return storage.SigningKey{}, fmt.Errorf("keys: generate RSA key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return storage.SigningKey{}, fmt.Errorf("keys: marshal key: %w", err)
	}
	return storage.SigningKey{
		ID:            thumbprint(&priv.PublicKey),
		PoolID:        poolID,
		Use:           use,
		Algorithm:     Algorithm,
		PrivateKeyDER: der,
		CreatedAt:     at,
	}, nil
}

// Sign marshals claims with encoding/json (a struct keeps its field order)
// and signs them with the pool's current key for use. The claims must
// marshal to a JSON object.
func (m *Manager) Sign(ctx context.Context, poolID, use string, claims any) (string, error) {
	idx, err := useIndex(use)
	if err != nil {
		return "", err
	}
	payload, err := marshalClaims(claims)
	if err != nil {
		return "", err
	}
	k, err := m.signingKey(ctx, poolID, idx)
	if err != nil {
		return "", err
	}
	return k.sign(payload)
}

// signingKey returns the pool's current key for the use, reloading the
// pool's keys when they are missing or older than RefreshInterval.
func (m *Manager) signingKey(ctx context.Context, poolID string, idx int) (*signingKey, error) {
	ks, err := m.current(ctx, poolID, idx)
	if err != nil {
		return nil, err
	}
	if k := ks.current[idx]; k != nil {
		return k, nil
	}
	return nil, fmt.Errorf("%w: pool %s, use %s", ErrNoKey, poolID, useNames[idx])
}

// current returns the pool's key set, refreshed if it is stale; a failed
// refresh of a stale set is logged and the stale set used. idx is the use
// the caller needs (-1 for none): its absence triggers a reload at most
// once per ReloadInterval.
func (m *Manager) current(ctx context.Context, poolID string, idx int) (*keySet, error) {
	ks := m.cached(poolID)
	if ks != nil {
		age := m.now().Sub(ks.loadedAt)
		missing := idx >= 0 && ks.current[idx] == nil && age >= m.reloadInterval
		switched := !ks.switchAt.IsZero() && !m.now().Before(ks.switchAt)
		if age < m.refreshInterval && !missing && !switched {
			return ks, nil
		}
	}
	fresh, err := m.load(ctx, poolID, false)
	if err != nil {
		if ks == nil {
			return nil, err
		}
		m.log.WarnContext(ctx, "keys: refresh failed, using cached keys", "pool", poolID, "err", err)
		return ks, nil
	}
	return fresh, nil
}

// JWKS returns the pool's JSON Web Key Set: the public half of every key
// of both uses, shaped like Cognito's
// {"keys":[{"alg":"RS256","e":"AQAB","kid":"…","kty":"RSA","n":"…","use":"sig"},…]}.
// It fails with ErrNoKey when the pool has no keys.
func (m *Manager) JWKS(ctx context.Context, poolID string) ([]byte, error) {
	ks, err := m.current(ctx, poolID, -1)
	if err != nil {
		return nil, err
	}
	if len(ks.byKID) == 0 {
		return nil, fmt.Errorf("%w: pool %s", ErrNoKey, poolID)
	}
	return append([]byte(nil), ks.jwks...), nil
}

// Verify checks the signature of an RS256 compact JWT against the pool's
// key named by its kid, which must be a key for wantUse, and returns the
// payload JSON. It checks no claims: exp, iss, token_use and the rest are
// the caller's. The returned slice is the caller's to keep or modify.
//
// Accepted tokens are cached until their exp claim (or until evicted by
// size), so verifying a token again is cheap. A token whose kid is
// unknown makes Verify read storage at most once per ReloadInterval for a
// pool with keys, but on every call for a pool without any: callers that
// take the pool ID from the unverified token should check that the pool
// exists first.
func (m *Manager) Verify(ctx context.Context, poolID, wantUse, token string) ([]byte, error) {
	idx, err := useIndex(wantUse)
	if err != nil {
		return nil, err
	}
	if token == "" {
		return nil, fmt.Errorf("%w: empty", ErrMalformed)
	}
	if len(token) > MaxTokenSize {
		return nil, fmt.Errorf("%w: %d bytes, more than %d", ErrMalformed, len(token), MaxTokenSize)
	}
	if m.cache != nil {
		v, found, expired := m.cache.Get(token, m.now().UnixNano())
		if found && !expired && v.key.use == idx && v.key.pool == poolID {
			return append([]byte(nil), v.payload...), nil
		}
	}
	t, err := parse(token)
	if err != nil {
		return nil, err
	}
	k, err := m.verificationKey(ctx, poolID, t.KID)
	if err != nil {
		return nil, err
	}
	if k.use != idx {
		return nil, fmt.Errorf("%w: kid %q signs %s tokens, not %s tokens", ErrUnknownKey, t.KID, useNames[k.use], wantUse)
	}
	m.rsaVerifies.Add(1)
	payload, err := k.verify(t)
	if err != nil {
		return nil, err
	}
	if m.cache != nil {
		now := m.now()
		if exp, ok := expiry(payload); ok && exp > now.Unix() {
			m.cache.Put(token, verified{k, payload}, tokencache.UnixNano(time.Unix(exp, 0)), now.UnixNano())
		}
		return append([]byte(nil), payload...), nil
	}
	return payload, nil
}

// verificationKey finds the pool's key named kid, reloading the pool's keys
// from storage at most once per ReloadInterval when it is unknown.
func (m *Manager) verificationKey(ctx context.Context, poolID, kid string) (*signingKey, error) {
	ks := m.cached(poolID)
	if ks != nil {
		if k := ks.byKID[kid]; k != nil {
			return k, nil
		}
		if m.now().Sub(ks.loadedAt) < m.reloadInterval {
			return nil, fmt.Errorf("%w: kid %q in pool %s", ErrUnknownKey, kid, poolID)
		}
	}
	ks, err := m.load(ctx, poolID, false)
	if err != nil {
		return nil, err
	}
	if k := ks.byKID[kid]; k != nil {
		return k, nil
	}
	return nil, fmt.Errorf("%w: kid %q in pool %s", ErrUnknownKey, kid, poolID)
}

// cached returns the pool's key set held in memory, or nil.
func (m *Manager) cached(poolID string) *keySet {
	if v, ok := m.sets.Load(poolID); ok {
		return v.(*keySet)
	}
	return nil
}

// loadTimeout bounds one storage reload, which runs detached from the
// context of the caller that started it so that its cancellation does not
// fail the other callers waiting for the same reload.
const loadTimeout = 30 * time.Second

// load reads the pool's keys from storage, de-duplicating concurrent loads
// of one pool. With fresh, the result reflects every write that finished
// before load was called (a load already under way is not enough). The
// result is never nil on success; it has no keys when the pool has none.
func (m *Manager) load(ctx context.Context, poolID string, fresh bool) (*keySet, error) {
	fn := func() (*keySet, error) {
		lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), loadTimeout)
		defer cancel()
		ks, err := m.fetch(lctx, poolID, m.cached(poolID))
		if err != nil {
			return nil, err
		}
		m.log.DebugContext(lctx, "keys: loaded pool keys", "pool", ks.poolID, "keys", len(ks.byKID))
		if len(ks.byKID) > 0 {
			m.sets.Store(ks.poolID, ks)
		} else {
			m.sets.Delete(poolID)
		}
		return ks, nil
	}
	ks, shared, err := m.loads.do(ctx, poolID, fn)
	if err == nil && fresh && shared {
		// The load we joined may have started before our caller's write;
		// any load started from now on has not.
		ks, _, err = m.loads.do(ctx, poolID, fn)
	}
	if err != nil {
		return nil, fmt.Errorf("keys: load keys of pool %s: %w", poolID, err)
	}
	return ks, nil
}

// stripedLock is a fixed set of mutexes chosen by hash of a pool ID: it
// serialises work per pool without a map that grows with pool IDs.
type stripedLock struct {
	seed maphash.Seed
	mu   [64]sync.Mutex
}

func (s *stripedLock) lock(key string) (unlock func()) {
	mu := &s.mu[maphash.String(s.seed, key)%uint64(len(s.mu))]
	mu.Lock()
	return mu.Unlock
}
