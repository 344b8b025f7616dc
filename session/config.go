package session

import (
	"crypto/cipher"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/cognate-auth/cognate/internal/csrf"
	"github.com/cognate-auth/cognate/issuerclient"
	"github.com/cognate-auth/cognate/tokenverify"
)

// Mode says who writes the token cookies.
type Mode int

const (
	// ModeServer is server-side auth: the route handlers sign users in and
	// every token cookie is HttpOnly (the default).
	ModeServer Mode = iota
	// ModeClient is for pages running aws-amplify with ssr: true: the
	// browser writes the cookies and the server reads, refreshes and
	// rewrites them in Amplify's own format (never HttpOnly).
	ModeClient
)

// Defaults for Config and CookiePolicy.
const (
	DefaultMountPath     = "/api/auth/"
	DefaultMaxAge        = 365 * 24 * time.Hour // Amplify's
	DefaultRefreshBefore = 5 * time.Second      // Amplify's isTokenExpired tolerance
)

// Config configures a Manager. Origin, ClientID and either UserPoolID or
// Issuer are required; every other zero value is a working default.
type Config struct {
	// Region, UserPoolID, ClientID and ClientSecret name the issuer and
	// the app client. With UserPoolID empty the Manager runs in pure OIDC
	// mode: refresh uses the OAuth token endpoint, Issuer is required and
	// password sign-in is unavailable.
	Region, UserPoolID, ClientID, ClientSecret string
	// Endpoint is the Cognito JSON API base URL; "" means the AWS regional
	// endpoint derived from Region or UserPoolID.
	Endpoint string
	// Issuer is the exact `iss` of the tokens; "" means Endpoint + "/" +
	// UserPoolID (right for Amazon Cognito and for Cognate).
	Issuer string
	// JWKSURL is where the signing keys are; "" means Issuer +
	// "/.well-known/jwks.json".
	JWKSURL string
	// OAuthDomain is the base URL of /oauth2/authorize, /oauth2/token,
	// /oauth2/revoke and /logout. The browser is sent there by the hosted
	// sign-in routes, which answer 404 when it is "".
	OAuthDomain string
	// Scopes are requested on hosted sign-in; nil means openid email
	// profile. FetchUserAttributes on hosted sign-ins needs
	// aws.cognito.signin.user.admin too.
	Scopes []string

	// Origin is the app's own origin, e.g. "http://localhost:3000": the
	// base of the callback URLs, the reference of every same-origin check
	// and, unless CookiePolicy.Secure says otherwise, of the Secure flag.
	Origin string
	// Mode selects server-side (HttpOnly, default) or client-side auth.
	Mode Mode
	// MountPath is where Handler is mounted; default "/api/auth/".
	MountPath string
	// AfterSignIn and AfterSignOut are same-origin paths to land on;
	// default "/".
	AfterSignIn, AfterSignOut string
	// ChallengePath is the app page that renders a pending password
	// sign-in challenge (NEW_PASSWORD_REQUIRED, MFA codes) from
	// PendingChallenge and posts it to <mount>challenge; "" means the
	// built-in page at <mount>challenge.
	ChallengePath string
	// AppName labels the authenticator-app (TOTP) setups of MFA_SETUP
	// steps, as Amplify's getSetupUri(appName) does; "" means Origin's
	// host.
	AppName string
	// SecretKey seals the pending-challenge cookie (AES-256-GCM under
	// SHA-256(SecretKey)) and keys the CSRF tokens of the password and
	// challenge forms (HMAC under another hash of it). Nil means random
	// keys per process, which is fine on one node; nodes behind one load
	// balancer need the same key.
	SecretKey []byte
	// Cookies is the one policy every token cookie is written and deleted
	// with.
	Cookies CookiePolicy
	// ClockSkew is the tolerance on exp, nbf and iat when verifying
	// tokens: 0 means 60 s, negative means none.
	ClockSkew time.Duration
	// RefreshBefore is how long before its expiry a token is refreshed;
	// 0 means 5 s (Amplify's), negative means only once expired.
	RefreshBefore time.Duration
	// HTTPClient makes every issuer and JWKS call; nil means a client
	// with a 10 s timeout. Embedded use passes InProcess(handler).
	HTTPClient *http.Client
	// Logger receives warnings (issuer outages, rejected cookies); nil
	// discards.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Manager is a configured session layer. It is safe for concurrent use;
// create one per app client and keep it for the life of the process.
type Manager struct {
	cfg      Config
	log      *slog.Logger
	now      func() time.Time
	iss      *issuerclient.Client
	access   *tokenverify.Verifier
	id       *tokenverify.Verifier
	pol      policy
	prefix   string // CognitoIdentityServiceProvider.<clientId>.
	origin   string // scheme://host[:port]
	mount    string
	oidc     bool
	auxName  string // "__Host-" on secure origins, else ""
	aead     cipher.AEAD
	csrf     *csrf.Protector
	before   time.Duration
	flights  flights
	sessions sessionCache
	headers  headerCache
}

// New checks cfg, fills in its defaults and returns a Manager. It makes
// no network call.
func New(cfg Config) (*Manager, error) {
	if err := normalize(&cfg); err != nil {
		return nil, err
	}
	m := &Manager{cfg: cfg, log: cfg.Logger, now: cfg.Now, mount: cfg.MountPath, oidc: cfg.UserPoolID == ""}
	m.origin = cfg.Origin
	m.prefix = "CognitoIdentityServiceProvider." + cfg.ClientID + "."
	iss, err := issuerclient.New(issuerclient.Config{
		Region: cfg.Region, UserPoolID: cfg.UserPoolID, ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret,
		Endpoint: cfg.Endpoint, OAuthDomain: cfg.OAuthDomain, HTTPClient: cfg.HTTPClient, Logger: cfg.Logger,
	})
	if err != nil {
		return nil, fmt.Errorf("session: %w", err)
	}
	m.iss = iss
	if m.cfg.Issuer == "" {
		if m.oidc {
			return nil, errors.New("session: Issuer is required without UserPoolID")
		}
		m.cfg.Issuer = iss.IssuerURL()
	}
	if err := m.verifiers(); err != nil {
		return nil, err
	}
	if m.pol, err = resolvePolicy(cfg); err != nil {
		return nil, err
	}
	if m.pol.secure {
		m.auxName = "__Host-"
	}
	if m.aead, err = newAEAD(cfg.SecretKey); err != nil {
		return nil, err
	}
	m.csrf = m.newCSRF(cfg.SecretKey)
	m.before = cfg.RefreshBefore
	switch {
	case m.before == 0:
		m.before = DefaultRefreshBefore
	case m.before < 0:
		m.before = 0
	}
	m.flights.init()
	return m, nil
}

func (m *Manager) verifiers() error {
	// OIDC access tokens often carry no client_id (their aud is an API), so
	// only Cognito access tokens are bound to the client.
	accessClients, use := []string{m.cfg.ClientID}, "access"
	idUse := "id"
	if m.oidc {
		accessClients, use, idUse = nil, "", ""
	}
	base := tokenverify.Config{
		Issuer: m.cfg.Issuer, JWKSURL: m.cfg.JWKSURL, ClockSkew: m.cfg.ClockSkew,
		HTTPClient: m.cfg.HTTPClient, Now: m.cfg.Now, Logger: m.cfg.Logger,
	}
	ac := base
	ac.ClientIDs, ac.TokenUse = accessClients, use
	idc := base
	idc.ClientIDs, idc.TokenUse = []string{m.cfg.ClientID}, idUse
	var err error
	if m.access, err = tokenverify.New(ac); err != nil {
		return fmt.Errorf("session: %w", err)
	}
	if m.id, err = tokenverify.New(idc); err != nil {
		return fmt.Errorf("session: %w", err)
	}
	return nil
}

func normalize(cfg *Config) error {
	if cfg.ClientID == "" {
		return errors.New("session: ClientID is required")
	}
	if !validClientID(cfg.ClientID) {
		return fmt.Errorf("session: ClientID %q has characters a cookie name cannot carry", cfg.ClientID)
	}
	o, err := url.Parse(cfg.Origin)
	if err != nil || (o.Scheme != "http" && o.Scheme != "https") || o.Host == "" ||
		(o.Path != "" && o.Path != "/") || o.RawQuery != "" || o.Fragment != "" || o.User != nil {
		return fmt.Errorf("session: Origin %q must be scheme://host[:port]", cfg.Origin)
	}
	cfg.Origin = strings.ToLower(o.Scheme) + "://" + strings.ToLower(o.Host)
	if cfg.MountPath == "" {
		cfg.MountPath = DefaultMountPath
	}
	if !strings.HasPrefix(cfg.MountPath, "/") {
		cfg.MountPath = "/" + cfg.MountPath
	}
	if !strings.HasSuffix(cfg.MountPath, "/") {
		cfg.MountPath += "/"
	}
	for _, p := range []*string{&cfg.AfterSignIn, &cfg.AfterSignOut} {
		if *p == "" {
			*p = "/"
		}
		if safePath(*p) == "" {
			return fmt.Errorf("session: %q is not a same-origin path", *p)
		}
	}
	if cfg.ChallengePath != "" && safePath(cfg.ChallengePath) == "" {
		return fmt.Errorf("session: ChallengePath %q is not a same-origin path", cfg.ChallengePath)
	}
	if len(cfg.Scopes) == 0 {
		cfg.Scopes = []string{"openid", "email", "profile"}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	return nil
}

// validClientID: client ids are put in cookie names unencoded, as
// Amplify does, so they must be plain.
func validClientID(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isAlnum(c) && c != '-' && c != '_' {
			return false
		}
	}
	return true
}

// Config returns the configuration with its defaults filled in.
func (m *Manager) Config() Config { return m.cfg }

// issuerLabel is the issuer part of an authenticator-app setup link.
func (c Config) issuerLabel() string {
	if c.AppName != "" {
		return c.AppName
	}
	if u, err := url.Parse(c.Origin); err == nil && u.Host != "" {
		return u.Host
	}
	return "Cognate"
}
