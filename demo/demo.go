// Package demo is the server-rendered demo app that `cognate serve` runs on
// its own listener. It is built only on the public session API (and the
// URLs of an AppSync-Events-compatible endpoint), the way any Go app would
// use them:
//
//	/                  public home
//	/dashboard         session.Require; the live chat panel
//	/admin             session.RequireGroup("admin")
//	/session           the session's claims, expiry, FetchUserAttributes;
//	                   ?refresh=1 runs the middleware with session.ForceRefresh
//	/sign-in           server-side password sign-in (SignInWithPassword)
//	/sign-in/challenge NEW_PASSWORD_REQUIRED and MFA code challenges
//	/amplify/          client mode: aws-amplify in the page (ssr: true)
//	/amplify/me        client mode: the user the server sees in Amplify's cookies
//	/api/auth/…        the session manager's route handlers (its mount path)
//
// README.md lists the element ids the browser tests rely on.
package demo

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/cognate-auth/cognate/internal/csrf"
	"github.com/cognate-auth/cognate/session"
)

// DefaultChannel is the live panel's channel when Options.EventsChannel is
// empty.
const DefaultChannel = "/default/demo-chat"

// ClientConfig is what the client-mode page hands to aws-amplify.
type ClientConfig struct {
	Region     string // e.g. us-east-1; only used to name the AWS endpoint when Endpoint is ""
	UserPoolID string
	ClientID   string // the app client Amplify signs in with (the Options.Client manager's)
	Endpoint   string // Cognito JSON API base URL the browser calls; "" → AWS's regional endpoint
}

// Options configure the demo app.
type Options struct {
	// Session is the HttpOnly (session.ModeServer) manager behind every page
	// outside /amplify/. Required.
	Session *session.Manager
	// Client is the session.ModeClient manager of the /amplify/ pages, whose
	// cookies aws-amplify writes in the browser. nil turns client mode off.
	Client       *session.Manager
	ClientConfig ClientConfig
	// EventsHTTPURL and EventsRealtimeURL locate the events API, e.g.
	// http://localhost:9229/event and ws://localhost:9229/event/realtime.
	// An empty EventsRealtimeURL turns the live panel off.
	EventsHTTPURL, EventsRealtimeURL string
	// EventsChannel is the live panel's channel; "" → DefaultChannel.
	EventsChannel string
	// ClientBundle serves /amplify/app.js (an esbuild bundle of aws-amplify
	// exposing window.cognateAmplify); nil → the page explains how to build one.
	ClientBundle http.Handler
	Logger       *slog.Logger
	// Providers names the identity providers the hosted sign-in offers
	// (the app client's, besides COGNITO): the home page shows a button
	// for each, through the session library's ?provider=. nil shows none.
	Providers func(ctx context.Context) []string
}

// ErrInvalidOptions is wrapped by New's errors.
var ErrInvalidOptions = errors.New("demo: invalid options")

// app is the demo: one handler, routing to the pages under the right
// session middleware.
type app struct {
	s, c      *session.Manager // c may be nil
	log       *slog.Logger
	clientCfg ClientConfig
	live      *liveConfig
	bundle    http.Handler
	providers func(ctx context.Context) []string
	csrf      *csrf.Protector
	csp       string // Content-Security-Policy without the script nonce
	now       func() time.Time

	assets               http.Handler
	server, serverForced http.Handler // pages under Session.Middleware
	client, clientForced http.Handler // /amplify/ under Client.Middleware
}

// liveConfig is what the live panel's script needs.
type liveConfig struct {
	// RealtimeURL is checked to be ws: or wss: in New; html/template
	// would otherwise filter those schemes out of a URL attribute.
	RealtimeURL                template.URL
	HTTPURL, Channel, TokenURL string
}

// New returns the demo app's handler, to be served at the root of its own
// origin (the session managers' Origin).
func New(opts Options) (http.Handler, error) {
	if opts.Session == nil {
		return nil, fmt.Errorf("%w: Session is required", ErrInvalidOptions)
	}
	mount, err := mountPath(opts.Session)
	if err != nil {
		return nil, err
	}
	live, err := newLiveConfig(opts, mount)
	if err != nil {
		return nil, err
	}
	if opts.ClientConfig.Endpoint != "" {
		if _, err := origin(opts.ClientConfig.Endpoint, "http", "https"); err != nil {
			return nil, fmt.Errorf("%w: ClientConfig.Endpoint: %w", ErrInvalidOptions, err)
		}
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	a := &app{
		s: opts.Session, c: opts.Client, log: log, clientCfg: opts.ClientConfig, live: live,
		bundle: opts.ClientBundle, providers: opts.Providers, csrf: newCSRF(opts.Session), now: time.Now,
		assets: assetHandler(),
	}
	a.csp = contentSecurityPolicy(opts)
	a.routes(mount)
	return a, nil
}

func (a *app) routes(mount string) {
	mux := http.NewServeMux()
	mux.Handle(mount, a.s.Handler())
	mux.Handle("/{$}", get(a, http.HandlerFunc(a.home)))
	mux.Handle("/dashboard", get(a, a.s.Require(http.HandlerFunc(a.dashboard))))
	mux.Handle("/admin", get(a, a.styledForbidden(a.s.RequireGroup("admin", http.HandlerFunc(a.admin)))))
	mux.Handle("/session", get(a, a.s.Require(http.HandlerFunc(a.sessionPage))))
	mux.Handle(securityPath, a.s.Require(http.HandlerFunc(a.security)))
	mux.HandleFunc("/sign-in", a.signIn)
	mux.HandleFunc("/sign-in/challenge", a.challenge)
	mux.HandleFunc("/", a.notFound)
	a.server = a.s.Middleware(mux)
	a.serverForced = a.s.Middleware(mux, session.ForceRefresh())

	amux := http.NewServeMux()
	amux.Handle("/amplify/{$}", get(a, http.HandlerFunc(a.amplify)))
	amux.Handle("/amplify/me", get(a, http.HandlerFunc(a.amplifyMe)))
	amux.HandleFunc("/", a.notFound)
	a.client, a.clientForced = amux, amux
	if a.c != nil {
		a.client = a.c.Middleware(amux)
		a.clientForced = a.c.Middleware(amux, session.ForceRefresh())
	}
}

// ServeHTTP picks the middleware: static files need no session, /amplify/
// reads Amplify's cookies through the client-mode manager, and ?refresh=1
// on the session pages forces a refresh before the page renders.
func (a *app) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	setSecurityHeaders(w)
	p := r.URL.Path
	refresh := r.URL.Query().Get("refresh") == "1"
	switch {
	case strings.HasPrefix(p, "/assets/") && !strings.HasSuffix(p, "/"):
		a.assets.ServeHTTP(w, r)
	case p == "/amplify/app.js":
		a.serveBundle(w, r)
	case p == "/amplify":
		http.Redirect(w, r, "/amplify/", http.StatusMovedPermanently)
	case strings.HasPrefix(p, "/amplify/") && refresh:
		a.clientForced.ServeHTTP(w, r)
	case strings.HasPrefix(p, "/amplify/"):
		a.client.ServeHTTP(w, r)
	case p == "/session" && refresh:
		a.serverForced.ServeHTTP(w, r)
	default:
		a.server.ServeHTTP(w, r)
	}
}

