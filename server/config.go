package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/url"
	"os"
	"time"

	"github.com/cognate-auth/cognate/events"
	"github.com/cognate-auth/cognate/userpool"
)

// Config is what `cognate serve` runs with. The zero value of every
// optional field is a working development default.
type Config struct {
	// Addr is the HTTP listen address.
	Addr string
	// TLSAddr is the HTTPS listen address; TLSOff serves plain HTTP only.
	TLSAddr string
	// TLSCert and TLSKey are PEM files holding a certificate (followed by
	// any intermediates) and its private key to serve HTTPS with. Both or
	// neither: without them, a local CA and a certificate for localhost
	// are generated under <DataDir>/tls (see package devcert).
	TLSCert, TLSKey string
	// DataDir holds the SQLite database (unless Storage names another) and
	// generated files: amplify_outputs.json, admin-credentials.json (SQLite
	// only), the development events key and outbox key, and the local CA.
	DataDir string
	// Storage is where the records live: "" or StorageSQLite for the
	// embedded SQLite database in DataDir, or a postgres:// URL for a
	// PostgreSQL database. Nodes started with the same PostgreSQL URL are
	// interchangeable, whatever their DataDirs hold; they need the same
	// admin credentials (AdminAccessKeyID and AdminSecretAccessKey).
	Storage string
	// StorageMaxConns bounds the PostgreSQL connections this node opens
	// (0: the backend's default). The sum over all nodes must stay under
	// the server's max_connections.
	StorageMaxConns int
	// StorageStatementTimeout bounds each PostgreSQL statement, so that a
	// stuck query fails (and its request is retried) instead of holding a
	// connection (0: the backend's default).
	StorageStatementTimeout time.Duration
	// Broker carries published events between nodes: "" or BrokerMemory
	// for this process only (one node), or a nats:// or redis:// URL that
	// every node shares.
	Broker string
	// BrokerPrefix starts every subject or channel name on a network
	// broker, so that several installations can share one ("": the
	// broker's default, "cognate." or "cognate:"). Every node of one
	// installation needs the same.
	BrokerPrefix string
	// ConfigFile optionally declares pools and app clients (see FileConfig).
	ConfigFile string
	// PublicURL is the base URL clients reach the server at; issuers
	// derive from it.
	PublicURL string
	// Production turns off development conveniences (the outbox page) and
	// requires real mail delivery.
	Production bool

	// AdminAccessKeyID and AdminSecretAccessKey are the credentials
	// SigV4-signed admin operations must use. Empty with SQLite storage:
	// generated on first start into <DataDir>/admin-credentials.json.
	// Required with any other storage, where every node must agree.
	AdminAccessKeyID     string
	AdminSecretAccessKey string
	// SMTPURL configures mail delivery: smtp://user:pass@host:port?from=addr
	// (STARTTLS when offered) or smtps:// for implicit TLS.
	SMTPURL string

	// GuessRate and GuessBurst limit, per client address, operations that
	// test a password or a code (sign-in, confirmation, reset): GuessRate
	// per second after a burst of GuessBurst. A negative GuessRate turns
	// the limit off; zero means the defaults.
	GuessRate  float64
	GuessBurst int
	// TrustedProxies lists proxies (CIDRs, comma-separated) whose
	// X-Forwarded-For names the client. A declared proxy's address is
	// never treated as this machine.
	TrustedProxies string
	// Lockout is the per-user password-guessing policy; zero means
	// Cognito's (the fifth consecutive failure locks for 1 s, each
	// further one for twice as long, up to 15 minutes).
	Lockout userpool.LockoutPolicy
	// MetricsAddr is where /metrics (and /healthz) are served, apart from
	// the API listeners so that only those who can reach it read them
	// (MetricsOff: nowhere).
	MetricsAddr string

	// DemoAddr is where the demo app listens (DemoOff: no demo). The demo
	// never runs with Production.
	DemoAddr string
	// DemoClientBundle optionally names a directory whose app.js (an
	// aws-amplify bundle) the demo serves at /amplify/app.js.
	DemoClientBundle string
	// TokenLifetime, when positive, shortens every access and id token to
	// this life (development only: testing expiry in real clients).
	TokenLifetime time.Duration
	// WebhookAllowPrivate lets trigger webhooks live at private,
	// link-local and (with Production) loopback addresses.
	WebhookAllowPrivate bool
	// WebhookTimeout bounds one trigger webhook call; zero means
	// Cognito's 5 s.
	WebhookTimeout time.Duration
	// SMSWebhookURL, when set, receives every text message (SMS codes),
	// signed with SMSWebhookSecret like the trigger webhooks; without
	// it, text messages go to the development outbox (or, with SMTP
	// delivery, wait undelivered).
	SMSWebhookURL    string
	SMSWebhookSecret []byte
	// EventsKeepAlive is the events WebSocket's ka interval; zero means
	// 60 s.
	EventsKeepAlive time.Duration
	// EventsOrigins lists the origins allowed to open events WebSockets
	// (comma-separated host patterns, "*" for any; empty means any). The
	// socket is authorized by the token or key in each message, never by
	// cookies, so any origin is safe by default.
	EventsOrigins string
	// EventsMaxConnections, EventsMaxConnectionsPerAddress and
	// EventsMaxConnectionsPerAPIKey cap the events WebSocket connections
	// open at once: in all, from one client address (as the per-address
	// guess limit names it, honouring TrustedProxies), and authorized by
	// one API key. A value the config file's Events member sets wins;
	// zero means the default (see events.Config), -1 no cap.
	EventsMaxConnections           int
	EventsMaxConnectionsPerAddress int
	EventsMaxConnectionsPerAPIKey  int

	Logger *slog.Logger
	// Out receives the start-up banner; nil means os.Stdout.
	Out io.Writer
}

