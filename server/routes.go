package server

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/cognate-auth/cognate/importupload"
	"github.com/cognate-auth/cognate/internal/reqid"
	"github.com/cognate-auth/cognate/oauth"
	"github.com/cognate-auth/cognate/userpool"
)

func (s *Server) routes(api, hosted, realtime http.Handler, reg *prometheus.Registry) http.Handler {
	mux := http.NewServeMux()
	handle := func(pattern string, h http.Handler) { mux.Handle(pattern, recordRoute{h}) }
	handle("/event", realtime)
	handle("/event/realtime", realtime)
	handle("/{$}", api)
	for _, p := range oauth.Paths {
		handle(p, hosted)
	}
	handle("GET /{$}", http.HandlerFunc(s.index))
	handle("GET /healthz", http.HandlerFunc(s.healthz))
	handle("GET /readyz", http.HandlerFunc(s.healthz))
	handle("PUT "+userpool.UploadPath, importupload.New(s.svc, s.log))
	if !s.cfg.Production {
		handle("GET /_dev/outbox", s.devOnly(s.outboxHTML))
		handle("GET /_dev/outbox.json", s.devOnly(s.outboxJSON))
	}
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "cognate_http_requests_total",
		Help: "HTTP requests by route pattern and status code.",
	}, []string{"route", "code"})
	reg.MustRegister(requests)
	return s.middleware(mux, requests)
}

// recordRoute is what the server's mux calls for a pattern it matched:
// it notes the pattern, which the mux set on r, for the middleware's
// metric. The middleware cannot read it from its own request after
// serving, because a mux inside h (oauth's, for one) sets its own
// pattern, or none, on that same request.
type recordRoute struct{ h http.Handler }

func (rr recordRoute) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if sw, ok := w.(*statusWriter); ok {
		sw.route = r.Pattern
	}
	rr.h.ServeHTTP(w, r)
}

// metricsRoutes is what the metrics listener answers: /metrics, which the
// API listeners do not serve (the counters describe every client's
// traffic), and /healthz and /readyz for probes that reach only this
// listener.
func (s *Server) metricsRoutes(reg *prometheus.Registry) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /readyz", s.healthz)
	return mux
}

// statusWriter records the status a handler wrote, and the pattern
// (route) of the handler the server's mux called.
type statusWriter struct {
	http.ResponseWriter
	status int
	route  string
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// middleware gives every request an id (sent back as x-amzn-RequestId, as
// AWS SDKs expect), a log line, a metric, and turns a panic into a 500
// instead of a dropped connection.
func (s *Server) middleware(mux *http.ServeMux, requests *prometheus.CounterVec) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := reqid.New()
		ctx := reqid.With(r.Context(), id)
		r = r.WithContext(ctx)
		w.Header().Set("x-amzn-RequestId", id)
		w.Header().Set("X-Content-Type-Options", "nosniff")
		sw := &statusWriter{ResponseWriter: w}
		start := time.Now()
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.ErrorContext(ctx, "panic", "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
				if sw.status == 0 {
					sw.Header().Set("Content-Type", "application/x-amz-json-1.1")
					sw.WriteHeader(http.StatusInternalServerError)
					sw.Write([]byte(`{"__type":"InternalErrorException","message":"Internal server error."}`))
				}
			}
			route := sw.route
			if route == "" {
				// The mux answered without calling a handler of ours (a
				// redirect to the canonical path, a 404 or a 405), so
				// nothing changed the pattern it left on r: a registered
				// one, or "" when none matched.
				route = r.Pattern
			}
			if route == "" {
				route = "unmatched"
			}
			requests.WithLabelValues(route, strconv.Itoa(sw.status)).Inc()
			s.log.LogAttrs(ctx, slog.LevelInfo, "request",
				slog.String("method", r.Method), slog.String("path", r.URL.Path),
				slog.Int("status", sw.status), slog.Duration("duration", time.Since(start)))
		}()
		mux.ServeHTTP(sw, r)
	})
}

func (s *Server) index(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintf(w, "Cognate user pool.\nPool %s, app client %s.\nCognito JSON API: POST / with X-Amz-Target.\nJWKS: %s/%s/.well-known/jwks.json\n",
		s.Pool.ID, s.Client.ClientID, s.cfg.PublicURL, s.Pool.ID)
}

// readyTimeout bounds the storage check of /healthz and /readyz: a load
// balancer's probe must get an answer before its own timeout.
const readyTimeout = 2 * time.Second

// pinger is a storage backend that can check its database cheaply.
type pinger interface {
	Ping(ctx context.Context) error
}

// healthz answers /healthz and /readyz: 200 when storage answers within
// readyTimeout, else 503 (with Retry-After), so that a load balancer
// sends requests only to nodes that can serve them.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
	defer cancel()
	if err := s.pingStorage(ctx); err != nil {
		s.log.WarnContext(ctx, "readiness check failed", "err", err)
		w.Header().Set("Retry-After", "1")
		http.Error(w, "storage unavailable", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write([]byte("ok\n"))
}

// pingStorage checks that storage answers: its Ping when the backend has
// one, else a read of the default pool.
func (s *Server) pingStorage(ctx context.Context) error {
	if p, ok := s.store.(pinger); ok {
		return p.Ping(ctx)
	}
	_, err := s.store.GetPool(ctx, s.Pool.ID)
	return err
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
