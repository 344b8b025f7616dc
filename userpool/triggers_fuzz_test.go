package userpool

import "testing"

// FuzzDecodeHookResponse: whatever a webhook answers, decoding returns an
// error or a response, never a panic.
func FuzzDecodeHookResponse(f *testing.F) {
	for _, s := range []string{
		`{"response":{"autoConfirmUser":true}}`, `{"response":null}`, `{"response":[1]}`, `{}`, `[]`, `{"response":{}} {}`,
		`{"response":{"claimsAndScopeOverrideDetails":{"idTokenGeneration":{"claimsToAddOrOverride":{"a":{"b":[1,2]}}}}}}`,
		`{"response":{"claimsOverrideDetails":{"groupOverrideDetails":{"groupsToOverride":null}}}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var a preSignUpResponse
		_ = decodeHookResponse(body, &a)
		var b preTokenResponse
		_ = decodeHookResponse(body, &b)
	})
}
