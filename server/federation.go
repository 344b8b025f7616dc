package server

import (
	"fmt"

	"github.com/cognate-auth/cognate/federation"
	"github.com/cognate-auth/cognate/federation/oidc"
	"github.com/cognate-auth/cognate/federation/saml"
	"github.com/cognate-auth/cognate/storage"
)

// federationRegistry is the protocols of the identity providers pools may
// configure, by provider type: each protocol registers here.
func federationRegistry(cfg Config, store storage.Storage) (*federation.Registry, error) {
	fed := federation.NewRegistry(0)
	fed.Register(oidc.Kind(oidc.Options{Logger: cfg.Logger}), oidc.Types...)
	sp, err := saml.New(saml.Options{Store: store, BaseURL: cfg.PublicURL, Production: cfg.Production, Logger: cfg.Logger})
	if err != nil {
		return nil, fmt.Errorf("saml: %w", err)
	}
	fed.Register(sp, federation.TypeSAML)
	return fed, nil
}
