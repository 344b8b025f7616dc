package server

import (
	"context"
	"crypto/rand"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"strings"

	"github.com/cognate-auth/cognate/demo"
	"github.com/cognate-auth/cognate/session"
	"github.com/cognate-auth/cognate/storage"
	"github.com/cognate-auth/cognate/userpool"
)

// DemoClientName names the app client the demo app signs in with.
const DemoClientName = "demo"

// demoOrigin is the origin browsers reach the demo at: localhost rather
// than 127.0.0.1, so that cookies, the hosted pages and the callback all
// agree on one host name.
func demoOrigin(addr string) (string, error) {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("--demo-addr %q: %w", addr, err)
	}
	return "http://localhost:" + port, nil
}

// demoClientInput is the demo's public app client (no secret: its server sends PKCE): the
// authorization code grant with PKCE to the demo's callback, plus SRP for
// its password form. Unlike a new Cognito client (and the bootstrap web
// client) it rotates refresh tokens, with a grace period that covers
// parallel requests from several tabs: the demo exists to show the
// session library storing each rotated token, which it can because every
// demo response may write cookies.
func demoClientInput(poolID, origin, mount string) userpool.ClientSettingsInput {
	return userpool.ClientSettingsInput{
		UserPoolId: poolID,
		ClientName: DemoClientName,
		ExplicitAuthFlows: []string{
			"ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH",
		},
		SupportedIdentityProviders:      []string{"COGNITO"},
		CallbackURLs:                    []string{origin + mount + "sign-in-callback"},
		LogoutURLs:                      []string{origin + mount + "sign-out-callback"},
		AllowedOAuthFlows:               []string{"code"},
		AllowedOAuthScopes:              []string{"openid", "email", "profile", "aws.cognito.signin.user.admin"},
		AllowedOAuthFlowsUserPoolClient: true,
		RefreshTokenRotation:            &userpool.RefreshTokenRotationType{Feature: "ENABLED", RetryGracePeriodSeconds: 10},
	}
}

// ensureDemoClient finds the pool's demo client, creating it on first
// start and pointing its callback and logout URLs at the current origin.
// Nodes starting at once on one database agree on its id as on the
// default pool's (see ensureDefault), so there is one demo client.
func ensureDemoClient(ctx context.Context, svc *userpool.Service, store storage.Storage, poolID, origin, mount string) (storage.Client, error) {
	want := demoClientInput(poolID, origin, mount)
	clients, err := store.ListClients(ctx, poolID)
	if err != nil {
		return storage.Client{}, err
	}
	proposal := strings.ToLower(rand.Text())
	for _, c := range clients {
		if c.Name == DemoClientName {
			proposal = c.ClientID
			break
		}
	}
	raw, err := store.GetOrCreateSecret(ctx, "server/demo-client/"+poolID, func() ([]byte, error) { return []byte(proposal), nil })
	if err != nil {
		return storage.Client{}, fmt.Errorf("demo client id: %w", err)
	}
	id := string(raw)
	created := false
	c, err := createOnce(ctx, id, store.GetClient, func(ctx context.Context) error {
		_, err := svc.CreateUserPoolClientWithID(ctx, id, userpool.CreateUserPoolClientInput{ClientSettingsInput: want})
		created = err == nil
		return err
	})
	if err != nil {
		return storage.Client{}, fmt.Errorf("demo client %s: %w", id, err)
	}
	if created || slices.Equal(c.Settings.CallbackURLs, want.CallbackURLs) && slices.Equal(c.Settings.LogoutURLs, want.LogoutURLs) {
		return c, nil
	}
	if _, err := svc.UpdateUserPoolClient(ctx, userpool.UpdateUserPoolClientInput{ClientSettingsInput: want, ClientId: id}); err != nil {
		return storage.Client{}, fmt.Errorf("update demo client: %w", err)
	}
	return store.GetClient(ctx, id)
}

// demoMount is where the demo mounts the session route handlers.
const demoMount = "/api/auth/"

// initDemo builds the demo app on the public session API, talking to this
// server in process (session.InProcess): the same HTTP requests it would
// send to Amazon Cognito, without a network hop. It returns the demo's
// URL, or "" with the demo off.
func (s *Server) initDemo(ctx context.Context) (string, error) {
	if s.cfg.DemoAddr == DemoOff {
		return "", nil
	}
	origin, err := demoOrigin(s.cfg.DemoAddr)
	if err != nil {
		return "", err
	}
	dc, err := ensureDemoClient(ctx, s.svc, s.store, s.Pool.ID, origin, demoMount)
	if err != nil {
		return "", err
	}
	// A stored secret keeps pending sign-in challenges valid across restarts.
	secret, err := s.svc.Secret(ctx, "demo-session")
	if err != nil {
		return "", err
	}
	public := strings.TrimRight(s.cfg.PublicURL, "/")
	region, _, _ := strings.Cut(s.Pool.ID, "_")
	base := session.Config{
		Region: region, UserPoolID: s.Pool.ID, Endpoint: public, OAuthDomain: public,
		Origin: origin, MountPath: demoMount, SecretKey: secret,
		HTTPClient: session.InProcess(s.handler), Logger: s.log,
		// Token cookies an older deployment's route handlers left at the
		// mount path (set without a Path attribute) are cleared too.
		Cookies: session.CookiePolicy{LegacyPaths: []string{strings.TrimSuffix(demoMount, "/")}},
	}
	serverSide := base
	serverSide.ClientID, serverSide.Mode = dc.ClientID, session.ModeServer
	serverSide.Scopes = dc.Settings.AllowedOAuthScopes
	sm, err := session.New(serverSide)
	if err != nil {
		return "", fmt.Errorf("demo: %w", err)
	}
	clientSide := base
	clientSide.ClientID, clientSide.Mode = s.Client.ClientID, session.ModeClient
	cm, err := session.New(clientSide)
	if err != nil {
		return "", fmt.Errorf("demo: %w", err)
	}
	var bundle http.Handler
	if dir := s.cfg.DemoClientBundle; dir != "" {
		bundle = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.ServeFile(w, r, filepath.Join(dir, "app.js"))
		})
	}
	s.demo, err = demo.New(demo.Options{
		Session: sm, Client: cm,
		ClientConfig: demo.ClientConfig{
			Region: region, UserPoolID: s.Pool.ID, ClientID: s.Client.ClientID, Endpoint: public,
		},
		EventsHTTPURL:     public + "/event",
		EventsRealtimeURL: websocketURL(public) + "/event/realtime",
		ClientBundle:      bundle,
		Logger:            s.log,
		Providers:         s.demoProviders(dc.ClientID),
	})
	if err != nil {
		return "", err
	}
	return origin, nil
}

// demoProviders lists the identity providers the demo's app client
// offers, for the demo's sign-in buttons; a failure shows none.
func (s *Server) demoProviders(clientID string) func(ctx context.Context) []string {
	return func(ctx context.Context) []string {
		provs, err := s.svc.ClientProviders(ctx, clientID)
		if err != nil {
			s.log.WarnContext(ctx, "demo: list identity providers", "err", err)
			return nil
		}
		names := make([]string, 0, len(provs))
		for _, p := range provs {
			names = append(names, p.Name)
		}
		return names
	}
}

// websocketURL turns an http(s) base URL into its ws(s) form.
func websocketURL(base string) string {
	if rest, ok := strings.CutPrefix(base, "https://"); ok {
		return "wss://" + rest
	}
	return "ws://" + strings.TrimPrefix(base, "http://")
}
