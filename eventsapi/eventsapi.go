// Package eventsapi serves the AppSync Events protocol over HTTP: the
// real-time WebSocket at GET /event/realtime (subprotocol
// aws-appsync-event-ws) and the HTTP publish at POST /event, with CORS.
// The protocol's semantics live in package events; this package decodes
// client messages, carries frames and maps errors to HTTP.
//
// Which WebSocket errors are fatal: a failed connect authorization, the
// connection caps, a connection that neither sends connection_init nor
// operates within the connection timeout, an expired credential, a slow
// consumer and server shutdown each end the connection (after a
// connection_error, except shutdown, which closes with 1001); a message
// larger than MaxMessageBytes ends it with close code 1009. Everything
// else — unreadable JSON, binary frames, unknown types, bad channels,
// refused subscribes and publishes, duplicate or unknown ids — gets its
// error message and the connection keeps serving.
package eventsapi

import (
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"path"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cognate-auth/cognate/events"
)

// Paths the handler serves.
const (
	PublishPath  = "/event"
	RealtimePath = "/event/realtime"
)

// Subprotocol is the WebSocket subprotocol the server selects.
const Subprotocol = "aws-appsync-event-ws"

// MaxMessageBytes bounds a WebSocket message and MaxPublishBytes an HTTP
// publish body: five events of events.MaxEventBytes, each possibly twice
// as long once escaped inside a JSON string, plus room for the rest.
const (
	MaxMessageBytes = 2*events.MaxEvents*events.MaxEventBytes + 64<<10
	MaxPublishBytes = MaxMessageBytes
)

// allowedHeaders are the request headers a browser may send (CORS).
const allowedHeaders = "authorization, content-type, x-api-key, x-amz-date, x-amz-security-token, x-amz-content-sha256, x-amz-user-agent"

// Options configure a Handler.
type Options struct {
	Hub    *events.Hub
	Logger *slog.Logger
	// AllowedOrigins are the browser origins allowed to connect and
	// publish, as host patterns (path.Match, case-insensitive) or
	// scheme://host patterns; "*" or an empty list allows any origin. The
	// request's own host is always allowed. Any is safe: the socket is
	// authorized by the key or token in each message, never by cookies.
	AllowedOrigins []string
	// Registerer receives the events metrics; nil registers none.
	Registerer prometheus.Registerer
	// ClientAddr names the client of a WebSocket upgrade for
	// events.Config.MaxConnectionsPerAddress; nil means the TCP peer's
	// IP. Return "" to exempt a request.
	ClientAddr func(*http.Request) string
}

// Handler serves PublishPath and RealtimePath.
type Handler struct {
	hub        *events.Hub
	log        *slog.Logger
	anyOrigin  bool
	origins    []string
	m          *metrics
	clientAddr func(*http.Request) string
}

// New returns the handler. Mount it with Register, or on both paths.
func New(opts Options) *Handler {
	h := &Handler{hub: opts.Hub, log: opts.Logger, clientAddr: opts.ClientAddr}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if h.clientAddr == nil {
		h.clientAddr = peerIP
	}
	h.anyOrigin = len(opts.AllowedOrigins) == 0
	for _, o := range opts.AllowedOrigins {
		if o == "*" {
			h.anyOrigin = true
		}
		h.origins = append(h.origins, strings.ToLower(o))
	}
	h.m = newMetrics(opts.Hub, opts.Registerer)
	return h
}

// Register mounts the handler on mux at PublishPath and RealtimePath.
func (h *Handler) Register(mux *http.ServeMux) {
	mux.Handle(PublishPath, h)
	mux.Handle(RealtimePath, h)
}

// ServeHTTP routes by path and method.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case RealtimePath:
		if r.Method != http.MethodGet {
			w.Header().Set("Allow", http.MethodGet)
			writeError(w, events.BadRequest("Use GET with a WebSocket upgrade."), http.StatusMethodNotAllowed)
			return
		}
		h.realtime(w, r)
	case PublishPath:
		switch r.Method {
		case http.MethodPost:
			h.publish(w, r)
		case http.MethodOptions:
			h.preflight(w, r)
		default:
			w.Header().Set("Allow", "POST, OPTIONS")
			writeError(w, events.BadRequest("Use POST to publish."), http.StatusMethodNotAllowed)
		}
	default:
		http.NotFound(w, r)
	}
}

// peerIP is the request's TCP peer address without its port.
func peerIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// originAllowed reports whether the request's Origin (if any) may use the
// API.
func (h *Handler) originAllowed(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" || h.anyOrigin {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return false
	}
	if strings.EqualFold(u.Host, r.Host) {
		return true
	}
	host := strings.ToLower(u.Host)
	full := strings.ToLower(u.Scheme) + "://" + host
	for _, p := range h.origins {
		target := host
		if strings.Contains(p, "://") {
			target = full
		}
		if ok, _ := path.Match(p, target); ok {
			return true
		}
	}
	return false
}

// cors sets the CORS response headers for an allowed origin.
func (h *Handler) cors(w http.ResponseWriter, r *http.Request) {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return
	}
	// Scripts may read the error type (see writeError) and request id.
	w.Header().Set("Access-Control-Expose-Headers", "x-amzn-ErrorType, x-amzn-RequestId")
	if h.anyOrigin {
		w.Header().Set("Access-Control-Allow-Origin", "*")
		return
	}
	w.Header().Set("Access-Control-Allow-Origin", origin)
	w.Header().Add("Vary", "Origin")
}

func (h *Handler) preflight(w http.ResponseWriter, r *http.Request) {
	if !h.originAllowed(r) {
		writeError(w, events.Unauthorized(http.StatusForbidden, "Origin %q is not allowed.", r.Header.Get("Origin")), 0)
		return
	}
	h.cors(w, r)
	w.Header().Set("Access-Control-Allow-Methods", "POST, OPTIONS")
	w.Header().Set("Access-Control-Allow-Headers", allowedHeaders)
	w.Header().Set("Access-Control-Max-Age", "86400")
	w.WriteHeader(http.StatusNoContent)
}
