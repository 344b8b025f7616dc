package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/cognate-auth/cognate/internal/reqid"
	"github.com/cognate-auth/cognate/oauth"
	"github.com/cognate-auth/cognate/storage"
	"github.com/cognate-auth/cognate/userpool"
)

func (s *Server) routes(api, hosted, realtime http.Handler, reg *prometheus.Registry) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/event", realtime)
	mux.Handle("/event/realtime", realtime)
	mux.Handle("/{$}", api)
	for _, p := range oauth.Paths {
		mux.Handle(p, hosted)
	}
	mux.HandleFunc("GET /{$}", s.index)
	mux.HandleFunc("GET /{pool}/.well-known/jwks.json", s.jwks)
	mux.HandleFunc("GET /{pool}/.well-known/openid-configuration", s.discovery)
	mux.HandleFunc("GET /healthz", s.healthz)
	if !s.cfg.Production {
		mux.HandleFunc("GET /_dev/outbox", s.devOnly(s.outboxHTML))
		mux.HandleFunc("GET /_dev/outbox.json", s.devOnly(s.outboxJSON))
	}
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "cognate_http_requests_total",
		Help: "HTTP requests by route pattern and status code.",
	}, []string{"route", "code"})
	reg.MustRegister(requests)
	return s.middleware(mux, requests)
}

// metricsRoutes is what the metrics listener answers: /metrics, which the
// API listeners do not serve (the counters describe every client's
// traffic), and /healthz for probes that reach only this listener.
func (s *Server) metricsRoutes(reg *prometheus.Registry) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	mux.HandleFunc("GET /healthz", s.healthz)
	return mux
}

// statusWriter records the status a handler wrote.
type statusWriter struct {
	http.ResponseWriter
	status int
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
			_, route := mux.Handler(r)
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

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	if _, err := s.store.GetPool(r.Context(), s.Pool.ID); err != nil {
		s.log.ErrorContext(r.Context(), "health check failed", "err", err)
		http.Error(w, "storage unavailable", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write([]byte("ok\n"))
}

// poolOr404 loads the pool named in the path.
func (s *Server) poolOr404(w http.ResponseWriter, r *http.Request) (storage.Pool, bool) {
	p, err := s.store.GetPool(r.Context(), r.PathValue("pool"))
	if errors.Is(err, storage.ErrNotFound) {
		writeJSON(w, http.StatusNotFound, map[string]string{"message": "User pool " + r.PathValue("pool") + " does not exist."})
		return p, false
	}
	if err != nil {
		s.log.ErrorContext(r.Context(), "get pool", "err", err)
		writeJSON(w, http.StatusInternalServerError, map[string]string{"message": "Internal server error."})
		return p, false
	}
	return p, true
}

func (s *Server) jwks(w http.ResponseWriter, r *http.Request) {
	p, ok := s.poolOr404(w, r)
	if !ok {
		return
	}
	doc, err := s.svc.Keys().JWKS(r.Context(), p.ID)
	if err != nil {
		s.log.ErrorContext(r.Context(), "jwks", "err", err)
		writeJSON(w, http.StatusInternalServerError, map[string]string{"message": "Internal server error."})
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Access-Control-Allow-Origin", "*")
	// Short enough that a rotated key reaches verifiers quickly.
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Write(doc)
}

func (s *Server) discovery(w http.ResponseWriter, r *http.Request) {
	p, ok := s.poolOr404(w, r)
	if !ok {
		return
	}
	iss := s.svc.Issuer(p.ID)
	w.Header().Set("Access-Control-Allow-Origin", "*")
	w.Header().Set("Cache-Control", "public, max-age=300")
	base := strings.TrimRight(s.cfg.PublicURL, "/")
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                iss,
		"jwks_uri":                              iss + "/.well-known/jwks.json",
		"authorization_endpoint":                base + "/oauth2/authorize",
		"token_endpoint":                        base + "/oauth2/token",
		"userinfo_endpoint":                     base + "/oauth2/userInfo",
		"revocation_endpoint":                   base + "/oauth2/revoke",
		"response_types_supported":              []string{"code", "token"},
		"grant_types_supported":                 []string{"authorization_code", "implicit", "refresh_token", "client_credentials"},
		"scopes_supported":                      userpool.StandardScopes,
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post"},
		"code_challenge_methods_supported":      []string{"S256"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"claims_supported": []string{
			"sub", "iss", "aud", "exp", "iat", "auth_time", "token_use", "cognito:username", "cognito:groups",
			"email", "email_verified", "phone_number", "phone_number_verified", "name",
		},
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
