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

// GetSigningCertificateInput is GetSigningCertificate's request.
type GetSigningCertificateInput struct {
	UserPoolId string `json:"UserPoolId"`
}

// GetSigningCertificateOutput is GetSigningCertificate's answer.
type GetSigningCertificateOutput struct {
	Certificate string `json:"Certificate"`
}

// signingCertificates is what the SAML protocol offers for
// GetSigningCertificate.
type signingCertificates interface {
	SigningCertificate(ctx context.Context, poolID string) (string, error)
}

// GetSigningCertificate returns the certificate of the key that signs the
// pool's SAML requests (base64 DER, as Cognito's), made on first use.
func (s *Service) GetSigningCertificate(ctx context.Context, in GetSigningCertificateInput) (GetSigningCertificateOutput, error) {
	p, err := s.pool(ctx, in.UserPoolId)
	if err != nil {
		return GetSigningCertificateOutput{}, err
	}
	if s.federation == nil {
		return GetSigningCertificateOutput{}, errorf(ErrInvalidParameter, "SAML federation is not configured on this server.")
	}
	k, err := s.federation.KindOf(federation.TypeSAML)
	sc, ok := k.(signingCertificates)
	if err != nil || !ok {
		return GetSigningCertificateOutput{}, errorf(ErrInvalidParameter, "SAML federation is not configured on this server.")
	}
	cert, err := sc.SigningCertificate(ctx, p.ID)
	if err != nil {
		return GetSigningCertificateOutput{}, internal("saml signing certificate", err)
	}
	return GetSigningCertificateOutput{Certificate: cert}, nil
}
