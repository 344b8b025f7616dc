package cognitoapi

import "github.com/cognate-auth/cognate/userpool"

// samlOperations are SAML federation's own operations (admin, SigV4).
func samlOperations(s *userpool.Service) map[string]operation {
	const admin = true
	return map[string]operation{
		"GetSigningCertificate": op(admin, s.GetSigningCertificate),
	}
}
