// Package userpool is Cognate's identity domain: pools, app clients,
// users, groups, codes, passwords (as SRP verifiers) and the tokens a
// sign-in yields. It implements Cognito's user-pool operations on the
// shapes of Cognito's data model and knows nothing of HTTP: transports
// (cognitoapi for the JSON 1.1 protocol, oauth for the hosted UI) call it.
package userpool

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/cognate-auth/cognate/keys"
	"github.com/cognate-auth/cognate/storage"
)

// Options configure a Service. The zero value of every field but Storage
// and Keys is usable.
type Options struct {
	Storage storage.Storage
	Keys    *keys.Manager
	// Sender delivers codes; nil keeps them in the development outbox.
	Sender Sender
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// IssuerBase is the public URL tokens are issued under; the issuer of
	// a pool is IssuerBase + "/" + poolID.
	IssuerBase string
	// Lockout is the password-guessing policy; zero means Cognito's.
	Lockout LockoutPolicy
	// Region prefixes generated pool ids; empty means us-east-1.
	Region string
}

// LockoutPolicy throttles password guessing per user: the FreeAttempts-th
// consecutive failure locks the user out for BaseDelay, and each further
// one for double the last, up to MaxDelay. Cognito's: 2^(n-5) seconds
// after n failures, so the fifth locks for one second.
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

// Service runs user-pool operations.
type Service struct {
	store      storage.Storage
	keys       *keys.Manager
	sender     Sender
	log        *slog.Logger
	now        func() time.Time
	issuerBase string
	lockout    LockoutPolicy
	region     string
	sealer     *sealer
	codeKey    []byte
	fakeKey    []byte

	// usedBlocks remembers SRP secret blocks already answered, so that a
	// captured PASSWORD_VERIFIER response cannot be replayed while the
	// block is still fresh.
	usedMu     sync.Mutex
	usedBlocks map[string]time.Time
	nextSweep  time.Time
}

// New returns a Service. It loads (or creates, on first use) the server
// secrets that seal sign-in sessions and key code hashes.
func New(ctx context.Context, opts Options) (*Service, error) {
	if opts.Storage == nil || opts.Keys == nil {
		return nil, errors.New("userpool: Storage and Keys are required")
	}
	s := &Service{
		store:      opts.Storage,
		keys:       opts.Keys,
		sender:     opts.Sender,
		log:        opts.Logger,
		now:        opts.Now,
		issuerBase: strings.TrimRight(opts.IssuerBase, "/"),
		lockout:    opts.Lockout.withDefaults(),
		usedBlocks: make(map[string]time.Time),
		region:     opts.Region,
	}
	if s.region == "" {
		s.region = "us-east-1"
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.sender == nil {
		s.sender = OutboxSender{Store: opts.Storage}
	}
	gen := func() ([]byte, error) {
		b := make([]byte, 32)
		_, err := io.ReadFull(rand.Reader, b)
		return b, err
	}
	for name, dst := range map[string]*[]byte{"session-seal": nil, "code-hash": &s.codeKey, "fake-user": &s.fakeKey} {
		key, err := s.store.GetOrCreateSecret(ctx, "userpool/"+name, gen)
		if err != nil {
			return nil, fmt.Errorf("userpool: load secret %s: %w", name, err)
		}
		if dst == nil {
			if s.sealer, err = newSealer(key); err != nil {
				return nil, fmt.Errorf("userpool: %w", err)
			}
			continue
		}
		*dst = key
	}
	return s, nil
}

// Issuer returns the token issuer of a pool.
func (s *Service) Issuer(poolID string) string { return s.issuerBase + "/" + poolID }

// Keys returns the signing-key manager (for JWKS).
func (s *Service) Keys() *keys.Manager { return s.keys }

// pool loads a pool, mapping a miss to ResourceNotFoundException.
func (s *Service) pool(ctx context.Context, id string) (storage.Pool, error) {
	if id == "" {
		return storage.Pool{}, invalidParam("1 validation error detected: Value at 'userPoolId' failed to satisfy constraint: Member must not be null")
	}
	p, err := s.store.GetPool(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		return p, errorf(ErrResourceNotFound, "User pool %s does not exist.", id)
	}
	if err != nil {
		return p, internal("get pool", err)
	}
	return p, nil
}

// client loads an app client and its pool.
func (s *Service) client(ctx context.Context, clientID string) (storage.Client, storage.Pool, error) {
	if clientID == "" {
		return storage.Client{}, storage.Pool{}, invalidParam("1 validation error detected: Value at 'clientId' failed to satisfy constraint: Member must not be null")
	}
	c, err := s.store.GetClient(ctx, clientID)
	if errors.Is(err, storage.ErrNotFound) {
		return c, storage.Pool{}, errorf(ErrResourceNotFound, "User pool client %s does not exist.", clientID)
	}
	if err != nil {
		return c, storage.Pool{}, internal("get client", err)
	}
	p, err := s.pool(ctx, c.PoolID)
	return c, p, err
}

// publicClient loads a client for an unsigned operation and checks the
// SECRET_HASH a confidential client must send.
func (s *Service) publicClient(ctx context.Context, clientID, username, secretHash string) (storage.Client, storage.Pool, error) {
	c, p, err := s.client(ctx, clientID)
	if err != nil {
		return c, p, err
	}
	if err := checkSecretHash(c, username, secretHash); err != nil {
		return c, p, err
	}
	return c, p, nil
}

// findUser resolves what a caller calls a username: the username itself,
// or the email when the pool signs in by email.
func (s *Service) findUser(ctx context.Context, p storage.Pool, name string) (storage.User, error) {
	if name == "" {
		return storage.User{}, invalidParam("1 validation error detected: Value at 'username' failed to satisfy constraint: Member must not be null")
	}
	u, err := s.store.GetUser(ctx, p.ID, name)
	if errors.Is(err, storage.ErrNotFound) && signsInByEmail(p) && strings.Contains(name, "@") {
		u, err = s.store.GetUserByEmail(ctx, p.ID, strings.ToLower(name))
	}
	if errors.Is(err, storage.ErrNotFound) {
		return u, ErrUserNotFound
	}
	if err != nil {
		return u, internal("get user", err)
	}
	return u, nil
}

func signsInByEmail(p storage.Pool) bool {
	for _, a := range p.Settings.UsernameAttributes {
		if a == "email" {
			return true
		}
	}
	return false
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
