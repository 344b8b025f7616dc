package cognitoapi

import "github.com/cognate-auth/cognate/userpool"

// webAuthnOperations are the passkey operations: registering, listing and
// removing the signed-in user's passkeys (each authorised by its access
// token).
func webAuthnOperations(s *userpool.Service) map[string]operation {
	const public = false
	return map[string]operation{
		"StartWebAuthnRegistration":    op(public, s.StartWebAuthnRegistration),
		"CompleteWebAuthnRegistration": op(public, s.CompleteWebAuthnRegistration),
		"ListWebAuthnCredentials":      op(public, s.ListWebAuthnCredentials),
		"DeleteWebAuthnCredential":     op(public, s.DeleteWebAuthnCredential),
	}
}
