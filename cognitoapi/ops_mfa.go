package cognitoapi

import "github.com/cognate-auth/cognate/userpool"

// mfaOperations are the MFA operations: the pool's configuration, a
// user's authenticator and factor preferences, and the admin ones for the
// lost-phone case.
func mfaOperations(s *userpool.Service) map[string]operation {
	const public, admin = false, true
	return map[string]operation{
		"SetUserPoolMfaConfig":      op(admin, s.SetUserPoolMfaConfig),
		"GetUserPoolMfaConfig":      op(admin, s.GetUserPoolMfaConfig),
		"AssociateSoftwareToken":    op(public, s.AssociateSoftwareToken),
		"VerifySoftwareToken":       guessed(op(public, s.VerifySoftwareToken)),
		"SetUserMFAPreference":      op(public, s.SetUserMFAPreference),
		"AdminSetUserMFAPreference": op(admin, s.AdminSetUserMFAPreference),
		"AdminResetUserPassword":    op(admin, s.AdminResetUserPassword),
	}
}

// guessed marks an operation that tests a code (see operation.guessable).
func guessed(o operation) operation {
	o.guessable = true
	return o
}
