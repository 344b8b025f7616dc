package gateway

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"time"

	"github.com/cognate-auth/cognate/session"
)

// reqInfo is what the proxy handler decided for the forwarded request,
// read back by Rewrite and ModifyResponse.
type reqInfo struct {
	csrf string
	// noStore: the gateway set cookies on this response, so the app's
	// caching headers give way to private, no-store.
	noStore bool
}

type reqInfoKey struct{}

// newProxy is the reverse proxy to the app. It never buffers (flushes
// every write: server-sent events, streamed HTML and RSC payloads),
// passes WebSocket upgrades through, and bounds connecting and waiting
// for the response's header, never the body's duration.
func (g *Gateway) newProxy(upstream *url.URL) *httputil.ReverseProxy {
	rt := g.cfg.Transport
	if rt == nil {
		rt = &http.Transport{
			DialContext:           (&net.Dialer{Timeout: g.cfg.DialTimeout, KeepAlive: 30 * time.Second}).DialContext,
			TLSHandshakeTimeout:   g.cfg.DialTimeout,
			ResponseHeaderTimeout: g.cfg.ResponseHeaderTimeout,
			ExpectContinueTimeout: time.Second,
			MaxIdleConns:          256,
			MaxIdleConnsPerHost:   64,
			IdleConnTimeout:       90 * time.Second,
		}
	}
	return &httputil.ReverseProxy{
		Rewrite:        func(pr *httputil.ProxyRequest) { g.rewrite(pr, upstream) },
		Transport:      rt,
		FlushInterval:  -1,
		ModifyResponse: g.modifyResponse,
		ErrorHandler:   g.upstreamError,
		ErrorLog:       slog.NewLogLogger(g.log.Handler(), slog.LevelWarn),
	}
}

// rewrite builds the request the app receives. ReverseProxy has already
// removed hop-by-hop headers and the inbound Forwarded and X-Forwarded-*.
func (g *Gateway) rewrite(pr *httputil.ProxyRequest, upstream *url.URL) {
	in, out := pr.In, pr.Out
	pr.SetURL(upstream)
	out.Host = in.Host // the app sees the name the browser used (also in X-Forwarded-Host)

	client, fromProxy, _ := g.cfg.TrustedProxies.Client(in)
	if fromProxy {
		// A trusted proxy's chain and its view of host and scheme stand.
		if xff := in.Header.Values("X-Forwarded-For"); len(xff) > 0 {
			out.Header["X-Forwarded-For"] = xff
		}
	}
	pr.SetXForwarded()
	if fromProxy {
		if h := in.Header.Get("X-Forwarded-Host"); h != "" {
			out.Header.Set("X-Forwarded-Host", h)
		}
		if p := in.Header.Get("X-Forwarded-Proto"); p == "http" || p == "https" {
			out.Header.Set("X-Forwarded-Proto", p)
		}
	}

	g.id.strip(out.Header)
	if client.IsValid() {
		out.Header.Set("X-Real-Ip", client.String())
	}
	info, _ := in.Context().Value(reqInfoKey{}).(*reqInfo)
	csrf := ""
	if info != nil {
		csrf = info.csrf
	}
	g.id.set(out.Header, session.FromContext(in.Context()), csrf)
	if c := g.m.ForwardCookieHeader(in); c != "" {
		out.Header.Set("Cookie", c)
	} else {
		out.Header.Del("Cookie")
	}
}

// modifyResponse enforces the one cookie writer: the app's own writes of
// this client's token cookies are dropped (the gateway already set the
// fresh ones, and a copy with other attributes is the stale-cookie bug),
// and a response the gateway set cookies on is never cached.
func (g *Gateway) modifyResponse(res *http.Response) error {
	info, _ := res.Request.Context().Value(reqInfoKey{}).(*reqInfo)
	noStore := info != nil && info.noStore
	if sets := res.Header["Set-Cookie"]; len(sets) > 0 {
		kept := sets[:0]
		for _, line := range sets {
			if g.tokenCookie(line) {
				noStore = true
				continue
			}
			kept = append(kept, line)
		}
		if len(kept) == 0 {
			delete(res.Header, "Set-Cookie")
		} else {
			res.Header["Set-Cookie"] = kept
		}
	}
	if noStore {
		res.Header.Set("Cache-Control", "private, no-store")
		res.Header.Del("Expires")
	}
	return nil
}

// tokenCookie reports whether a Set-Cookie line names one of this app
// client's Amplify cookies.
func (g *Gateway) tokenCookie(line string) bool {
	name, _, _ := strings.Cut(line, "=")
	name = strings.TrimSpace(name)
	if u, err := url.PathUnescape(name); err == nil {
		name = u
	}
	return strings.HasPrefix(name, g.cookiePrefix)
}

// upstreamError answers when the app could not be reached or its answer
// could not be read: 502 (504 on a timeout, 413 for a body over the
// bound) at once, as a page or as JSON for scripts.
func (g *Gateway) upstreamError(w http.ResponseWriter, r *http.Request, err error) {
	var tooBig *http.MaxBytesError
	var ne net.Error
	switch {
	case errors.As(err, &tooBig):
		g.metrics.upstreamErrors.WithLabelValues("body_too_large").Inc()
		writeError(w, r, http.StatusRequestEntityTooLarge, "body_too_large", "Request too large", "The request's body is larger than this site accepts.")
	case errors.Is(r.Context().Err(), context.Canceled):
		// The browser went away; nobody reads an answer.
		g.metrics.upstreamErrors.WithLabelValues("client_gone").Inc()
		w.WriteHeader(499)
	case errors.As(err, &ne) && ne.Timeout():
		g.metrics.upstreamErrors.WithLabelValues("timeout").Inc()
		g.log.WarnContext(r.Context(), "gateway: the app did not answer in time", "err", err)
		writeError(w, r, http.StatusGatewayTimeout, "upstream_timeout", "The app is not answering", "The app behind this gateway did not answer in time. Please try again in a moment.")
	default:
		g.metrics.upstreamErrors.WithLabelValues("unreachable").Inc()
		g.log.WarnContext(r.Context(), "gateway: the app cannot be reached", "err", err)
		writeError(w, r, http.StatusBadGateway, "bad_gateway", "The app is not answering", "The app behind this gateway cannot be reached. Please try again in a moment.")
	}
}
