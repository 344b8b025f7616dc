package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"strings"
	"time"

	"github.com/cognate-auth/cognate/internal/reqid"
	"github.com/cognate-auth/cognate/session"
)

// Gateway is a configured reverse proxy. It is safe for concurrent use.
type Gateway struct {
	cfg          Config
	log          *slog.Logger
	m            *session.Manager
	policy       *policy
	id           *identity
	alb          *albSigner
	proxy        *httputil.ReverseProxy
	metrics      *metrics
	cookiePrefix string // CognitoIdentityServiceProvider.<clientId>.
	jwksURL      string
	// csrf: pass the password form's CSRF token to the app (the pool
	// allows password sign-in).
	csrf bool
	// session, group: the policy's guards around forward; mount: the
	// session routes.
	session http.Handler
	group   map[string]http.Handler
	handler http.Handler
}

// New checks cfg and returns a Gateway. It makes no network call.
func New(cfg Config) (*Gateway, error) {
	upstream, err := cfg.normalize()
	if err != nil {
		return nil, err
	}
	m, err := session.New(cfg.Session)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	sc := m.Config()
	g := &Gateway{
		cfg: cfg, log: cfg.Logger, m: m,
		cookiePrefix: "CognitoIdentityServiceProvider." + sc.ClientID + ".",
		jwksURL:      sc.JWKSURL,
		csrf:         sc.UserPoolID != "",
		group:        map[string]http.Handler{},
	}
	if g.jwksURL == "" {
		g.jwksURL = strings.TrimSuffix(sc.Issuer, "/") + "/.well-known/jwks.json"
	}
	if g.policy, err = newPolicy(cfg.Rules); err != nil {
		return nil, err
	}
	if cfg.ALBHeaders {
		if g.alb, err = newALBSigner(&cfg, sc); err != nil {
			return nil, err
		}
	}
	if g.metrics, err = newMetrics(cfg.Registry); err != nil {
		return nil, err
	}
	g.id = newIdentity(&cfg, g.alb)
	g.proxy = g.newProxy(upstream)
	fwd := http.HandlerFunc(g.forward)
	g.session = m.Require(fwd)
	for _, r := range g.policy.rules {
		if r.Access == NeedGroup && g.group[r.Group] == nil {
			g.group[r.Group] = m.RequireGroup(r.Group, fwd)
		}
	}
	inner := m.Middleware(http.HandlerFunc(g.route))
	if cfg.BFF.Store != nil {
		if inner, err = g.newBFF(http.HandlerFunc(g.route)); err != nil {
			return nil, err
		}
	}
	g.handler = g.outer(inner)
	return g, nil
}

// Handler serves the gateway's listener.
func (g *Gateway) Handler() http.Handler { return g.handler }

// Session is the gateway's session layer.
func (g *Gateway) Session() *session.Manager { return g.m }

type routeKey struct{}

// setRoute labels the request's metrics.
func setRoute(r *http.Request, route string) {
	if p, ok := r.Context().Value(routeKey{}).(*string); ok {
		*p = route
	}
}

// outer gives every request an id, a metric, its own endpoints, and the
// bounds the session layer and the app rely on: a clean path and a body
// within MaxBodyBytes.
func (g *Gateway) outer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		route := "denied"
		sw := &statusWriter{ResponseWriter: w}
		r = r.WithContext(context.WithValue(reqid.With(r.Context(), reqid.New()), routeKey{}, &route))
		defer func() { g.metrics.observe(route, sw.status, time.Since(start)) }()
		switch {
		case strings.HasPrefix(r.URL.Path, "/_gateway/"):
			route = "gateway"
			g.own(sw, r)
		case !canonicalPath(r.URL.Path):
			route = "bad_request"
			badPath(sw, r)
		case g.cfg.MaxBodyBytes > 0 && r.ContentLength > g.cfg.MaxBodyBytes:
			route = "bad_request"
			writeError(sw, r, http.StatusRequestEntityTooLarge, "body_too_large", "Request too large", "The request's body is larger than this site accepts.")
		default:
			if g.cfg.MaxBodyBytes > 0 && r.Body != nil && r.Body != http.NoBody {
				r.Body = http.MaxBytesReader(sw, r.Body, g.cfg.MaxBodyBytes)
			}
			next.ServeHTTP(sw, r)
		}
	})
}

// route runs after the session Middleware: the session routes, else the
// policy's guard in front of the app.
func (g *Gateway) route(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, g.m.Config().MountPath) {
		setRoute(r, "auth")
		g.m.Handler().ServeHTTP(w, r)
		return
	}
	switch rule := g.policy.decide(r.URL.Path); rule.Access {
	case Public:
		g.forward(w, r)
	case NeedGroup:
		g.group[rule.Group].ServeHTTP(w, r)
	default:
		g.session.ServeHTTP(w, r)
	}
}

// forward sends r to the app.
func (g *Gateway) forward(w http.ResponseWriter, r *http.Request) {
	setRoute(r, "proxy")
	info := &reqInfo{}
	if g.csrf && r.Method == http.MethodGet && wantsHTML(r) {
		info.csrf = g.m.CSRFToken(w, r)
	}
	if h := w.Header(); len(h["Set-Cookie"]) > 0 {
		// The session layer's no-store stands, set by modifyResponse
		// over the app's own caching headers (ReverseProxy adds the
		// app's headers to these rather than replacing them).
		info.noStore = true
		h.Del("Cache-Control")
	}
	g.proxy.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), reqInfoKey{}, info)))
}

// own serves the gateway's endpoints under /_gateway/.
func (g *Gateway) own(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == "/_gateway/health":
		writeStatus(w, http.StatusOK, "ok")
	case r.URL.Path == "/_gateway/ready":
		g.ready(w, r)
	case g.alb != nil && strings.HasPrefix(r.URL.Path, ALBKeyPath):
		g.alb.serveKey(w, r)
	default:
		writeError(w, r, http.StatusNotFound, "not_found", "Not found", "There is no such page.")
	}
}

// Serve serves the gateway on ln and, when metricsLn is not nil,
// Prometheus /metrics and /healthz on metricsLn, until ctx is done; then
// it shuts down gracefully (10 s).
func (g *Gateway) Serve(ctx context.Context, ln, metricsLn net.Listener) error {
	errLog := slog.NewLogLogger(g.log.Handler(), slog.LevelWarn)
	servers := []*http.Server{{
		Handler: g.handler, ReadHeaderTimeout: DefaultReadHeaderTimeout, MaxHeaderBytes: g.cfg.MaxHeaderBytes,
		IdleTimeout: 2 * time.Minute, ErrorLog: errLog,
		BaseContext: func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}}
	listeners := []net.Listener{ln}
	if metricsLn != nil {
		servers = append(servers, &http.Server{Handler: g.MetricsHandler(), ReadHeaderTimeout: DefaultReadHeaderTimeout, ErrorLog: errLog})
		listeners = append(listeners, metricsLn)
	}
	errc := make(chan error, len(servers))
	for i, s := range servers {
		go func() { errc <- s.Serve(listeners[i]) }()
	}
	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	for _, s := range servers {
		if e := s.Shutdown(sctx); e != nil && err == nil {
			err = e
		}
	}
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}
