package saml

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/url"
	"time"

	crewsaml "github.com/crewjam/saml"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/cognate-auth/cognate/federation"
)

// Upstream is one SAML provider of a pool: the federation seam's Upstream.
type Upstream struct {
	svc     *Service
	p       federation.Provider
	d       details
	md      *crewsaml.EntityDescriptor
	signing *keyPair
	enc     *keyPair
}

var _ federation.Upstream = (*Upstream)(nil)
var _ federation.Kind = (*Service)(nil)

// New builds the Upstream of a SAML provider (federation.Kind): its
// details read, its IdP's metadata fetched or parsed, the pool's keys
// loaded (made on first use).
func (s *Service) New(ctx context.Context, p federation.Provider) (federation.Upstream, error) {
	return s.upstream(ctx, p)
}

func (s *Service) upstream(ctx context.Context, p federation.Provider) (*Upstream, error) {
	d, err := parseDetails(p.Details)
	if err != nil {
		return nil, err
	}
	md, err := s.idpMetadata(ctx, d)
	if err != nil {
		return nil, err
	}
	signing, err := s.signingKey(ctx, p.PoolID)
	if err != nil {
		return nil, err
	}
	enc, err := s.encryptionKey(ctx, p.PoolID, p.Name)
	if err != nil {
		return nil, err
	}
	return &Upstream{svc: s, p: p, d: d, md: md, signing: signing, enc: enc}, nil
}

// serviceProvider is the crewjam ServiceProvider of the provider for one
// request: acs is the callback (empty: the Service's), and its replay
// cache claims assertion ids through the store with the request's
// context.
func (u *Upstream) serviceProvider(ctx context.Context, acs string) (*crewsaml.ServiceProvider, error) {
	s := u.svc
	acsURL := s.endpoint(ACSPath)
	if acs != "" {
		parsed, err := url.Parse(acs)
		if err != nil || !parsed.IsAbs() {
			return nil, fmt.Errorf("saml: callback URL %q is not absolute", acs)
		}
		acsURL = *parsed
	}
	slo := acsURL
	slo.Path, slo.RawQuery = LogoutPath, ""
	sp := &crewsaml.ServiceProvider{
		EntityID:              EntityID(u.p.PoolID),
		Key:                   u.signing.key,
		Certificate:           u.signing.cert,
		EncryptionKey:         u.enc.key,
		EncryptionCertificate: u.enc.cert,
		MetadataURL:           s.metadataURL(u.p),
		AcsURL:                acsURL,
		SloURL:                slo,
		IDPMetadata:           u.md,
		AuthnNameIDFormat:     crewsaml.UnspecifiedNameIDFormat,
		// Cognito signs its LogoutRequests whatever RequestSigningAlgorithm
		// says; the single logout profile requires it.
		LogoutSignatureMethod:            dsig.RSASHA256SignatureMethod,
		LogoutBindings:                   []string{crewsaml.HTTPPostBinding},
		AssertionConsumerServiceBindings: []string{crewsaml.HTTPPostBinding},
		AllowIDPInitiated:                u.d.idpInit,
		ReplayCache:                      replayCache{ctx: ctx, store: s.store, scope: u.p.PoolID + "\x00" + u.p.Name, now: s.now},
		Clock:                            dsig.NewFakeClockAt(s.now()),
	}
	if u.d.signRequests {
		sp.SignatureMethod = dsig.RSASHA256SignatureMethod
	}
	return sp, nil
}

// metadataURL is where the service provider's metadata of p is served.
func (s *Service) metadataURL(p federation.Provider) url.URL {
	u := s.endpoint(MetadataPath)
	u.RawQuery = url.Values{"user_pool_id": {p.PoolID}, "provider_name": {p.Name}}.Encode()
	return u
}

// replayCache is crewjam/saml's AssertionReplayCache on the store's
// one-time claims: an assertion id is accepted once per provider, across
// every node sharing the store.
type replayCache struct {
	ctx   context.Context
	store Store
	scope string
	now   func() time.Time
}

func (c replayCache) Consume(id string, expiresAt time.Time) error {
	// The claim outlasts every moment the assertion could still be
	// accepted: its expiry plus the clock skew allowed.
	until := expiresAt.Add(crewsaml.MaxClockSkew)
	if floor := c.now().Add(time.Hour); until.Before(floor) {
		until = floor
	}
	ok, err := c.store.ClaimOnce(c.ctx, claimKey("saml-assertion", c.scope, id), until)
	if err != nil {
		return fmt.Errorf("claim assertion id: %w", err)
	}
	if !ok {
		return crewsaml.ErrAssertionReplayed
	}
	return nil
}

// claimKey is the one-time-claim key of a value of a kind, in a scope.
func claimKey(kind, scope, value string) []byte {
	sum := sha256.Sum256([]byte(kind + "\x00" + scope + "\x00" + value))
	return sum[:]
}

// classify maps a crewjam/saml refusal to this package's sentinel, kept
// next to crewjam's own error.
func classify(err error) error {
	var status crewsaml.ErrBadStatus
	var statusPtr *crewsaml.ErrBadStatus
	switch {
	case errors.Is(err, crewsaml.ErrAssertionReplayed):
		return fmt.Errorf("%w: %w", ErrReplayed, err)
	case errors.Is(err, crewsaml.ErrInvalidSignature):
		return fmt.Errorf("%w: %w", ErrSignature, err)
	case errors.Is(err, crewsaml.ErrAudienceMismatch):
		return fmt.Errorf("%w: %w", ErrAudience, err)
	case errors.Is(err, crewsaml.ErrExpired), errors.Is(err, crewsaml.ErrNotYetValid):
		return fmt.Errorf("%w: %w", ErrExpired, err)
	case errors.Is(err, crewsaml.ErrRequestIDMismatch):
		return fmt.Errorf("%w: %w", ErrInResponseTo, err)
	case errors.Is(err, crewsaml.ErrDestinationMismatch):
		return fmt.Errorf("%w: %w", ErrDestination, err)
	case errors.As(err, &status), errors.As(err, &statusPtr):
		return fmt.Errorf("%w: %w", ErrIdPStatus, err)
	}
	return fmt.Errorf("%w: %w", ErrMalformed, err)
}
