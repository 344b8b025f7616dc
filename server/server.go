// Package server wires Cognate together: configuration → storage → the
// user-pool domain → the HTTP protocols, on an HTTP and an HTTPS listener
// with health, metrics and graceful shutdown.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/cognate-auth/cognate/cognitoapi"
	"github.com/cognate-auth/cognate/keys"
	"github.com/cognate-auth/cognate/mail"
	"github.com/cognate-auth/cognate/oauth"
	"github.com/cognate-auth/cognate/ratelimit"
	"github.com/cognate-auth/cognate/storage"
	"github.com/cognate-auth/cognate/storage/sqlite"
	"github.com/cognate-auth/cognate/userpool"
)

// Server is a configured Cognate instance.
type Server struct {
	cfg     Config
	log     *slog.Logger
	store   storage.Storage
	svc     *userpool.Service
	handler http.Handler
	tls     *tlsSetup // nil with HTTPS off
	// Pool and Client are the pool and app client the outputs file names.
	Pool   storage.Pool
	Client storage.Client
	// Admin are the credentials admin operations must be signed with.
	Admin AdminCredentials
}

// New opens the data directory, creates the default (or configured)
// pools, writes amplify_outputs.json and prints the banner.
func New(ctx context.Context, cfg Config) (*Server, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	var fc *FileConfig
	if cfg.ConfigFile != "" {
		var err error
		if fc, err = loadFileConfig(cfg.ConfigFile); err != nil {
			return nil, err
		}
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	store, err := sqlite.Open(ctx, filepath.Join(cfg.DataDir, "cognate.db"), sqlite.Options{Logger: cfg.Logger})
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, log: cfg.Logger, store: store}
	if err := s.init(ctx, fc); err != nil {
		store.Close()
		return nil, err
	}
	return s, nil
}

func (s *Server) init(ctx context.Context, fc *FileConfig) error {
	cfg := &s.cfg
	var sender userpool.Sender
	if cfg.SMTPURL != "" {
		m, err := mail.NewSMTP(cfg.SMTPURL, cfg.Logger)
		if err != nil {
			return err
		}
		sender = m
	}
	km := keys.NewManager(s.store, keys.Options{Logger: cfg.Logger})
	svc, err := userpool.New(ctx, userpool.Options{
		Storage: s.store, Keys: km, Sender: sender, Logger: cfg.Logger, IssuerBase: cfg.PublicURL,
	})
	if err != nil {
		return err
	}
	s.svc = svc
	if s.Pool, s.Client, err = ensurePools(ctx, svc, s.store, fc); err != nil {
		return err
	}
	if err := km.EnsurePoolKeys(ctx, s.Pool.ID); err != nil {
		return err
	}
	if err := writeOutputs(cfg.DataDir, s.Pool, s.Client); err != nil {
		return fmt.Errorf("write amplify_outputs.json: %w", err)
	}
	if s.Admin, err = adminCredentials(cfg); err != nil {
		return err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	trusted, err := parseCIDRs(cfg.TrustedProxies)
	if err != nil {
		return err
	}
	var limiter *ratelimit.Limiter
	if cfg.GuessRate > 0 {
		limiter = &ratelimit.Limiter{Rate: cfg.GuessRate, Burst: cfg.GuessBurst}
	}
	api := cognitoapi.New(cognitoapi.Options{
		GuessLimiter: limiter, ClientAddr: clientAddr(trusted, cfg.Production),
		Service: svc, Logger: cfg.Logger, Registerer: reg,
		Credentials: func(id string) (string, bool) {
			return s.Admin.SecretAccessKey, id == s.Admin.AccessKeyID
		},
	})
	hosted := oauth.New(oauth.Options{
		Service: svc, Logger: cfg.Logger, Registerer: reg, PublicURL: cfg.PublicURL,
		GuessLimiter: limiter, ClientAddr: clientAddr(trusted, cfg.Production),
	})
	s.handler = s.routes(api, hosted, reg)
	if s.tls, err = setupTLS(cfg); err != nil {
		return err
	}
	printBanner(cfg.Out, cfg, s.Pool, s.Client, s.Admin, cfg.AdminAccessKeyID == "", s.tls)
	return nil
}

// Handler is everything the server answers, for in-process use and tests.
func (s *Server) Handler() http.Handler { return s.handler }

// Service is the user-pool domain the server runs.
func (s *Server) Service() *userpool.Service { return s.svc }

// Close releases the database.
func (s *Server) Close() error { return s.store.Close() }

// ListenAndServe serves HTTP on Config.Addr and, unless TLSAddr is
// TLSOff, HTTPS on Config.TLSAddr, until ctx is done; then it shuts down
// gracefully: in-flight requests get up to 10 seconds to finish.
func (s *Server) ListenAndServe(ctx context.Context) error {
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return err
	}
	var tlsLn net.Listener
	if s.tls != nil {
		if tlsLn, err = net.Listen("tcp", s.cfg.TLSAddr); err != nil {
			ln.Close()
			return fmt.Errorf("%w (--tls-addr takes another address, or off for HTTP only)", err)
		}
	}
	return s.Serve(ctx, ln, tlsLn)
}

