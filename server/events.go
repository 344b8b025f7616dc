package server

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cognate-auth/cognate/events"
	"github.com/cognate-auth/cognate/events/apikeys"
	"github.com/cognate-auth/cognate/eventsapi"
)

// initEvents starts the events hub and returns what amplify_outputs.json
// says about it and the handler of /event and /event/realtime. Outside
// production a development API key is created on first start.
func (s *Server) initEvents(ctx context.Context, fc *FileConfig, reg *prometheus.Registry) (*outputsEvents, http.Handler, error) {
	keys := apikeys.New(s.store, apikeys.Options{})
	region, _, _ := strings.Cut(s.Pool.ID, "_")
	out := &outputsEvents{
		URL: eventsURL(&s.cfg, s.tls != nil), AWSRegion: region,
		DefaultAuthorizationType: events.AuthUserPools,
	}
	if !s.cfg.Production {
		key, err := devEventsKey(ctx, s.cfg.DataDir, keys)
		if err != nil {
			return nil, nil, err
		}
		out.APIKey, out.DefaultAuthorizationType = key, events.AuthAPIKey
	}
	var cfg events.Config
	if fc != nil && fc.Events != nil {
		cfg = *fc.Events
	}
	if cfg.KeepAlive == 0 && s.cfg.EventsKeepAlive > 0 {
		cfg.KeepAlive = events.Duration(s.cfg.EventsKeepAlive)
	}
	for _, c := range []struct {
		file *int
		flag int
	}{
		{&cfg.MaxConnections, s.cfg.EventsMaxConnections},
		{&cfg.MaxConnectionsPerAddress, s.cfg.EventsMaxConnectionsPerAddress},
		{&cfg.MaxConnectionsPerAPIKey, s.cfg.EventsMaxConnectionsPerAPIKey},
	} {
		if *c.file == 0 {
			*c.file = c.flag
		}
	}
	// The per-address cap names clients as the guess limit does.
	trusted, err := parseCIDRs(s.cfg.TrustedProxies)
	if err != nil {
		return nil, nil, err
	}
	hub, err := events.New(ctx, cfg, events.Options{
		Logger:   s.log,
		Broker:   s.broker,
		APIKeys:  apiKeyAuth(keys),
		UserPool: userPoolAuth(s.svc),
		Verifier: externalVerifier(s.store, &http.Client{Timeout: 10 * time.Second}),
	})
	if err != nil {
		return nil, nil, fmt.Errorf("events: %w", err)
	}
	s.hub = hub
	h := eventsapi.New(eventsapi.Options{
		Hub: hub, Logger: s.log, Registerer: reg, AllowedOrigins: splitList(s.cfg.EventsOrigins),
		ClientAddr: clientAddr(trusted, s.cfg.Production),
	})
	return out, h, nil
}

// closeRealtime ends every events connection with a going-away close:
// http.Server.Shutdown does not track hijacked connections.
func (s *Server) closeRealtime(ctx context.Context) {
	if s.hub == nil {
		return
	}
	if err := s.hub.Shutdown(ctx); err != nil {
		s.log.Warn("events shutdown", "err", err)
	}
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
