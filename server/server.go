// Package server wires Cognate together: configuration → storage → the
// user-pool domain → the HTTP protocols, on an HTTP and an HTTPS listener
// with health checks and graceful shutdown, and metrics on a listener of
// their own.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/cognate-auth/cognate/broker"
	"github.com/cognate-auth/cognate/broker/brokers"
	"github.com/cognate-auth/cognate/cognitoapi"
	"github.com/cognate-auth/cognate/events"
	"github.com/cognate-auth/cognate/internal/mail"
	"github.com/cognate-auth/cognate/internal/ratelimit"
	"github.com/cognate-auth/cognate/internal/redact"
	"github.com/cognate-auth/cognate/keys"
	"github.com/cognate-auth/cognate/oauth"
	"github.com/cognate-auth/cognate/storage"
	"github.com/cognate-auth/cognate/storage/backends"
	"github.com/cognate-auth/cognate/storage/postgres"
	"github.com/cognate-auth/cognate/triggers"
	"github.com/cognate-auth/cognate/userpool"
)

// Server is a configured Cognate instance.
type Server struct {
	cfg   Config
	log   *slog.Logger
	store storage.Storage
	// broker carries published events to the other nodes (Config.Broker).
	broker  broker.Broker
	svc     *userpool.Service
	handler http.Handler
	tls     *tlsSetup // nil with HTTPS off
	hub     *events.Hub
	demo    http.Handler // nil with the demo off
	// trusted are the proxies --trusted-proxies declares.
	trusted []netip.Prefix
	// outboxKey unlocks the development outbox ("" in production).
	outboxKey string
	// metrics serves the metrics listener; nil with it off.
	metrics http.Handler
	// headerTimeout bounds the arrival of a request's header, over
	// HTTP/1.1 and HTTP/2 alike.
	headerTimeout time.Duration
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
	// Before storage: a node of a shared database without the shared
	// credentials must not start at all.
	admin, err := adminCredentials(&cfg)
	if err != nil {
		return nil, err
	}
	store, err := backends.Open(ctx, backends.Options{
		URL: cfg.Storage, DataDir: cfg.DataDir, Logger: cfg.Logger,
		Postgres: postgres.Options{MaxConns: int32(cfg.StorageMaxConns), StatementTimeout: cfg.StorageStatementTimeout},
	})
	if err != nil {
		return nil, redact.Error(err, "--storage", cfg.Storage)
	}
	b, err := brokers.Open(ctx, cfg.Broker, brokers.Options{Logger: cfg.Logger, Prefix: cfg.BrokerPrefix})
	if err != nil {
		store.Close()
		return nil, redact.Error(err, "--broker", cfg.Broker)
	}
	if !sqliteStorage(cfg.Storage) && (cfg.Broker == "" || cfg.Broker == BrokerMemory) {
		// Legitimate for one node on PostgreSQL; with several, events
		// would never leave the node they were published on.
		cfg.Logger.Warn("shared storage with the in-process broker: events published on this node reach only its own subscribers; give every node the same --broker (nats:// or redis://) to run several")
	}
	s := &Server{cfg: cfg, log: cfg.Logger, store: store, broker: b, headerTimeout: 10 * time.Second, Admin: admin}
	if err := s.init(ctx, fc); err != nil {
		s.Close()
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
	fed, err := federationRegistry(*cfg, s.store)
	if err != nil {
		return err
	}
	hooks := triggers.New(triggers.Options{Timeout: cfg.WebhookTimeout, AllowPrivate: cfg.WebhookAllowPrivate, Production: cfg.Production})
	sms, err := newSMSWebhook(hooks, cfg.SMSWebhookURL, cfg.SMSWebhookSecret)
	if err != nil {
		return err
	}
	opts := userpool.Options{
		Storage: s.store, Keys: km, Sender: sender, Logger: cfg.Logger, IssuerBase: cfg.PublicURL,
		TokenLifetime: cfg.TokenLifetime, Region: defaultRegion, Lockout: cfg.Lockout, Federation: fed,
		PasskeyLocalHTTP: !cfg.Production, Invoker: hooks,
	}
	if sms != nil {
		opts.SMSSender = sms
	}
	svc, err := userpool.New(ctx, opts)
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
	regions, err := poolRegions(ctx, s.store)
	if err != nil {
		return err
	}
	if s.tls, err = setupTLS(cfg); err != nil {
		return err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	ev, realtime, err := s.initEvents(ctx, fc, reg)
	if err != nil {
		return err
	}
	if err := writeOutputs(cfg.DataDir, cfg.PublicURL, svc.Issuer(s.Pool.ID), s.Pool, s.Client, ev); err != nil {
		return fmt.Errorf("write amplify_outputs.json: %w", err)
	}
	trusted, err := parseCIDRs(cfg.TrustedProxies)
	if err != nil {
		return err
	}
	s.trusted = trusted
	if !cfg.Production {
		if s.outboxKey, err = loadOutboxKey(cfg.DataDir); err != nil {
			return err
		}
	}
	limiter := guessLimiter(cfg, s.store)
	api := cognitoapi.New(cognitoapi.Options{
		GuessLimiter: limiter, ClientAddr: clientAddr(trusted, cfg.Production),
		Service: svc, Logger: cfg.Logger, Registerer: reg, Regions: regions,
		Credentials: func(id string) (string, bool) {
			return s.Admin.SecretAccessKey, id == s.Admin.AccessKeyID
		},
	})
	hosted := oauth.New(oauth.Options{
		Service: svc, Pools: s.store, Logger: cfg.Logger, Registerer: reg, PublicURL: cfg.PublicURL,
		GuessLimiter: limiter, ClientAddr: clientAddr(trusted, cfg.Production), Federation: fed,
	})
	s.handler = s.routes(api, hosted, realtime, reg)
	if cfg.MetricsAddr != MetricsOff {
		s.metrics = s.metricsRoutes(reg)
	}
	demoURL, err := s.initDemo(ctx)
	if err != nil {
		return err
	}
	printBanner(cfg.Out, cfg, banner{
		pool: s.Pool, client: s.Client, creds: s.Admin, credsFromFile: cfg.AdminAccessKeyID == "" && sqliteStorage(cfg.Storage),
		tls: s.tls, events: ev, demoURL: demoURL, outboxKey: s.outboxKey,
	})
	return nil
}

// defaultRegion prefixes the ids of the pools the server generates.
const defaultRegion = "us-east-1"

// poolRegions are the regions the server answers for: the one it
// generates pool ids in and those of the stored pools' ids. Admin requests
// signed for any other region are refused, as AWS's regional endpoints
// refuse them.
func poolRegions(ctx context.Context, store storage.Storage) ([]string, error) {
	pools, err := store.ListPools(ctx)
	if err != nil {
		return nil, fmt.Errorf("pool regions: %w", err)
	}
	regions := []string{defaultRegion}
	for _, p := range pools {
		if r, _, ok := strings.Cut(p.ID, "_"); ok && !slices.Contains(regions, r) {
			regions = append(regions, r)
		}
	}
	return regions, nil
}

// Handler is everything the server answers, for in-process use and tests.
func (s *Server) Handler() http.Handler { return s.handler }

// MetricsHandler is what the metrics listener answers (nil with it off):
// /metrics, /healthz and /readyz.
func (s *Server) MetricsHandler() http.Handler { return s.metrics }

// DemoHandler is the demo app (nil with the demo off), for tests that
// serve it on a listener of their own.
func (s *Server) DemoHandler() http.Handler { return s.demo }

// Service is the user-pool domain the server runs.
func (s *Server) Service() *userpool.Service { return s.svc }

// Close releases the broker and the database.
func (s *Server) Close() error { return errors.Join(s.broker.Close(), s.store.Close()) }

// ListenAndServe serves HTTP on Config.Addr, HTTPS on Config.TLSAddr
// (unless TLSOff), the demo app on Config.DemoAddr (unless DemoOff) and
// metrics on Config.MetricsAddr (unless MetricsOff), until ctx is done;
// then it shuts down gracefully: in-flight requests get up to 10 seconds
// to finish.
func (s *Server) ListenAndServe(ctx context.Context) error {
	var ls Listeners
	var err error
	defer func() {
		if err != nil {
			ls.close()
		}
	}()
	if ls.HTTP, err = net.Listen("tcp", s.cfg.Addr); err != nil {
		return err
	}
	if s.tls != nil {
		if ls.HTTPS, err = net.Listen("tcp", s.cfg.TLSAddr); err != nil {
			return fmt.Errorf("%w (--tls-addr takes another address, or off for HTTP only)", err)
		}
	}
	if s.demo != nil {
		if ls.Demo, err = net.Listen("tcp", s.cfg.DemoAddr); err != nil {
			return fmt.Errorf("%w (--demo-addr takes another address, or off for no demo)", err)
		}
	}
	if s.metrics != nil {
		if ls.Metrics, err = net.Listen("tcp", s.cfg.MetricsAddr); err != nil {
			return fmt.Errorf("%w (--metrics-addr takes another address, or off for no metrics listener)", err)
		}
	}
	return s.ServeListeners(ctx, ls)
}

// Listeners are what ServeListeners serves on; nil ones are skipped.
type Listeners struct {
	HTTP  net.Listener // the API, plain HTTP
	HTTPS net.Listener // the API, HTTPS (needs TLSAddr not TLSOff)
	Demo  net.Listener // the demo app (needs DemoAddr not DemoOff)
	// Metrics serves /metrics, /healthz and /readyz (needs MetricsAddr
	// not MetricsOff).
	Metrics net.Listener
}

func (ls Listeners) close() {
	for _, l := range []net.Listener{ls.HTTP, ls.HTTPS, ls.Demo, ls.Metrics} {
		if l != nil {
			l.Close()
		}
	}
}

// Serve is ServeListeners with the API's HTTP and HTTPS listeners only.
func (s *Server) Serve(ctx context.Context, ln, tlsLn net.Listener) error {
	return s.ServeListeners(ctx, Listeners{HTTP: ln, HTTPS: tlsLn})
}

// ServeListeners serves the API on ls.HTTP and ls.HTTPS, the demo app on
// ls.Demo and metrics on ls.Metrics. At least one must be given. Each listener is logged as
// "listening" with its addr and scheme. If one fails, the others are shut
// down too and the error returned.
func (s *Server) ServeListeners(ctx context.Context, ls Listeners) error {
	if ls.HTTP == nil && ls.HTTPS == nil && ls.Demo == nil && ls.Metrics == nil {
		return errors.New("serve: no listener")
	}
	if ls.HTTPS != nil && s.tls == nil {
		return errors.New("serve: an HTTPS listener needs HTTPS on, but --tls-addr is off")
	}
	if ls.Demo != nil && s.demo == nil {
		return errors.New("serve: a demo listener needs the demo on, but --demo-addr is off")
	}
	if ls.Metrics != nil && s.metrics == nil {
		return errors.New("serve: a metrics listener needs metrics on, but --metrics-addr is off")
	}
	api := s.httpServer(ctx, s.handler)
	if ls.HTTPS != nil {
		// A copy: configuring HTTP/2 edits its NextProtos.
		api.TLSConfig = s.tls.config.Clone()
		if err := configureHTTP2(api); err != nil {
			return err
		}
	}
	demo := s.httpServer(ctx, s.demo)
	metrics := s.httpServer(ctx, s.metrics)
	errc := make(chan error, 4)
	running := 0
	start := func(l net.Listener, scheme string, serve func() error) {
		if l == nil {
			return
		}
		running++
		s.log.Info("listening", "addr", l.Addr().String(), "scheme", scheme)
		go func() { errc <- serve() }()
	}
	start(ls.HTTP, "http", func() error { return api.Serve(ls.HTTP) })
	// The certificate is in TLSConfig.
	start(ls.HTTPS, "https", func() error { return api.ServeTLS(ls.HTTPS, "", "") })
	start(ls.Demo, "http (demo app)", func() error { return demo.Serve(ls.Demo) })
	start(ls.Metrics, "http (metrics)", func() error { return metrics.Serve(ls.Metrics) })
	// Background work: garbage collection, and the delivery of queued
	// codes (nothing to do with the development outbox).
	bgCtx, stopBG := context.WithCancel(ctx)
	var bg sync.WaitGroup
	bg.Go(func() { s.collectGarbage(bgCtx, time.Hour) })
	bg.Go(func() { s.svc.RunDelivery(bgCtx) })
	bg.Go(func() { s.svc.RunImports(bgCtx) })
	defer func() { stopBG(); bg.Wait() }()
	var failed error
	select {
	case failed = <-errc:
		running--
	case <-ctx.Done():
	}
	s.log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s.closeRealtime(sctx)
	for _, hs := range []*http.Server{api, demo, metrics} {
		if err := hs.Shutdown(sctx); err != nil && failed == nil {
			failed = fmt.Errorf("shutdown: %w", err)
		}
	}
	for ; running > 0; running-- {
		if err := <-errc; failed == nil && !errors.Is(err, http.ErrServerClosed) {
			failed = err
		}
	}
	return failed
}

// httpServer is an http.Server with Cognate's limits for handler h. The
// events WebSocket is not bound by them: net/http clears a connection's
// deadlines when it is hijacked.
func (s *Server) httpServer(ctx context.Context, h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: s.headerTimeout,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
}

// collectGarbage deletes expired records (codes, refresh tokens, attempt
// counters, delivered messages) now and then every interval, until ctx is done. Expired records are already refused;
// this only keeps the database from growing without bound.
// guessLimiter is the per-address limit on guesses (nil when off): in
// this process on SQLite, in storage when nodes share a database, or N
// nodes would allow N times the rate.
func guessLimiter(cfg *Config, store storage.RateLimits) ratelimit.Allower {
	if cfg.GuessRate <= 0 {
		return nil
	}
	local := &ratelimit.Limiter{Rate: cfg.GuessRate, Burst: cfg.GuessBurst}
	if sqliteStorage(cfg.Storage) {
		return local
	}
	return &ratelimit.Shared{Store: store, Rate: cfg.GuessRate, Burst: cfg.GuessBurst,
		Prefix: "guess/", Fallback: local, Logger: cfg.Logger}
}

func (s *Server) collectGarbage(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		res, err := s.store.GarbageCollect(ctx, time.Now())
		switch {
		case err != nil && ctx.Err() == nil:
			s.log.Warn("garbage collection failed", "err", err)
		case err == nil && res != (storage.GCResult{}):
			s.log.Info("garbage collected", "codes", res.Codes, "auth_codes", res.AuthCodes,
				"login_sessions", res.LoginSessions, "refresh_tokens", res.RefreshTokens,
				"refresh_families", res.RefreshFamilies, "attempt_counters", res.Attempts, "messages", res.Messages,
				"srp_claims", res.Claims, "rate_buckets", res.RateLimits)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