// Serve is ListenAndServe on existing listeners: plain HTTP on ln and
// HTTPS on tlsLn, with the same handler. Either may be nil, not both; an
// HTTPS listener needs HTTPS on (TLSAddr not TLSOff). Each listener is
// logged as "listening" with its addr and scheme. If one listener fails,
// the other is shut down too and the error returned.
func (s *Server) Serve(ctx context.Context, ln, tlsLn net.Listener) error {
	if ln == nil && tlsLn == nil {
		return errors.New("serve: no listener")
	}
	if tlsLn != nil && s.tls == nil {
		return errors.New("serve: an HTTPS listener needs HTTPS on, but --tls-addr is off")
	}
	hs := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	if tlsLn != nil {
		hs.TLSConfig = s.tls.config
	}
	errc := make(chan error, 2)
	running := 0
	if ln != nil {
		running++
		s.log.Info("listening", "addr", ln.Addr().String(), "scheme", "http")
		go func() { errc <- hs.Serve(ln) }()
	}
	if tlsLn != nil {
		running++
		s.log.Info("listening", "addr", tlsLn.Addr().String(), "scheme", "https")
		// The certificate is in TLSConfig; ServeTLS adds HTTP/2.
		go func() { errc <- hs.ServeTLS(tlsLn, "", "") }()
	}
	gcCtx, stopGC := context.WithCancel(ctx)
	gcDone := make(chan struct{})
	go func() { defer close(gcDone); s.collectGarbage(gcCtx, time.Hour) }()
	defer func() { stopGC(); <-gcDone }()
	var failed error
	select {
	case failed = <-errc:
		running--
	case <-ctx.Done():
	}
	s.log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil && failed == nil {
		failed = fmt.Errorf("shutdown: %w", err)
	}
	for ; running > 0; running-- {
		if err := <-errc; failed == nil && !errors.Is(err, http.ErrServerClosed) {
			failed = err
		}
	}
	return failed
}

// collectGarbage deletes expired codes and refresh tokens now and then
// every interval, until ctx is done. Expired records are already refused;
// this only keeps the database from growing without bound.
func (s *Server) collectGarbage(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		res, err := s.store.GarbageCollect(ctx, time.Now())
		switch {
		case err != nil && ctx.Err() == nil:
			s.log.Warn("garbage collection failed", "err", err)
		case err == nil && res.Codes+res.RefreshTokens+res.RefreshFamilies > 0:
			s.log.Info("garbage collected", "codes", res.Codes, "refresh_tokens", res.RefreshTokens, "refresh_families", res.RefreshFamilies)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
