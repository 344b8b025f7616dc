// Package saml is the SAML 2.0 protocol of federation: a pool as a SAML
// service provider, the way Amazon Cognito is one. From a provider's
// details as Cognito stores them it builds a crewjam/saml ServiceProvider
// (entity id urn:amazon:cognito:sp:<poolId>, assertion consumer service
// <base>/saml2/idpresponse), starts sign-ins with an AuthnRequest by the
// HTTP-Redirect binding, checks the response an IdP posts back and returns
// the identity it asserts, and starts SAML sign-out.
//
// Every XML signature and encryption check is crewjam/saml's; this
// package decides the policy (what must be signed, encrypted, solicited,
// fresh and used once) and refuses outright the shapes attacks rely on.
// The hosted flow (oauth) binds each exchange to the browser through the
// federation seam's Request.State, which is the SAML RelayState.
package saml

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/cognate-auth/cognate/federation"
	"github.com/cognate-auth/cognate/storage"
)

// Cognito's paths, on the host of the pool's managed login pages.
const (
	// ACSPath receives the IdP's responses (HTTP-POST binding).
	ACSPath = "/saml2/idpresponse"
	// LogoutPath receives the IdP's LogoutResponse (HTTP-POST binding).
	LogoutPath = "/saml2/logout"
	// MetadataPath serves the service provider's metadata (a Cognate
	// addition: Cognito gives its certificates through the API only).
	MetadataPath = "/saml2/metadata"
)

// EntityID is the service provider's entity id (the audience the IdP
// must address) for a pool, as Cognito names it.
func EntityID(poolID string) string { return "urn:amazon:cognito:sp:" + poolID }

// refused is a sentinel of this package that also matches the seam's.
func refused(seam error, text string) error { return fmt.Errorf("%w: %s", seam, text) }

// Errors a callback page tells apart. Each refusal wraps one of them,
// which wraps the federation seam's (ErrInvalidResponse, ErrDenied,
// ErrUnavailable, ErrConfig), and crewjam/saml's own error where there is
// one.
var (
	// ErrUnsolicited: a response nobody asked for (IdP-initiated) to a
	// provider that does not allow it (IDPInit is not true).
	ErrUnsolicited = refused(federation.ErrInvalidResponse, "saml: IdP-initiated sign-in is not enabled for this provider")
	// ErrReplayed: the response's assertion, or its request, was used
	// already.
	ErrReplayed = refused(federation.ErrInvalidResponse, "saml: response already used")
	// ErrSignature: neither the response nor the assertion carries a valid
	// signature by a key in the IdP's metadata.
	ErrSignature = refused(federation.ErrInvalidResponse, "saml: signature missing or invalid")
	// ErrAudience: the assertion is addressed to another service provider.
	ErrAudience = refused(federation.ErrInvalidResponse, "saml: assertion is for another audience")
	// ErrExpired: the assertion is outside its validity window.
	ErrExpired = refused(federation.ErrInvalidResponse, "saml: assertion expired or not yet valid")
	// ErrInResponseTo: the response answers another request than the one
	// this sign-in sent.
	ErrInResponseTo = refused(federation.ErrInvalidResponse, "saml: response does not answer this sign-in's request")
	// ErrDestination: the response was sent to another endpoint.
	ErrDestination = refused(federation.ErrInvalidResponse, "saml: response destination or recipient is not this endpoint")
	// ErrNotEncrypted: the provider requires encrypted assertions and the
	// assertion came in the clear.
	ErrNotEncrypted = refused(federation.ErrInvalidResponse, "saml: assertion is not encrypted")
	// ErrMalformed: the response cannot be read, or carries constructs
	// refused outright (XML comments, a DOCTYPE, several assertions).
	ErrMalformed = refused(federation.ErrInvalidResponse, "saml: malformed response")
	// ErrIdPStatus: the IdP answered with an error status (the user
	// cancelled, or could not be signed in).
	ErrIdPStatus = refused(federation.ErrDenied, "saml: identity provider reported an error")
	// ErrMetadata: the IdP's metadata is not a usable IdP's (unreadable,
	// too big, no HTTP-Redirect SSO or signing certificate), or its URL is
	// not one the server fetches.
	ErrMetadata = refused(federation.ErrConfig, "saml: invalid identity provider metadata")
	// ErrMetadataUnavailable: the metadata URL could not be fetched (no
	// answer in time, an error status, a refused redirect).
	ErrMetadataUnavailable = refused(federation.ErrUnavailable, "saml: identity provider metadata unavailable")
	// ErrInvalidDetails: the ProviderDetails are not a valid SAML provider.
	ErrInvalidDetails = refused(federation.ErrConfig, "saml: invalid provider details")
	// ErrNoSignOut: the provider has no SAML sign-out (IDPSignout is not
	// true, or its metadata has no SingleLogoutService).
	ErrNoSignOut = errors.New("saml: sign-out not configured for this provider")
)

// Store is what the package keeps: the service provider's key pairs among
// the server's secrets, and one-time claims of assertion and request ids.
type Store interface {
	storage.Secrets
	storage.OneTimeClaims
}

// Options configure a Service.
type Options struct {
	Store Store
	// BaseURL is the public URL of the managed login pages (scheme and
	// host): the ACS is BaseURL + ACSPath unless a Request names another
	// callback.
	BaseURL string
	// HTTPClient fetches metadata by URL; nil means a client of its own.
	// Its Timeout, when zero, becomes MetadataTimeout.
	HTTPClient *http.Client
	// Production refuses http metadata URLs even on loopback.
	Production bool
	Logger     *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Service is the SAML protocol for every pool: the federation Kind of
// provider type SAML. It keeps the service provider's keys and the IdPs'
// metadata.
type Service struct {
	store      Store
	base       *url.URL
	client     *http.Client
	production bool
	log        *slog.Logger
	now        func() time.Time

	keyMu sync.Mutex
	keys  map[string]*keyPair

	mdMu     sync.Mutex
	metadata map[string]*cachedMetadata
}

// New returns a Service.
func New(opts Options) (*Service, error) {
	if opts.Store == nil {
		return nil, errors.New("saml: Store is required")
	}
	base, err := url.Parse(strings.TrimRight(opts.BaseURL, "/"))
	if err != nil || base.Scheme == "" || base.Host == "" {
		return nil, errors.New("saml: BaseURL must be an absolute URL")
	}
	s := &Service{
		store: opts.Store, base: base, production: opts.Production, log: opts.Logger, now: opts.Now,
		keys: map[string]*keyPair{}, metadata: map[string]*cachedMetadata{},
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.client = metadataClient(opts.HTTPClient, s.production)
	return s, nil
}

func (s *Service) endpoint(path string) url.URL {
	u := *s.base
	u.Path = strings.TrimRight(u.Path, "/") + path
	return u
}