func (a *app) serveBundle(w http.ResponseWriter, r *http.Request) {
	if a.bundle == nil || a.c == nil {
		a.notFound(w, r)
		return
	}
	a.bundle.ServeHTTP(w, r)
}

// mountPath is where the session manager's route handlers live.
func mountPath(m *session.Manager) (string, error) {
	mount := m.Config().MountPath
	if !strings.HasPrefix(mount, "/") || !strings.HasSuffix(mount, "/") {
		return "", fmt.Errorf("%w: session MountPath %q", ErrInvalidOptions, mount)
	}
	return mount, nil
}

func newLiveConfig(opts Options, mount string) (*liveConfig, error) {
	if opts.EventsRealtimeURL == "" {
		return nil, nil
	}
	if _, err := origin(opts.EventsRealtimeURL, "ws", "wss"); err != nil {
		return nil, fmt.Errorf("%w: EventsRealtimeURL: %w", ErrInvalidOptions, err)
	}
	if opts.EventsHTTPURL != "" {
		if _, err := origin(opts.EventsHTTPURL, "http", "https"); err != nil {
			return nil, fmt.Errorf("%w: EventsHTTPURL: %w", ErrInvalidOptions, err)
		}
	}
	ch := opts.EventsChannel
	if ch == "" {
		ch = DefaultChannel
	}
	if !strings.HasPrefix(ch, "/") {
		ch = "/" + ch
	}
	if strings.ContainsAny(ch, "*\"<> ") {
		return nil, fmt.Errorf("%w: EventsChannel %q", ErrInvalidOptions, ch)
	}
	return &liveConfig{
		RealtimeURL: template.URL(opts.EventsRealtimeURL), HTTPURL: opts.EventsHTTPURL,
		Channel: ch, TokenURL: mount + "token",
	}, nil
}

// origin returns scheme://host of an absolute URL with one of schemes.
func origin(raw string, schemes ...string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", err
	}
	for _, s := range schemes {
		if u.Scheme == s && u.Host != "" {
			return s + "://" + u.Host, nil
		}
	}
	return "", fmt.Errorf("%q is not an absolute %s URL", raw, strings.Join(schemes, " or "))
}

// get allows GET and HEAD only; other methods get a styled 405.
func get(a *app, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			a.renderError(w, r, http.StatusMethodNotAllowed)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// home is the public landing page.
func (a *app) home(w http.ResponseWriter, r *http.Request) {
	d := homeData{
		HostedSignIn:   a.s.SignInURL("/dashboard"),
		PasswordSignIn: "/sign-in?redirect=%2Fdashboard",
		Live:           a.live != nil,
	}
	if a.providers != nil {
		for _, name := range a.providers(r.Context()) {
			d.Providers = append(d.Providers, providerLink{Name: name, URL: withProvider(d.HostedSignIn, name)})
		}
	}
	a.render(w, r, http.StatusOK, "home", &view{
		Title: "Sign-in that survives server rendering", Eyebrow: "Cognate session demo", Nav: "home",
		Lede: "A small Go app whose pages know who you are before they render: tokens in cookies under one policy, verified and refreshed on the server, with a live panel on top.",
		Data: d,
	})
}

type homeData struct {
	HostedSignIn, PasswordSignIn string
	Live                         bool
	Providers                    []providerLink
}

// providerLink is a sign-in button for one identity provider.
type providerLink struct{ Name, URL string }

// withProvider adds ?provider= to the session library's sign-in route.
func withProvider(signIn, name string) string {
	u, err := url.Parse(signIn)
	if err != nil {
		return signIn
	}
	q := u.Query()
	q.Set("provider", name)
	u.RawQuery = q.Encode()
	return u.String()
}

func (a *app) notFound(w http.ResponseWriter, r *http.Request) {
	a.renderError(w, r, http.StatusNotFound)
}