// Defaults for Config.
const (
	DefaultAddr      = "127.0.0.1:9229"
	DefaultTLSAddr   = "127.0.0.1:9443"
	DefaultDataDir   = "./cognate-data"
	DefaultPublicURL = "http://localhost:9229"
	// TLSOff as TLSAddr turns HTTPS off.
	TLSOff = "off"
	// DefaultDemoAddr is the demo app's address; DemoOff turns it off.
	DefaultDemoAddr = "127.0.0.1:3000"
	DemoOff         = "off"
	// DefaultMetricsAddr is the metrics listener's address, loopback only;
	// MetricsOff turns it off.
	DefaultMetricsAddr = "127.0.0.1:9230"
	MetricsOff         = "off"
	// StorageSQLite as Storage is the embedded SQLite database in DataDir,
	// as is "".
	StorageSQLite = "sqlite"
	// BrokerMemory as Broker keeps events in this process, as does "".
	BrokerMemory = "memory"
	// A person signing in needs a handful of attempts; a guesser needs
	// thousands. Amplify backs off and retries on TooManyRequestsException,
	// so a throttled person is slowed, not failed.
	DefaultGuessRate  = 5
	DefaultGuessBurst = 30
)

func (c *Config) setDefaults() error {
	if c.Addr == "" {
		c.Addr = DefaultAddr
	}
	if c.TLSAddr == "" {
		c.TLSAddr = DefaultTLSAddr
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return errors.New("--tls-cert and --tls-key go together")
	}
	if c.TLSAddr == TLSOff && c.TLSCert != "" {
		return errors.New("--tls-cert and --tls-key need HTTPS on, but --tls-addr is off")
	}
	if c.DataDir == "" {
		c.DataDir = DefaultDataDir
	}
	if c.StorageMaxConns < 0 || c.StorageMaxConns > math.MaxInt32 {
		return errors.New("--storage-max-conns must be between 0 and 2147483647")
	}
	if c.StorageStatementTimeout < 0 {
		return errors.New("--storage-statement-timeout must not be negative")
	}
	if c.PublicURL == "" {
		c.PublicURL = DefaultPublicURL
	}
	u, err := url.Parse(c.PublicURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("--public-url %q: want an absolute http(s) URL without query or fragment", c.PublicURL)
	}
	if c.Production && c.SMTPURL == "" {
		return errors.New("--production requires --smtp-url: codes must reach real inboxes")
	}
	if c.DemoAddr == "" {
		c.DemoAddr = DefaultDemoAddr
	}
	if c.MetricsAddr == "" {
		c.MetricsAddr = DefaultMetricsAddr
	}
	if c.Production {
		c.DemoAddr = DemoOff
		if c.TokenLifetime > 0 {
			return errors.New("--token-lifetime is a development aid and is refused with --production")
		}
	}
	if c.TokenLifetime < 0 || (c.TokenLifetime > 0 && c.TokenLifetime < 5*time.Second) {
		return errors.New("--token-lifetime must be at least 5s (or 0 for the app clients' settings)")
	}
	if c.GuessRate == 0 {
		c.GuessRate = DefaultGuessRate
	}
	if c.GuessBurst <= 0 {
		c.GuessBurst = DefaultGuessBurst
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Out == nil {
		c.Out = os.Stdout
	}
	return nil
}

// FileConfig is the --config file: pools and their app clients, written
// with Cognito's own member names (CreateUserPool and
// CreateUserPoolClient requests), plus the ids to give them.
//
//	{"UserPools": [{"Id": "us-east-1_Example1", "PoolName": "app",
//	  "UsernameAttributes": ["email"], "AutoVerifiedAttributes": ["email"],
//	  "Clients": [{"ClientId": "web", "ClientName": "web",
//	    "ExplicitAuthFlows": ["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]}]}]}
//
// Pools and clients missing from the database are created at start;
// existing clients get the file's settings (the file is the source of
// truth for what it declares).
type FileConfig struct {
	UserPools []PoolConfig `json:"UserPools"`
	// Events configures the events API (namespaces, auth modes, channel
	// rules, limits) with AppSync's eventConfig member names; see
	// events.Config.
	Events *events.Config `json:"Events,omitempty"`
}

// PoolConfig declares one pool.
type PoolConfig struct {
	Id string `json:"Id"`
	userpool.CreateUserPoolInput
	Clients []ClientConfig `json:"Clients"`
}

// ClientConfig declares one app client.
type ClientConfig struct {
	ClientId string `json:"ClientId"`
	userpool.ClientSettingsInput
	GenerateSecret bool `json:"GenerateSecret"`
}

// sqliteStorage reports whether storage (Config.Storage) is the embedded
// SQLite database of one node's data directory.
func sqliteStorage(storage string) bool {
	return storage == "" || storage == StorageSQLite
}

func loadFileConfig(path string) (*FileConfig, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	defer f.Close()
	dec := json.NewDecoder(io.LimitReader(f, 4<<20))
	dec.DisallowUnknownFields()
	var fc FileConfig
	if err := dec.Decode(&fc); err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	for i, p := range fc.UserPools {
		if p.Id == "" {
			return nil, fmt.Errorf("config %s: UserPools[%d]: Id is required", path, i)
		}
		for j, c := range p.Clients {
			if c.ClientId == "" {
				return nil, fmt.Errorf("config %s: UserPools[%d].Clients[%d]: ClientId is required", path, i, j)
			}
		}
	}
	return &fc, nil
}
