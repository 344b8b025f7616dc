package main

import (
	"context"
	"flag"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/cognate-auth/cognate/events"
	"github.com/cognate-auth/cognate/internal/reqid"
	"github.com/cognate-auth/cognate/server"
)

func serve(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg server.Config
	var logFormat, logLevel string
	fs.StringVar(&cfg.Addr, "addr", server.DefaultAddr, "HTTP listen address")
	fs.StringVar(&cfg.TLSAddr, "tls-addr", server.DefaultTLSAddr, `HTTPS listen address ("off": HTTP only)`)
	fs.StringVar(&cfg.TLSCert, "tls-cert", "", "PEM certificate (chain) to serve HTTPS with, instead of one from a local CA generated under <data>/tls")
	fs.StringVar(&cfg.TLSKey, "tls-key", "", "PEM private key of --tls-cert")
	fs.StringVar(&cfg.DataDir, "data", server.DefaultDataDir, "data directory (the SQLite database unless --storage names another, generated files)")
	fs.StringVar(&cfg.Storage, "storage", "", `where records live: "" or sqlite for SQLite in --data; postgres://user:pass@host:5432/db for PostgreSQL, shared by every node started with the same URL (then --admin-access-key-id and --admin-secret-access-key are required)`)
	fs.IntVar(&cfg.StorageMaxConns, "storage-max-conns", 0, "PostgreSQL connections this node may open (0: the backend's default); keep the sum over all nodes under the server's max_connections")
	fs.DurationVar(&cfg.StorageStatementTimeout, "storage-statement-timeout", 0, "PostgreSQL: longest a statement may run before it fails and its request gets a retryable error (0: the backend's default)")
	fs.StringVar(&cfg.BrokerPrefix, "broker-prefix", "", `start of every subject (NATS) or channel (Redis) name, so installations can share a broker (default "cognate." / "cognate:"; the same on every node)`)
	fs.StringVar(&cfg.Broker, "broker", server.BrokerMemory, "how published events reach the other nodes' subscribers: memory (this process only), nats://host:4222 or redis://host:6379/0 (shared by every node)")
	fs.StringVar(&cfg.ConfigFile, "config", "", "optional JSON file declaring pools and app clients")
	fs.StringVar(&cfg.PublicURL, "public-url", server.DefaultPublicURL, "URL clients reach this server at; token issuers derive from it")
	fs.BoolVar(&cfg.Production, "production", false, "turn off development conveniences; requires --smtp-url")
	fs.StringVar(&cfg.AdminAccessKeyID, "admin-access-key-id", "", "access key id for SigV4-signed admin operations (with SQLite, generated into <data>/admin-credentials.json if empty; required with any other --storage)")
	fs.StringVar(&cfg.AdminSecretAccessKey, "admin-secret-access-key", "", "secret access key for admin operations (16+ characters)")
	fs.StringVar(&cfg.SMTPURL, "smtp-url", "", "deliver codes by mail: smtp://user:pass@host:587?from=no-reply@example.com")
	fs.Float64Var(&cfg.GuessRate, "guess-rate", server.DefaultGuessRate, "sign-in and code attempts per second per client address (negative: no limit)")
	fs.IntVar(&cfg.GuessBurst, "guess-burst", server.DefaultGuessBurst, "attempts a client address may make at once before --guess-rate applies")
	fs.StringVar(&cfg.TrustedProxies, "trusted-proxies", "", "comma-separated proxy CIDRs whose X-Forwarded-For names the client")
	fs.StringVar(&cfg.DemoAddr, "demo-addr", server.DefaultDemoAddr, `demo app listen address ("off": no demo; always off with --production)`)
	fs.StringVar(&cfg.MetricsAddr, "metrics-addr", server.DefaultMetricsAddr, `listen address of Prometheus /metrics and of /healthz and /readyz (200, or 503 when storage does not answer within 2s: for load balancers), kept off the API listeners ("off": none)`)
	fs.StringVar(&cfg.DemoClientBundle, "demo-client-bundle", "", "directory whose app.js (an aws-amplify bundle) the demo serves at /amplify/app.js")
	fs.BoolVar(&cfg.WebhookAllowPrivate, "webhook-allow-private", false, "let trigger webhooks live at private and link-local addresses (and loopback with --production)")
	fs.DurationVar(&cfg.WebhookTimeout, "webhook-timeout", 0, "longest a trigger webhook call may take (0: Cognito's 5s)")
	fs.StringVar(&cfg.SMSWebhookURL, "sms-webhook-url", "", "send text messages (SMS codes) to this webhook, signed with the key in COGNATE_SMS_WEBHOOK_SECRET")
	fs.DurationVar(&cfg.TokenLifetime, "token-lifetime", 0, "development: every access and id token lives this long (e.g. 30s), to exercise expiry")
	fs.DurationVar(&cfg.EventsKeepAlive, "events-keepalive", 60*time.Second, "interval of the events WebSocket keep-alive (ka) message")
	fs.StringVar(&cfg.EventsOrigins, "events-origins", "*", "origins allowed to open events WebSockets (comma-separated host patterns)")
	fs.IntVar(&cfg.EventsMaxConnections, "events-max-connections", events.DefaultMaxConnections, "events WebSocket connections open at once (-1: no cap; the config file's Events.maxConnections wins)")
	fs.IntVar(&cfg.EventsMaxConnectionsPerAddress, "events-max-connections-per-address", events.DefaultMaxConnectionsPerAddress, "events WebSocket connections one client address may hold open (-1: no cap; Events.maxConnectionsPerAddress wins)")
	fs.IntVar(&cfg.EventsMaxConnectionsPerAPIKey, "events-max-connections-per-api-key", events.DefaultMaxConnectionsPerAPIKey, "events WebSocket connections one API key may hold open (-1: no cap; Events.maxConnectionsPerApiKey wins)")
	fs.StringVar(&logFormat, "log-format", "text", "log format: text or json")
	fs.StringVar(&logLevel, "log-level", "info", "log level: debug, info, warn, error")
	fs.Usage = func() {
		io.WriteString(stderr, "usage: cognate serve [flags]\n\nEvery flag can also be set as COGNATE_<FLAG>, e.g. COGNATE_PUBLIC_URL.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := envDefaults(fs); err != nil {
		return err
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(logLevel)); err != nil {
		return err
	}
	hopts := &slog.HandlerOptions{Level: level}
	var h slog.Handler = slog.NewTextHandler(stderr, hopts)
	if logFormat == "json" {
		h = slog.NewJSONHandler(stderr, hopts)
	}
	cfg.Logger = slog.New(reqid.Handler{Handler: h})
	cfg.Out = stdout
	// A key, unlike the other settings, never goes on the command line.
	cfg.SMSWebhookSecret = []byte(os.Getenv("COGNATE_SMS_WEBHOOK_SECRET"))
	srv, err := server.New(ctx, cfg)
	if err != nil {
		return err
	}
	defer srv.Close()
	return srv.ListenAndServe(ctx)
}
