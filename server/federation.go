package server

import (
	"log/slog"

	"github.com/cognate-auth/cognate/federation"
	"github.com/cognate-auth/cognate/federation/oidc"
)

// federationRegistry is the protocols of the identity providers pools may
// configure, by provider type: each protocol registers here.
func federationRegistry(log *slog.Logger) *federation.Registry {
	fed := federation.NewRegistry(0)
	fed.Register(oidc.Kind(oidc.Options{Logger: log}), oidc.Types...)
	return fed
}
