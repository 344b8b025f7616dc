// Command profserve runs Cognate as `cognate serve` does — the same
// server.New, handler and listener — plus net/http/pprof on a second
// loopback port, so that a server under loadgen's load can be profiled
// from outside:
//
//	go run ./bench/profserve -addr 127.0.0.1:9229 -data /tmp/d -pprof 127.0.0.1:6060 &
//	go run ./bench/loadgen -target http://127.0.0.1:9229 -data /tmp/d -op getuser &
//	curl -o cpu.prof 'http://127.0.0.1:6060/debug/pprof/profile?seconds=8'
//
// bench/profile.sh does exactly that for a list of operations. It exists
// for measurement only: `cognate serve` has no profiling endpoint.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"syscall"

	"github.com/cognate-auth/cognate/server"
)

func main() {
	var cfg server.Config
	var pprofAddr string
	flag.StringVar(&cfg.Addr, "addr", "127.0.0.1:9229", "API listen address (loopback)")
	flag.StringVar(&cfg.DataDir, "data", "", "data directory (required)")
	flag.StringVar(&cfg.PublicURL, "public-url", "", "public URL (default http://ADDR)")
	flag.StringVar(&pprofAddr, "pprof", "127.0.0.1:6060", "pprof listen address (loopback)")
	flag.StringVar(&cfg.TLSAddr, "tls-addr", server.TLSOff, "HTTPS listen address (loopback), or off")
	flag.Parse()
	if cfg.DataDir == "" {
		fmt.Fprintln(os.Stderr, "profserve: -data is required")
		os.Exit(2)
	}
	if cfg.PublicURL == "" {
		cfg.PublicURL = "http://" + cfg.Addr
	}
	for _, a := range []string{cfg.Addr, pprofAddr} {
		host, _, err := net.SplitHostPort(a)
		if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
			fmt.Fprintf(os.Stderr, "profserve: %s: listen on a loopback IP only\n", a)
			os.Exit(2)
		}
	}
	cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	// The load drivers open thousands of connections with one key from
	// one address, and nothing scrapes metrics here.
	cfg.EventsMaxConnections, cfg.EventsMaxConnectionsPerAddress, cfg.EventsMaxConnectionsPerAPIKey = -1, -1, -1
	cfg.MetricsAddr = server.MetricsOff
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	srv, err := server.New(ctx, cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "profserve:", err)
		os.Exit(1)
	}
	defer srv.Close()

	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	go func() {
		if err := http.ListenAndServe(pprofAddr, mux); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintln(os.Stderr, "profserve: pprof:", err)
		}
	}()
	if err := srv.ListenAndServe(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "profserve:", err)
		os.Exit(1)
	}
}
