package cognitoapi

import "github.com/cognate-auth/cognate/userpool"

// userAuthOperations are the operations of choice-based sign-in beyond
// InitiateAuth and RespondToAuthChallenge.
func userAuthOperations(s *userpool.Service) map[string]operation {
	const public = false
	return map[string]operation{
		"GetUserAuthFactors": op(public, s.GetUserAuthFactors),
	}
}
