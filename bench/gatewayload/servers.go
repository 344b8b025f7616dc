package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"time"
)

// helloBody is /hello's answer: a few hundred bytes, as a small JSON API
// response or a redirect page would be.
var helloBody = []byte(`{"ok":true,"message":"hello from the app behind the gateway","items":[` +
	strings.Repeat(`{"id":12345,"name":"item"},`, 9) + `{"id":12345,"name":"item"}]}` + "\n")

// chunkBody is one chunk of /stream.
var chunkBody = []byte("data: " + strings.Repeat("x", 93) + "\n\n")

// upstream is the trivial app: /hello answers helloBody, /stream writes
// chunks with a flush and a pause after each but the last, /whoami
// answers the X-Cognate-User header it received (the gateway's
// identity), for the driver's checks.
func upstream(chunks int, gap time.Duration) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /hello", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(helloBody)
	})
	mux.HandleFunc("GET /stream", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		rc := http.NewResponseController(w)
		for i := range chunks {
			if i > 0 && gap > 0 {
				time.Sleep(gap)
			}
			if _, err := w.Write(chunkBody); err != nil {
				return
			}
			if err := rc.Flush(); err != nil {
				return
			}
		}
	})
	mux.HandleFunc("GET /whoami", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, r.Header.Get("X-Cognate-User"))
	})
	return mux
}

func serveUpstream(ctx context.Context, addr string, chunks int, gap time.Duration) error {
	return serveLoopback(ctx, addr, upstream(chunks, gap))
}

// reverseProxy is the baseline proxy: httputil.ReverseProxy as its
// documentation suggests, with the gateway's transport settings (idle
// connections per host above net/http's default of 2, so that 32
// connections reuse theirs as the gateway's do).
func reverseProxy(to *url.URL) http.Handler {
	return &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(to)
			pr.SetXForwarded()
		},
		Transport: &http.Transport{
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConns:        256,
			MaxIdleConnsPerHost: 64,
			IdleConnTimeout:     90 * time.Second,
		},
	}
}

func serveReverseProxy(ctx context.Context, addr, to string) error {
	u, err := url.Parse(to)
	if err != nil || u.Scheme != "http" || u.Host == "" {
		return fmt.Errorf("%w: -to must be an http:// URL", errUsage)
	}
	return serveLoopback(ctx, addr, reverseProxy(u))
}

func serveLoopback(ctx context.Context, addr string, h http.Handler) error {
	host, _, err := net.SplitHostPort(addr)
	if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("%w: %s: listen on a loopback IP only", errUsage, addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		return srv.Shutdown(sctx)
	case err := <-errc:
		return err
	}
}
