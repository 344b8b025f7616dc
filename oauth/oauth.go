// Package oauth serves Cognito's OAuth 2.0 / OpenID Connect endpoints
// (/oauth2/authorize, /oauth2/token, /oauth2/revoke, /oauth2/userInfo,
// /logout), the managed login pages (/login, /signup, /confirm,
// /forgotPassword, /confirmForgotPassword, /newPassword, /error) and each
// pool's OpenID Connect discovery document and key set
// (/{pool}/.well-known/openid-configuration, /{pool}/.well-known/jwks.json).
//
// One host serves every pool: the client_id of a request selects the app
// client and with it the pool (the well-known routes name the pool in
// their path). Identity rules (passwords, codes, tokens) live in
// userpool; this package only speaks HTTP and HTML.
package oauth

import (
	"log/slog"
	"net/http"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cognate-auth/cognate/federation"
	"github.com/cognate-auth/cognate/internal/csrf"
	"github.com/cognate-auth/cognate/internal/ratelimit"
	"github.com/cognate-auth/cognate/storage"
	"github.com/cognate-auth/cognate/userpool"
)

// Options configure a Handler.
type Options struct {
	Service *userpool.Service
	// Pools is where the well-known routes look up the pool their path
	// names (required).
	Pools storage.Pools
	// Logger receives server faults and security events; nil discards.
	Logger *slog.Logger
	// Registerer receives the handler's metrics; nil registers none.
	Registerer prometheus.Registerer
	// PublicURL is the base URL browsers reach the server at. A form post
	// whose Origin is this origin is same-origin even when a proxy
	// terminates TLS in front of the server (the request then looks like
	// plain http). Empty: only the request's own origin counts. The
	// discovery documents' endpoint URLs are under it too.
	PublicURL string
	// GuessLimiter throttles, per client address, form posts that test a
	// password or a code; nil means no per-address limit (per-user lockout
	// still applies).
	GuessLimiter ratelimit.Allower
	// ClientAddr names the client of a request for GuessLimiter; nil
	// means the TCP peer. Return "" to exempt a request.
	ClientAddr func(*http.Request) string
	// Federation builds the Upstreams of the pools' identity providers;
	// nil offers no federated sign-in.
	Federation *federation.Registry
}

// The OAuth 2.0 endpoints, which the discovery documents point to.
const (
	AuthorizePath = "/oauth2/authorize"
	TokenPath     = "/oauth2/token"
	RevokePath    = "/oauth2/revoke"
	UserInfoPath  = "/oauth2/userInfo"
)

// AssetsPath is where the pages' stylesheet is served.
const AssetsPath = "/_cognate/assets/"

// Paths are the patterns the handler answers, for mounting on a mux.
// The endpoints and pages are exact paths of any method (the handler
// refuses a wrong method itself), not a /oauth2/ subtree, so that they
// never overlap the pools' well-known routes beside them. Those are GET
// patterns, so that the mux they are mounted on refuses other methods
// as it refuses them on its own read-only routes.
var Paths = []string{
	AuthorizePath, TokenPath, RevokePath, UserInfoPath,
	"/logout", "/login", "/signup", "/confirm", "/forgotPassword", "/confirmForgotPassword",
	"/newPassword", "/mfa", "/loginCode", "/passkey", "/error", AssetsPath, IDPResponsePath, SAMLResponsePath,
	SAMLLogoutPath, SAMLMetadataPath,
	discoveryPattern, jwksPattern,
}

// Handler is the http.Handler of the OAuth endpoints and pages.
type Handler struct {
	svc        *userpool.Service
	pools      storage.Pools
	log        *slog.Logger
	mux        *http.ServeMux
	outcomes   *prometheus.CounterVec
	limiter    ratelimit.Allower
	clientAddr func(*http.Request) string
	csrf       *csrf.Protector
	fed        *federation.Registry
	// base is PublicURL without a trailing slash.
	base string
	// discoveryDocs holds each served pool's encoded discovery document
	// (pool ID → []byte), built on its first request.
	discoveryDocs sync.Map
}

// New returns the handler.
func New(opts Options) *Handler {
	h := &Handler{
		svc: opts.Service, pools: opts.Pools, log: opts.Logger, limiter: opts.GuessLimiter, clientAddr: opts.ClientAddr,
		base: strings.TrimRight(opts.PublicURL, "/"), fed: opts.Federation,
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if h.clientAddr == nil {
		h.clientAddr = peerIP
	}
	h.csrf = newCSRF(opts.Service, opts.PublicURL)
	h.outcomes = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "cognate_oauth_outcomes_total",
		Help: "OAuth endpoint and hosted-page outcomes: ok, or the OAuth error code / page error.",
	}, []string{"endpoint", "outcome"})
	if opts.Registerer != nil {
		opts.Registerer.MustRegister(h.outcomes)
	}
	h.mux = h.routes()
	return h
}

func (h *Handler) routes() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+AuthorizePath, h.authorize)
	mux.HandleFunc(TokenPath, h.token)
	mux.HandleFunc(RevokePath, h.revoke)
	mux.HandleFunc(UserInfoPath, h.userInfo)
	mux.HandleFunc("GET /logout", h.logout)
	for path, p := range map[string]page{
		"/login": {h.loginGET, h.loginPOST}, "/signup": {h.signupGET, h.signupPOST},
		"/confirm": {h.confirmGET, h.confirmPOST}, "/forgotPassword": {h.forgotGET, h.forgotPOST},
		"/confirmForgotPassword": {h.resetGET, h.resetPOST}, "/newPassword": {h.newPasswordGET, h.newPasswordPOST},
		"/mfa":       {h.mfaGET, h.mfaPOST},
		"/passkey":   {h.passkeyGET, h.passkeyPOST},
		"/loginCode": {h.loginCodeGET, h.loginCodePOST},
	} {
		mux.HandleFunc("GET "+path, p.get)
		mux.HandleFunc("POST "+path, h.guardPost(path, p.post))
	}
	mux.HandleFunc("GET /error", h.errorRoute)
	for _, path := range []string{IDPResponsePath, SAMLResponsePath} {
		mux.HandleFunc("GET "+path, h.idpResponse)
		mux.HandleFunc("POST "+path, h.idpResponse)
	}
	mux.HandleFunc("POST "+SAMLLogoutPath, h.samlLogoutResponse)
	mux.HandleFunc("GET "+SAMLMetadataPath, h.samlMetadata)
	mux.Handle("GET "+AssetsPath, assetHandler())
	mux.HandleFunc(discoveryPattern, h.discovery)
	mux.HandleFunc(jwksPattern, h.jwks)
	return mux
}

// page is a hosted page's pair of handlers.
type page struct{ get, post http.HandlerFunc }

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !storableInput(r) {
		refuseInput(w, r)
		return
	}
	h.mux.ServeHTTP(w, r)
}

func (h *Handler) count(endpoint, outcome string) {
	h.outcomes.WithLabelValues(endpoint, outcome).Inc()
}

// allowGuess applies the per-address limit to a form post that tests a
// password or code.
func (h *Handler) allowGuess(r *http.Request) bool {
	if h.limiter == nil {
		return true
	}
	addr := h.clientAddr(r)
	if addr == "" {
		return true
	}
	ok, _ := h.limiter.Allow(r.Context(), addr)
	return ok
}

func peerIP(r *http.Request) string {
	host := r.RemoteAddr
	if i := strings.LastIndexByte(host, ':'); i >= 0 {
		host = host[:i]
	}
	return strings.Trim(host, "[]")
}
