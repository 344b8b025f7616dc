package cognitoapi

import "github.com/cognate-auth/cognate/userpool"

// triggerOperations are the operations of the triggers area: the pool's
// LambdaConfig is set through UpdateUserPool.
func triggerOperations(s *userpool.Service) map[string]operation {
	const admin = true
	return map[string]operation{
		"UpdateUserPool": op(admin, s.UpdateUserPool),
	}
}
