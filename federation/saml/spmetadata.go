package saml

import (
	"context"
	"encoding/xml"
	"fmt"

	crewsaml "github.com/crewjam/saml"

	"github.com/cognate-auth/cognate/federation"
)

// Metadata is the service provider's metadata for p, for the IdP's
// administrator to register the pool with (see Upstream.Metadata).
func (s *Service) Metadata(ctx context.Context, p federation.Provider) ([]byte, error) {
	u, err := s.upstream(ctx, p)
	if err != nil {
		return nil, err
	}
	return u.Metadata(ctx)
}

// Metadata is the service provider's metadata: the entity id, the ACS and
// sign-out endpoints (HTTP-POST), the pool's signing certificate and, when
// EncryptedResponses is true, the provider's encryption certificate.
func (u *Upstream) Metadata(ctx context.Context) ([]byte, error) {
	sp, err := u.serviceProvider(ctx, "")
	if err != nil {
		return nil, err
	}
	md := sp.Metadata()
	if !u.d.encrypted {
		// Without EncryptedResponses the IdP must not encrypt: an IdP
		// encrypts whenever the metadata offers it a key.
		for i := range md.SPSSODescriptors {
			kept := md.SPSSODescriptors[i].KeyDescriptors[:0]
			for _, k := range md.SPSSODescriptors[i].KeyDescriptors {
				if k.Use != "encryption" {
					kept = append(kept, k)
				}
			}
			md.SPSSODescriptors[i].KeyDescriptors = kept
		}
	}
	b, err := xml.MarshalIndent(md, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("saml: metadata: %w", err)
	}
	return append([]byte(xml.Header), b...), nil
}

// Check validates a SAML provider's ProviderDetails on create and update
// (federation.Kind), fetching or reading its metadata, and returns them as
// Cognito describes a provider: the details given, with the IdP's
// SSORedirectBindingURI and SLORedirectBindingURI from its metadata, and
// the ActiveEncryptionCertificate when EncryptedResponses is true. Errors
// wrap ErrInvalidDetails (federation.ErrConfig) or ErrMetadata
// (federation.ErrUnavailable).
func (s *Service) Check(ctx context.Context, p federation.Provider) (map[string]string, error) {
	u, err := s.upstream(ctx, p)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(p.Details)+3)
	for k, v := range p.Details {
		switch k {
		case DetailSSORedirectBindingURI, DetailSLORedirectBindingURI, DetailActiveEncryptionCertificate:
		default:
			out[k] = v
		}
	}
	sp, err := u.serviceProvider(ctx, "")
	if err != nil {
		return nil, err
	}
	out[DetailSSORedirectBindingURI] = sp.GetSSOBindingLocation(crewsaml.HTTPRedirectBinding)
	if slo := sp.GetSLOBindingLocation(crewsaml.HTTPRedirectBinding); slo != "" {
		out[DetailSLORedirectBindingURI] = slo
	}
	if u.d.encrypted {
		out[DetailActiveEncryptionCertificate] = certificateText(u.enc.cert)
	}
	return out, nil
}
