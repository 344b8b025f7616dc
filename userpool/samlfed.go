package userpool

import (
	"context"
	"errors"

	"github.com/cognate-auth/cognate/federation"
	"github.com/cognate-auth/cognate/storage"
)

// SAMLProvider is a pool's SAML identity provider by name, its details in
// clear (for the service provider metadata the pages serve).
func (s *Service) SAMLProvider(ctx context.Context, poolID, name string) (federation.Provider, error) {
	idp, err := s.getIDP(ctx, poolID, name)
	if err != nil {
		return federation.Provider{}, err
	}
	if idp.Type != federation.TypeSAML {
		return federation.Provider{}, errorf(ErrResourceNotFound, "Identity provider %s is not a SAML provider.", name)
	}
	return federationProvider(idp), nil
}

// SAMLIdentity is the SAML provider a user signed in through and the
// user's NameID there, for /logout to sign the user out at the IdP: the
// first of the user's identities of type SAML whose provider still
// exists. ok is false for a user with none.
func (s *Service) SAMLIdentity(ctx context.Context, poolID, username string) (p federation.Provider, nameID string, ok bool, err error) {
	u, err := s.store.GetUser(ctx, poolID, username)
	if errors.Is(err, storage.ErrNotFound) {
		return p, "", false, nil
	}
	if err != nil {
		return p, "", false, internal("get user", err)
	}
	for _, id := range readIdentities(u.Attributes) {
		if id.ProviderType != federation.TypeSAML {
			continue
		}
		p, err = s.SAMLProvider(ctx, poolID, id.ProviderName)
		if errors.Is(err, ErrResourceNotFound) {
			continue
		}
		if err != nil {
			return p, "", false, err
		}
		return p, id.UserID, true, nil
	}
	return p, "", false, nil
}
