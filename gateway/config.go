package gateway

import (
	"crypto/ecdsa"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/cognate-auth/cognate/internal/trustedproxy"
	"github.com/cognate-auth/cognate/session"
	"github.com/prometheus/client_golang/prometheus"
)

// Defaults of Config.
const (
	DefaultIdentityPrefix        = "X-Cognate-"
	DefaultMaxHeaderBytes        = 128 << 10
	DefaultMaxBodyBytes          = 10 << 20
	DefaultDialTimeout           = 5 * time.Second
	DefaultResponseHeaderTimeout = 60 * time.Second
	DefaultReadHeaderTimeout     = 10 * time.Second
	// DefaultRefreshBefore is how long before their expiry the gateway
	// refreshes tokens when Session.RefreshBefore is zero: Amplify's own
	// 5 s, which an adapter in the app applies when it reads the
	// forwarded tokens, plus 10 s for the request to reach that check. A
	// gateway refreshing at exactly the app's margin would let a request
	// through unrefreshed that the app then refreshes, with cookies the
	// gateway drops.
	DefaultRefreshBefore = 15 * time.Second
)

// Errors New returns, wrapped with the detail.
var (
	ErrConfig = errors.New("gateway: bad configuration")
)

// Config configures a Gateway. Upstream and the Session's Origin,
// ClientID and UserPoolID (or Issuer) are required; every other zero
// value is a working default.
type Config struct {
	// Session configures the session layer: issuer, app client, origin
	// (the gateway's public URL), mode, cookie policy. Its MountPath is
	// where the auth routes are served.
	Session session.Config
	// Upstream is the app's base URL, http or https.
	Upstream string
	// Rules is the route policy; paths no rule matches need a session.
	Rules []Rule
	// IdentityPrefix starts the names of the identity headers sent to
	// the app; "" means DefaultIdentityPrefix.
	IdentityPrefix string
	// PassTokens also sends the access and id tokens, as
	// <prefix>Access-Token and <prefix>Id-Token.
	PassTokens bool
	// ALBHeaders sends x-amzn-oidc-data, x-amzn-oidc-accesstoken and
	// x-amzn-oidc-identity as an AWS Application Load Balancer does.
	ALBHeaders bool
	// ALBKey signs x-amzn-oidc-data (ES256, P-256); nil means a key
	// generated at start, which is fine for one node (nodes behind one
	// load balancer need the same key).
	ALBKey *ecdsa.PrivateKey
	// ALBSigner is the data token's signer header; "" means an ARN-shaped
	// name of this gateway in the pool's region.
	ALBSigner string
	// TrustedProxies are the proxies in front of the gateway whose
	// X-Forwarded-For, -Host and -Proto are believed.
	TrustedProxies trustedproxy.List
	// MaxHeaderBytes bounds a request's header; 0 means
	// DefaultMaxHeaderBytes.
	MaxHeaderBytes int
	// MaxBodyBytes bounds a request's body; 0 means DefaultMaxBodyBytes,
	// negative means no bound.
	MaxBodyBytes int64
	// DialTimeout and ResponseHeaderTimeout bound connecting to the app
	// and waiting for its response's header; 0 means the defaults. The
	// body then streams for as long as it takes.
	DialTimeout, ResponseHeaderTimeout time.Duration
	// Transport reaches the app; nil means one built with the timeouts
	// above.
	Transport http.RoundTripper
	// Registry receives the gateway's metrics; nil means a new one
	// (MetricsHandler serves it either way).
	Registry *prometheus.Registry
	// Logger receives errors and warnings; nil discards. The session
	// layer gets it too unless Session.Logger is set.
	Logger *slog.Logger
	// BFF, with a Store, keeps the tokens server-side behind one opaque
	// session cookie (see BFF).
	BFF BFF
}

// normalize checks cfg and fills in its defaults.
func (cfg *Config) normalize() (*url.URL, error) {
	u, err := url.Parse(cfg.Upstream)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("%w: upstream %q must be http(s)://host[:port][/path]", ErrConfig, cfg.Upstream)
	}
	if err := cfg.normalizeBFF(); err != nil {
		return nil, err
	}
	if cfg.IdentityPrefix == "" {
		cfg.IdentityPrefix = DefaultIdentityPrefix
	}
	if !validPrefix(cfg.IdentityPrefix) {
		return nil, fmt.Errorf("%w: identity header prefix %q must be letters, digits and '-'", ErrConfig, cfg.IdentityPrefix)
	}
	if cfg.MaxHeaderBytes <= 0 {
		cfg.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	if cfg.MaxBodyBytes == 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.DialTimeout <= 0 {
		cfg.DialTimeout = DefaultDialTimeout
	}
	if cfg.ResponseHeaderTimeout <= 0 {
		cfg.ResponseHeaderTimeout = DefaultResponseHeaderTimeout
	}
	if cfg.Session.RefreshBefore == 0 {
		cfg.Session.RefreshBefore = DefaultRefreshBefore
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Session.Logger == nil {
		cfg.Session.Logger = cfg.Logger
	}
	if cfg.Registry == nil {
		cfg.Registry = prometheus.NewRegistry()
	}
	return u, nil
}

// validPrefix: a header name prefix is a token that a '-'-separated name
// can follow, and no prefix of the headers HTTP itself relies on.
func validPrefix(p string) bool {
	if len(p) < 3 || !strings.HasSuffix(p, "-") {
		return false
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	switch strings.ToLower(p) {
	case "content-", "accept-", "sec-", "proxy-", "x-forwarded-":
		return false
	}
	return true
}
