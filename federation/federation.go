// Package federation is the seam between a pool's sign-in through an
// external identity provider and the protocols that reach one: the hosted
// pages (oauth) run the flow — the state bound to the browser, the
// callback routes, the user it yields — and an Upstream speaks one
// provider's protocol (OIDC and the social presets in federation/oidc,
// SAML 2.0 in its own package).
//
// The package holds only types and the registry of protocols by provider
// type; it imports no HTTP package, so the domain (userpool) can use its
// Identity.
package federation

import (
	"context"
	"errors"
	"net/url"
	"sync"
	"time"
)

// Provider types, as Cognito names them (IdentityProviderType.ProviderType).
const (
	TypeOIDC            = "OIDC"
	TypeSAML            = "SAML"
	TypeGoogle          = "Google"
	TypeFacebook        = "Facebook"
	TypeLoginWithAmazon = "LoginWithAmazon"
	TypeSignInWithApple = "SignInWithApple"
)

// Sentinel errors of an Upstream, for errors.Is.
var (
	// ErrDenied means the provider answered with an error instead of a
	// sign-in (error=access_denied, a SAML status other than Success).
	ErrDenied = errors.New("federation: the identity provider refused the sign-in")
	// ErrInvalidResponse means the provider's answer failed a check: a
	// signature, audience, issuer, nonce, expiry, replay or its shape.
	ErrInvalidResponse = errors.New("federation: invalid response from the identity provider")
	// ErrUnavailable means the provider could not be reached (discovery,
	// token or attribute endpoints, metadata).
	ErrUnavailable = errors.New("federation: identity provider unavailable")
	// ErrConfig means the provider's configuration cannot work (a bad
	// issuer, metadata document or endpoint).
	ErrConfig = errors.New("federation: invalid identity provider configuration")
	// ErrUnknownType is returned for a provider type no Kind is
	// registered for.
	ErrUnknownType = errors.New("federation: unsupported provider type")
)

// Provider is an identity provider of a pool as it is configured
// (CreateIdentityProvider), with its secrets in clear.
type Provider struct {
	PoolID string
	// Name is the ProviderName; Type one of the Type constants.
	Name string
	Type string
	// Details are Cognito's ProviderDetails (client_id, oidc_issuer,
	// MetadataFile, …).
	Details map[string]string
	// AttributeMapping maps pool attributes to the provider's attribute
	// names; the pool applies it, not the Upstream.
	AttributeMapping map[string]string
	// UpdatedAt is when the configuration last changed: a registry
	// rebuilds an Upstream built from an older one.
	UpdatedAt time.Time
}

// Identity is who the provider says signed in.
type Identity struct {
	// Subject is the provider's stable id of the user (OIDC sub, SAML
	// NameID).
	Subject string
	// Issuer names the provider in the identities claim (OIDC iss, SAML
	// IdP entity id).
	Issuer string
	// Attributes are the provider's attributes by their own names (OIDC
	// claims, SAML attribute names), as strings.
	Attributes map[string]string
	// EmailVerified is the provider's word that the email attribute is
	// verified: only then may a sign-in be linked to an existing user by
	// email, or the email be marked verified.
	EmailVerified bool
}

// Request is what one sign-in gives an Upstream.
type Request struct {
	// State is the opaque value the provider must send back unchanged
	// (OIDC state, SAML RelayState): the callback finds the flow by it.
	State string
	// CallbackURL is where the provider sends the browser back:
	// …/oauth2/idpresponse or …/saml2/idpresponse.
	CallbackURL string
}

// Start is where an Upstream sends the browser.
type Start struct {
	// URL is the provider's authorization (or SSO) URL with its
	// parameters.
	URL string
	// Binding is the Upstream's own per-sign-in secret (an OIDC nonce
	// and PKCE verifier, a SAML request id): it travels sealed in the
	// browser's state cookie and comes back to Finish unchanged.
	Binding string
	// FormPost says the provider answers with a cross-site form POST
	// (SAML's POST binding), so the state cookie must be SameSite=None.
	FormPost bool
}

// Upstream is one configured provider's protocol.
type Upstream interface {
	// Begin starts a sign-in: the URL to send the browser to.
	Begin(ctx context.Context, req Request) (Start, error)
	// Finish checks the provider's answer — params are the callback's
	// query or form values — against the sign-in Begin started (binding
	// is its Start.Binding) and returns who signed in. Errors wrap
	// ErrDenied, ErrInvalidResponse or ErrUnavailable.
	Finish(ctx context.Context, req Request, binding string, params url.Values) (Identity, error)
}

// Kind is one protocol: how a provider of its types is checked and built.
type Kind interface {
	// Check validates and normalises a provider's details on create and
	// update (adding defaults, fetching discovery or metadata). Errors
	// wrap ErrConfig or ErrUnavailable, with a message fit for the API's
	// InvalidParameterException.
	Check(ctx context.Context, p Provider) (map[string]string, error)
	// New builds the Upstream of a provider.
	New(ctx context.Context, p Provider) (Upstream, error)
}

// Registry holds the Kinds by provider type and caches the Upstream
// built per provider until its configuration changes or it ages out, so
// discovery and metadata are not fetched on every sign-in.
type Registry struct {
	mu    sync.Mutex
	kinds map[string]Kind
	built map[string]built
	ttl   time.Duration
	now   func() time.Time
}

type built struct {
	up        Upstream
	updatedAt time.Time
	at        time.Time
}

// DefaultTTL is how long a built Upstream (with the discovery document or
// metadata it fetched) is reused.
const DefaultTTL = 10 * time.Minute

// NewRegistry returns an empty registry whose Upstreams live ttl (zero:
// DefaultTTL).
func NewRegistry(ttl time.Duration) *Registry {
	if ttl <= 0 {
		ttl = DefaultTTL
	}
	return &Registry{kinds: map[string]Kind{}, built: map[string]built{}, ttl: ttl, now: time.Now}
}

// Register makes k the protocol of the given provider types.
func (r *Registry) Register(k Kind, types ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, t := range types {
		r.kinds[t] = k
	}
}

// Supports reports whether a provider type has a registered Kind.
func (r *Registry) Supports(providerType string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.kinds[providerType]
	return ok
}

// KindOf is the protocol of a provider type, for what a protocol offers
// beyond Kind (SAML's signing certificate).
func (r *Registry) KindOf(providerType string) (Kind, error) { return r.kind(providerType) }

func (r *Registry) kind(providerType string) (Kind, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	k, ok := r.kinds[providerType]
	if !ok {
		return nil, ErrUnknownType
	}
	return k, nil
}

// Check validates a provider's details through its Kind.
func (r *Registry) Check(ctx context.Context, p Provider) (map[string]string, error) {
	k, err := r.kind(p.Type)
	if err != nil {
		return nil, err
	}
	return k.Check(ctx, p)
}

// Upstream returns the provider's Upstream, built once per configuration
// and reused for the registry's TTL.
func (r *Registry) Upstream(ctx context.Context, p Provider) (Upstream, error) {
	key := p.PoolID + "\x00" + p.Name
	now := r.now()
	r.mu.Lock()
	b, ok := r.built[key]
	r.mu.Unlock()
	if ok && b.updatedAt.Equal(p.UpdatedAt) && now.Sub(b.at) < r.ttl {
		return b.up, nil
	}
	k, err := r.kind(p.Type)
	if err != nil {
		return nil, err
	}
	up, err := k.New(ctx, p)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	r.built[key] = built{up: up, updatedAt: p.UpdatedAt, at: now}
	r.mu.Unlock()
	return up, nil
}
