package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/cognate-auth/cognate/gateway"
	"github.com/cognate-auth/cognate/internal/reqid"
	"github.com/cognate-auth/cognate/internal/trustedproxy"
	"github.com/cognate-auth/cognate/session"
)

// Defaults of cognate gateway's listeners.
const (
	gatewayListen  = "127.0.0.1:4180"
	gatewayMetrics = "127.0.0.1:9231"
)

// groupRules is the repeatable --group flag; COGNATE_GROUP takes several
// rules separated by ';'.
type groupRules []gateway.Rule

func (g *groupRules) String() string { return "" }

func (g *groupRules) Set(v string) error {
	for part := range strings.SplitSeq(v, ";") {
		if strings.TrimSpace(part) == "" {
			continue
		}
		rules, err := gateway.ParseGroupRule(strings.TrimSpace(part))
		if err != nil {
			return err
		}
		*g = append(*g, rules...)
	}
	return nil
}

func gatewayCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("gateway", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		cfg                                       gateway.Config
		sc                                        = &cfg.Session
		listen, metricsAddr, mode, public, guard  string
		sameSite, legacyDomains, legacyPaths      string
		trusted, albKeyFile, secretKeyFile, scope string
		logFormat, logLevel                       string
		groups                                    groupRules
		secure                                    string
		bff                                       bool
		sessionStore, dataDir                     string
	)
	fs.StringVar(&cfg.Upstream, "upstream", "", "the app's base URL, e.g. http://127.0.0.1:3000 (required)")
	fs.StringVar(&listen, "listen", gatewayListen, "listen address")
	fs.StringVar(&metricsAddr, "metrics-addr", gatewayMetrics, `listen address of Prometheus /metrics and /healthz ("off": none)`)
	fs.StringVar(&sc.UserPoolID, "user-pool-id", "", "user pool id, e.g. us-east-1_abc (empty: pure OIDC, --issuer required)")
	fs.StringVar(&sc.ClientID, "client-id", "", "app client id (required)")
	fs.StringVar(&sc.ClientSecret, "client-secret", "", "app client secret, for a confidential client")
	fs.StringVar(&sc.Region, "region", "", "AWS region (default: from the pool id)")
	fs.StringVar(&sc.Endpoint, "user-pool-endpoint", "", "Cognito JSON API base URL: Cognate's public URL (empty: Amazon Cognito)")
	fs.StringVar(&sc.Issuer, "issuer", "", "exact token issuer (default: <user-pool-endpoint>/<pool id>, or Cognito's)")
	fs.StringVar(&sc.JWKSURL, "jwks-url", "", "signing keys URL (default: <issuer>/.well-known/jwks.json)")
	fs.StringVar(&sc.OAuthDomain, "oauth-domain", "", "base URL of the hosted sign-in pages (/oauth2/authorize, /logout); empty: no hosted sign-in")
	fs.StringVar(&sc.Origin, "origin", "", "the gateway's public origin, e.g. https://app.example.com (required)")
	fs.StringVar(&scope, "scopes", "", "scopes asked on hosted sign-in, comma-separated (default: openid,email,profile)")
	fs.StringVar(&mode, "mode", "server", "server (HttpOnly cookies, the gateway signs users in) or client (aws-amplify with ssr: true writes the cookies)")
	fs.StringVar(&sc.MountPath, "mount-path", session.DefaultMountPath, "where the auth routes are served")
	fs.StringVar(&sc.AfterSignIn, "after-sign-in", "/", "where sign-in lands without a redirect")
	fs.StringVar(&sc.AfterSignOut, "after-sign-out", "/", "where sign-out lands")
	fs.StringVar(&secretKeyFile, "secret-key-file", "", "file whose bytes key the CSRF tokens and the sealed challenge cookie (same file on every node; default: random per process)")
	fs.StringVar(&public, "public-paths", "", "comma-separated paths anyone may reach (a path covers everything under it)")
	fs.StringVar(&guard, "protected", "", "comma-separated paths that need a session (paths no rule names need one too)")
	fs.StringVar(&guard, "session-paths", "", "same as --protected")
	fs.Var(&groups, "group", "group=/path[,/path]: paths that need membership of group (repeatable; COGNATE_GROUP separates rules with ';')")
	fs.StringVar(&cfg.IdentityPrefix, "identity-headers", gateway.DefaultIdentityPrefix, "prefix of the identity headers sent to the app (<prefix>User, Sub, Email, Groups)")
	fs.BoolVar(&cfg.PassTokens, "pass-tokens", false, "also send <prefix>Access-Token and <prefix>Id-Token")
	fs.BoolVar(&cfg.ALBHeaders, "alb-headers", false, "send x-amzn-oidc-data, -accesstoken and -identity as an AWS ALB does (key at /_gateway/alb/<kid>)")
	fs.StringVar(&albKeyFile, "alb-key-file", "", "PEM P-256 private key signing x-amzn-oidc-data (default: generated per process)")
	fs.StringVar(&cfg.ALBSigner, "alb-signer", "", "signer of x-amzn-oidc-data (default: an ARN-shaped name in the pool's region)")
	fs.StringVar(&sc.Cookies.Domain, "cookie-domain", "", "Domain of the token cookies (empty: host-only)")
	fs.StringVar(&sc.Cookies.Path, "cookie-path", "/", "Path of the token cookies")
	fs.StringVar(&sameSite, "cookie-same-site", "", "strict, lax or none (default: strict in server mode, lax in client mode)")
	fs.DurationVar(&sc.Cookies.MaxAge, "cookie-max-age", session.DefaultMaxAge, "lifetime of the token cookies")
	fs.DurationVar(&sc.RefreshBefore, "refresh-before", gateway.DefaultRefreshBefore, "refresh tokens this long before they expire: more than the app's own margin (Amplify's is 5s)")
	fs.StringVar(&secure, "cookie-secure", "", "true or false (default: whether --origin is https)")
	fs.StringVar(&legacyDomains, "legacy-cookie-domains", "", "comma-separated Domain attributes older deployments used; their copies are expired")
	fs.StringVar(&legacyPaths, "legacy-cookie-paths", "", "comma-separated Path attributes older deployments used; their copies are expired")
	fs.StringVar(&trusted, "trusted-proxies", "", "comma-separated CIDRs of proxies in front of the gateway whose X-Forwarded-For/-Host/-Proto are believed")
	fs.IntVar(&cfg.MaxHeaderBytes, "max-header-bytes", gateway.DefaultMaxHeaderBytes, "largest request header accepted")
	fs.Int64Var(&cfg.MaxBodyBytes, "max-body-bytes", gateway.DefaultMaxBodyBytes, "largest request body accepted (-1: no bound)")
	fs.DurationVar(&cfg.DialTimeout, "upstream-dial-timeout", gateway.DefaultDialTimeout, "time to connect to the app")
	fs.DurationVar(&cfg.ResponseHeaderTimeout, "upstream-response-header-timeout", gateway.DefaultResponseHeaderTimeout, "time for the app to start answering (bodies stream for as long as they take)")
	fs.BoolVar(&bff, "bff", false, "BFF mode: the browser gets one opaque HttpOnly session cookie, the tokens stay in --session-store")
	fs.StringVar(&sessionStore, "session-store", "", "BFF session store: an SQLite file path, or redis://host:port/db (rediss:// for TLS) or postgres://user@host/db for nodes that share sessions (default: <--data>/"+defaultSessionFile+")")
	fs.StringVar(&dataDir, "data", ".", "directory of the default BFF session store file")
	fs.DurationVar(&cfg.BFF.MaxAge, "session-max-age", gateway.DefaultBFFMaxAge, "BFF: a session ends this long after sign-in (sooner when the pool refuses its refresh token)")
	fs.DurationVar(&cfg.BFF.IdleTimeout, "session-idle-timeout", 0, "BFF: a session unused this long ends (0: never)")
	fs.StringVar(&logFormat, "log-format", "text", "log format: text or json")
	fs.StringVar(&logLevel, "log-level", "info", "log level: debug, info, warn, error")
	fs.Usage = func() {
		io.WriteString(stderr, "usage: cognate gateway --upstream URL --origin URL --client-id ID --user-pool-id ID [flags]\n\n"+
			"A reverse proxy that resolves and refreshes Amplify sessions in front of any app.\n"+
			"Every flag can also be set as COGNATE_<FLAG>, e.g. COGNATE_UPSTREAM.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("gateway: unexpected argument %q", fs.Arg(0))
	}
	if err := envDefaults(fs); err != nil {
		return err
	}
	for name, v := range map[string]string{"--upstream": cfg.Upstream, "--origin": sc.Origin, "--client-id": sc.ClientID} {
		if v == "" {
			return fmt.Errorf("gateway: %s is required", name)
		}
	}
	if sc.UserPoolID == "" && sc.Issuer == "" {
		return errors.New("gateway: --user-pool-id (or, for another OIDC issuer, --issuer) is required")
	}
	switch mode {
	case "server":
		sc.Mode = session.ModeServer
	case "client":
		sc.Mode = session.ModeClient
	default:
		return fmt.Errorf("gateway: --mode %q: want server or client", mode)
	}
	switch strings.ToLower(sameSite) {
	case "":
	case "strict":
		sc.Cookies.SameSite = http.SameSiteStrictMode
	case "lax":
		sc.Cookies.SameSite = http.SameSiteLaxMode
	case "none":
		sc.Cookies.SameSite = http.SameSiteNoneMode
	default:
		return fmt.Errorf("gateway: --cookie-same-site %q: want strict, lax or none", sameSite)
	}
	switch secure {
	case "":
	case "true", "false":
		b := secure == "true"
		sc.Cookies.Secure = &b
	default:
		return fmt.Errorf("gateway: --cookie-secure %q: want true or false", secure)
	}
	sc.Cookies.LegacyDomains, sc.Cookies.LegacyPaths = splitList(legacyDomains), splitList(legacyPaths)
	sc.Scopes = splitList(scope)
	var err error
	if cfg.TrustedProxies, err = trustedproxy.Parse(trusted); err != nil {
		return fmt.Errorf("gateway: --trusted-proxies: %w", err)
	}
	pub, err := gateway.ParsePaths(public, gateway.Public)
	if err != nil {
		return fmt.Errorf("gateway: --public-paths: %w", err)
	}
	prot, err := gateway.ParsePaths(guard, gateway.NeedSession)
	if err != nil {
		return fmt.Errorf("gateway: --protected: %w", err)
	}
	cfg.Rules = append(append(pub, prot...), groups...)
	if secretKeyFile != "" {
		if sc.SecretKey, err = os.ReadFile(secretKeyFile); err != nil {
			return fmt.Errorf("gateway: --secret-key-file: %w", err)
		}
	}
	if albKeyFile != "" {
		pemBytes, err := os.ReadFile(albKeyFile)
		if err != nil {
			return fmt.Errorf("gateway: --alb-key-file: %w", err)
		}
		if cfg.ALBKey, err = gateway.ParseALBKey(pemBytes); err != nil {
			return fmt.Errorf("gateway: --alb-key-file: %w", err)
		}
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(logLevel)); err != nil {
		return fmt.Errorf("gateway: --log-level: %w", err)
	}
	hopts := &slog.HandlerOptions{Level: level}
	var h slog.Handler = slog.NewTextHandler(stderr, hopts)
	switch logFormat {
	case "text":
	case "json":
		h = slog.NewJSONHandler(stderr, hopts)
	default:
		return fmt.Errorf("gateway: --log-format %q: want text or json", logFormat)
	}
	cfg.Logger = slog.New(reqid.Handler{Handler: h})
	sc.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	if !bff && sessionStore != "" {
		return errors.New("gateway: --session-store is for --bff mode")
	}
	if bff {
		store, closer, shared, err := openSessionStore(ctx, sessionStore, dataDir, sc.ClientID)
		if err != nil {
			return fmt.Errorf("gateway: --session-store: %w", err)
		}
		defer closer.Close()
		switch {
		case sc.SecretKey == nil && shared:
			return errors.New("gateway: a shared --session-store needs --secret-key-file, the same on every node (it keys the sessions' encryption)")
		case sc.SecretKey == nil:
			cfg.Logger.Warn("gateway: no --secret-key-file: sessions are sealed with a key of this process and end when it restarts")
		}
		cfg.BFF.Store = store
	}
	g, err := gateway.New(cfg)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return fmt.Errorf("gateway: --listen: %w", err)
	}
	var mln net.Listener
	if metricsAddr != "off" {
		if mln, err = net.Listen("tcp", metricsAddr); err != nil {
			ln.Close()
			return fmt.Errorf("gateway: --metrics-addr: %w (another address, or off)", err)
		}
	}
	fmt.Fprintf(stdout, "cognate gateway: %s → %s on http://%s (auth routes at %s)\n", sc.Origin, cfg.Upstream, ln.Addr(), g.Session().Config().MountPath)
	return g.Serve(ctx, ln, mln)
}

// splitList splits a comma-separated flag, dropping empty items.
func splitList(s string) []string {
	var out []string
	for f := range strings.SplitSeq(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
