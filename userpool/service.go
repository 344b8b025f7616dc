// Package userpool is Cognate's identity domain: pools, app clients,
// users, groups, codes, passwords (as SRP verifiers) and the tokens a
// sign-in yields. It implements Cognito's user-pool operations on the
// shapes of Cognito's data model and knows nothing of HTTP: transports
// (cognitoapi for the JSON 1.1 protocol, oauth for the hosted UI) call it.
package userpool

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/cognate-auth/cognate/federation"
	"github.com/cognate-auth/cognate/keys"
	"github.com/cognate-auth/cognate/storage"
)

// Options configure a Service. The zero value of every field but Storage
// and Keys is usable.
type Options struct {
	Storage storage.Storage
	Keys    *keys.Manager
	// Sender delivers codes, from a queue RunDelivery drains; nil keeps
	// them in the development outbox instead.
	Sender Sender
	// SMSSender delivers text messages (SMS MFA codes) when Sender is
	// set; with no Sender they go to the development outbox too.
	SMSSender SMSSender
	Logger    *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// IssuerBase is the public URL tokens are issued under; the issuer of
	// a pool is IssuerBase + "/" + poolID.
	IssuerBase string
	// Lockout is the password-guessing policy; zero means Cognito's.
	Lockout LockoutPolicy
	// Region prefixes generated pool ids; empty means us-east-1.
	Region string
	// PasskeyLocalHTTP accepts passkey ceremonies from http://localhost
	// pages (any port) in pools whose relying party id is localhost: a
	// development convenience, off in production.
	PasskeyLocalHTTP bool
	// TokenLifetime, when positive, is the life of every access and id
	// token issued, whatever the app client says: a development aid for
	// exercising expiry, refresh and reconnect in real clients.
	TokenLifetime time.Duration
	// Federation checks the details of the identity providers created
	// (discovery, metadata) by their protocol; nil checks only their
	// shape.
	Federation *federation.Registry
	// Invoker calls the pools' trigger webhooks; nil refuses to configure
	// triggers.
	Invoker Invoker
}

// Service runs user-pool operations.
type Service struct {
	store      storage.Storage
	keys       *keys.Manager
	sender     Sender
	sms        SMSSender
	log        *slog.Logger
	now        func() time.Time
	issuerBase string
	lockout    LockoutPolicy
	region     string
	tokenLife  time.Duration
	federation *federation.Registry
	sealer     *sealer
	codeKey    []byte
	fakeKey    []byte
	invoker    Invoker
	hookKeys   webhookKeys
	// deviceKey derives device group keys (devices.go).
	deviceKey []byte

	// passkeyLocalHTTP is Options.PasskeyLocalHTTP.
	passkeyLocalHTTP bool

	poolCache   *ttlCache[string, storage.Pool]
	clientCache *ttlCache[string, storage.Client]
	familyCache *ttlCache[string, struct{}]
	userCache   *ttlCache[string, storage.User]
	tokenCache  verifiedTokens

	// passkeys, when set, offers WEB_AUTHN in choice-based sign-in.
	passkeys passkeyFactor

	// wake tells RunDelivery that messages were queued.
	wake chan struct{}
	// importKey signs import upload URLs; importWake tells RunImports
	// that a job was started.
	importKey  []byte
	importWake chan struct{}
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
		sms:        opts.SMSSender,
		log:        opts.Logger,
		now:        opts.Now,
		issuerBase: strings.TrimRight(opts.IssuerBase, "/"),
		lockout:    opts.Lockout.withDefaults(),
		wake:       make(chan struct{}, 1),
		importWake: make(chan struct{}, 1),
		region:     opts.Region,
		tokenLife:  opts.TokenLifetime,
		federation: opts.Federation,
		invoker:    opts.Invoker,

		passkeyLocalHTTP: opts.PasskeyLocalHTTP,

		poolCache:   newTTLCache[string, storage.Pool](configCacheTTL),
		clientCache: newTTLCache[string, storage.Client](configCacheTTL),
		familyCache: newTTLCache[string, struct{}](familyCacheTTL),
		userCache:   newTTLCache[string, storage.User](userCacheTTL),
		tokenCache:  newVerifiedTokens(),
	}
	if s.region == "" {
		s.region = "us-east-1"
	}
	s.passkeys = passkeySignIn{s}
	s.store = cachingStore{Storage: opts.Storage, users: s.userCache}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	gen := func() ([]byte, error) {
		b := make([]byte, 32)
		_, err := io.ReadFull(rand.Reader, b)
		return b, err
	}
	for name, dst := range map[string]*[]byte{"session-seal": nil, "code-hash": &s.codeKey, "fake-user": &s.fakeKey, "device-group": &s.deviceKey} {
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
	// Upload URLs are signed with a key of their own, derived from the
	// code key so that no further secret needs storing.
	m := hmac.New(sha256.New, s.codeKey)
	m.Write([]byte("cognate import upload URLs"))
	s.importKey = m.Sum(nil)
	return s, nil
}

// Issuer returns the token issuer of a pool.
func (s *Service) Issuer(poolID string) string { return s.issuerBase + "/" + poolID }

// Keys returns the signing-key manager (for JWKS).
func (s *Service) Keys() *keys.Manager { return s.keys }

// Secret returns a random 32-byte secret of the OAuth layer, created on
// first use and stored, so that every node behind a load balancer (and a
// restarted one) keys its HMACs the same way.
func (s *Service) Secret(ctx context.Context, name string) ([]byte, error) {
	return s.store.GetOrCreateSecret(ctx, "oauth/"+name, func() ([]byte, error) {
		b := make([]byte, 32)
		_, err := io.ReadFull(rand.Reader, b)
		return b, err
	})
}

// pool loads a pool, mapping a miss to ResourceNotFoundException.
func (s *Service) pool(ctx context.Context, id string) (storage.Pool, error) {
	if id == "" {
		return storage.Pool{}, invalidParam("1 validation error detected: Value at 'userPoolId' failed to satisfy constraint: Member must not be null")
	}
	if p, ok := s.poolCache.get(id, s.now()); ok {
		return p, nil
	}
	p, err := s.store.GetPool(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		return p, errorf(ErrResourceNotFound, "User pool %s does not exist.", id)
	}
	if err != nil {
		return p, internal("get pool", err)
	}
	s.poolCache.put(id, p, s.now(), time.Time{})
	return p, nil
}

// client loads an app client and its pool.
func (s *Service) client(ctx context.Context, clientID string) (storage.Client, storage.Pool, error) {
	if clientID == "" {
		return storage.Client{}, storage.Pool{}, invalidParam("1 validation error detected: Value at 'clientId' failed to satisfy constraint: Member must not be null")
	}
	c, ok := s.clientCache.get(clientID, s.now())
	if !ok {
		var err error
		c, err = s.store.GetClient(ctx, clientID)
		if errors.Is(err, storage.ErrNotFound) {
			return c, storage.Pool{}, errorf(ErrResourceNotFound, "User pool client %s does not exist.", clientID)
		}
		if err != nil {
			return c, storage.Pool{}, internal("get client", err)
		}
		s.clientCache.put(clientID, c, s.now(), time.Time{})
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
	// In email pools usernames are UUIDs (the sub), so a name with "@" is
	// an email and nothing else: one lookup, found or not, which also
	// keeps a miss as cheap as a hit.
	var u storage.User
	var err error
	if signsInByEmail(p) && strings.Contains(name, "@") {
		u, err = s.store.GetUserByEmail(ctx, p.ID, strings.ToLower(name))
	} else {
		u, err = s.store.GetUser(ctx, p.ID, name)
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
