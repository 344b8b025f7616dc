// Command sessionapp is the Go side of bench/session.sh. It serves, on
// one loopback port, the same tiny handler (the signed-in username, or
// "anonymous") twice: at /bare as it is, and at /mw behind
// session.Manager.Middleware (ModeServer, the default) configured against
// a running Cognate: issuer and JWKS over HTTP, the JWKS fetched on the
// first request and cached.
//
//	sessionapp -addr 127.0.0.1:8080 -endpoint http://127.0.0.1:9229 -data ./cognate-data
//	sessionapp -signin USER -password PW -endpoint … -data …   # prints a Cookie header
//	sessionapp -freeport                                       # prints a free loopback port
//	sessionapp -table results.jsonl[,more.jsonl] -gobench gobench.txt  # the report (markdown)
//	sessionapp -interleave http://h/bare,http://h/mw -cookie-file F -want anonymous,USER -server-pid PID
//	                                                           # both URLs in alternating 100 ms windows
//
// The pool and app client come from -pool and -client, or from the data
// directory's amplify_outputs.json. -pprof serves net/http/pprof on a
// second loopback port, for profiling under load. It exists for
// measurement only.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/cognate-auth/cognate/issuerclient"
	"github.com/cognate-auth/cognate/session"
)

// errUsage is a command line that cannot be run.
var errUsage = errors.New("usage")

type config struct {
	addr, pprofAddr      string
	endpoint, data       string
	pool, client, origin string
	signin, password     string
	freeport             bool
	table, gobench       string
	interleave           string
	il                   interleaveConfig
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "sessionapp:", err)
		if errors.Is(err, errUsage) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, out io.Writer) error {
	var cfg config
	fs := flag.NewFlagSet("sessionapp", flag.ContinueOnError)
	fs.StringVar(&cfg.addr, "addr", "127.0.0.1:8080", "listen address (loopback)")
	fs.StringVar(&cfg.pprofAddr, "pprof", "", "net/http/pprof listen address (loopback); empty: none")
	fs.StringVar(&cfg.endpoint, "endpoint", "http://127.0.0.1:9229", "Cognate's URL (its --public-url): JSON API, issuer base, JWKS")
	fs.StringVar(&cfg.data, "data", "", "Cognate's data directory, for amplify_outputs.json (pool and client)")
	fs.StringVar(&cfg.pool, "pool", "", "user pool id (default: from -data)")
	fs.StringVar(&cfg.client, "client", "", "app client id (default: from -data)")
	fs.StringVar(&cfg.origin, "origin", "http://localhost:8080", "the app's origin (session.Config.Origin)")
	fs.StringVar(&cfg.signin, "signin", "", "sign USER in with SRP and print the Cookie header of the session")
	fs.StringVar(&cfg.password, "password", "", "password for -signin")
	fs.BoolVar(&cfg.freeport, "freeport", false, "print a free loopback TCP port and exit")
	fs.StringVar(&cfg.table, "table", "", "print the report of these results.jsonl files (comma-separated; written by bench/session.sh)")
	fs.StringVar(&cfg.gobench, "gobench", "", "with -table: go test -bench output to summarise too")
	fs.StringVar(&cfg.interleave, "interleave", "", "drive these two URLs (comma-separated) in alternating windows and print their ratio")
	cookieFile := fs.String("cookie-file", "", "with -interleave: file holding the Cookie header to send")
	wants := fs.String("want", "", "with -interleave: the two expected bodies, comma-separated")
	labels := fs.String("labels", "bare,mw", "with -interleave: names of the two URLs")
	fs.IntVar(&cfg.il.conns, "conns", 8, "with -interleave: keep-alive connections")
	fs.DurationVar(&cfg.il.window, "window", 100*time.Millisecond, "with -interleave: window length")
	fs.DurationVar(&cfg.il.duration, "duration", 30*time.Second, "with -interleave: run length")
	fs.IntVar(&cfg.il.serverPID, "server-pid", 0, "with -interleave: the server's PID, for its CPU time")
	fs.StringVar(&cfg.il.outputJSON, "out", "", "with -interleave: write the result as JSON here")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	switch {
	case cfg.freeport:
		return freePort(out)
	case cfg.table != "":
		return report(out, cfg.table, cfg.gobench)
	case cfg.interleave != "":
		if err := cfg.il.parse(cfg.interleave, *cookieFile, *wants, *labels); err != nil {
			return err
		}
		return interleave(ctx, cfg.il, out)
	}
	if err := cfg.resolvePool(); err != nil {
		return err
	}
	if cfg.signin != "" {
		cookie, err := signIn(ctx, cfg, cfg.signin, cfg.password)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintln(out, cookie)
		return err
	}
	return serve(ctx, cfg)
}

