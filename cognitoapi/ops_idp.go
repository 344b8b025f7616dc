package cognitoapi

import "github.com/cognate-auth/cognate/userpool"

// idpOperations are the identity-provider operations (admin, SigV4).
func idpOperations(s *userpool.Service) map[string]operation {
	const admin = true
	return map[string]operation{
		"CreateIdentityProvider":          op(admin, s.CreateIdentityProvider),
		"DescribeIdentityProvider":        op(admin, s.DescribeIdentityProvider),
		"UpdateIdentityProvider":          op(admin, s.UpdateIdentityProvider),
		"DeleteIdentityProvider":          op(admin, s.DeleteIdentityProvider),
		"ListIdentityProviders":           op(admin, s.ListIdentityProviders),
		"GetIdentityProviderByIdentifier": op(admin, s.GetIdentityProviderByIdentifier),
		"AdminLinkProviderForUser":        op(admin, s.AdminLinkProviderForUser),
		"AdminDisableProviderForUser":     op(admin, s.AdminDisableProviderForUser),
	}
}