// resolvePool fills pool and client from amplify_outputs.json when not given.
func (cfg *config) resolvePool() error {
	if cfg.pool != "" && cfg.client != "" {
		return nil
	}
	if cfg.data == "" {
		return fmt.Errorf("%w: -pool and -client, or -data, are required", errUsage)
	}
	b, err := os.ReadFile(filepath.Join(cfg.data, "amplify_outputs.json"))
	if err != nil {
		return fmt.Errorf("reading the pool from the data directory: %w", err)
	}
	var outputs struct {
		Auth struct {
			UserPoolID string `json:"user_pool_id"`
			ClientID   string `json:"user_pool_client_id"`
		} `json:"auth"`
	}
	if err := json.Unmarshal(b, &outputs); err != nil {
		return fmt.Errorf("amplify_outputs.json: %w", err)
	}
	if cfg.pool == "" {
		cfg.pool = outputs.Auth.UserPoolID
	}
	if cfg.client == "" {
		cfg.client = outputs.Auth.ClientID
	}
	if cfg.pool == "" || cfg.client == "" {
		return errors.New("amplify_outputs.json names no pool or client")
	}
	return nil
}

// sessionConfig is the Manager's configuration: everything over HTTP to
// the Cognate at endpoint, defaults otherwise (ModeServer).
func (cfg *config) sessionConfig() session.Config {
	return session.Config{
		UserPoolID: cfg.pool, ClientID: cfg.client,
		Endpoint: cfg.endpoint, OAuthDomain: cfg.endpoint,
		Origin: cfg.origin,
	}
}

// hello is the handler both routes serve.
var hello = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	name := "anonymous"
	if s := session.FromContext(r.Context()); s != nil {
		name = s.Username
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = io.WriteString(w, name)
})

// newApp is the benchmarked handler: /bare without the session layer,
// /mw with it.
func newApp(cfg session.Config) (http.Handler, error) {
	m, err := session.New(cfg)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("GET /bare", hello)
	mux.Handle("GET /mw", m.Middleware(hello))
	return mux, nil
}

func serve(ctx context.Context, cfg config) error {
	h, err := newApp(cfg.sessionConfig())
	if err != nil {
		return err
	}
	ln, err := listenLoopback(cfg.addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(slog.NewTextHandler(os.Stderr, nil), slog.LevelWarn)}
	errc := make(chan error, 2)
	go func() { errc <- srv.Serve(ln) }()
	if cfg.pprofAddr != "" {
		pln, err := listenLoopback(cfg.pprofAddr)
		if err != nil {
			srv.Close()
			return err
		}
		mux := http.NewServeMux()
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		psrv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
		defer psrv.Close()
		go func() { errc <- psrv.Serve(pln) }()
	}
	select {
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		return srv.Shutdown(sctx)
	case err := <-errc:
		srv.Close()
		return err
	}
}

// listenLoopback listens on addr, which must be a loopback IP and port.
func listenLoopback(addr string) (net.Listener, error) {
	host, _, err := net.SplitHostPort(addr)
	if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
		return nil, fmt.Errorf("%w: %s: listen on a loopback IP only", errUsage, addr)
	}
	return net.Listen("tcp", addr)
}

func freePort(out io.Writer) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	port := ln.Addr().(*net.TCPAddr).Port
	if err := ln.Close(); err != nil {
		return err
	}
	_, err = fmt.Fprintln(out, port)
	return err
}

// newIssuer is the client -signin uses.
func newIssuer(cfg config, hc *http.Client) (*issuerclient.Client, error) {
	return issuerclient.New(issuerclient.Config{UserPoolID: cfg.pool, ClientID: cfg.client, Endpoint: cfg.endpoint, HTTPClient: hc})
}
