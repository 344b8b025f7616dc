package cognitoapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/cognate-auth/cognate/userpool"
)

// BenchmarkPasswordSignInTriggers is BenchmarkPasswordSignIn with
// trigger webhooks on a loopback server, one sub-benchmark per set of
// triggers, in the same run as a sign-in without any: the difference is
// a trigger's added latency (a signed request over a kept-alive
// connection, the webhook echoing the event, the answer decoded).
//
//	go test ./cognitoapi -run '^$' -bench PasswordSignInTriggers -benchtime 2s -count 3
func BenchmarkPasswordSignInTriggers(b *testing.B) {
	f := newFixture(b)
	hooks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.URL.Path == "/token" {
			var ev map[string]any
			json.Unmarshal(body, &ev)
			ev["response"] = map[string]any{"claimsAndScopeOverrideDetails": map[string]any{
				"idTokenGeneration": map[string]any{"claimsToAddOrOverride": map[string]any{"tenant": "acme"}},
			}}
			body, _ = json.Marshal(ev)
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	}))
	defer hooks.Close()
	bodies := make([][]byte, len(f.users))
	for i, u := range f.users {
		bodies[i] = passwordBody(b, f.plain, u)
	}
	token := &userpool.PreTokenGenerationConfigType{LambdaVersion: "V2_0", LambdaArn: hooks.URL + "/token"}
	for _, c := range []struct {
		name string
		lc   *userpool.LambdaConfigType
	}{
		{"none", nil},
		{"PreAuthentication", &userpool.LambdaConfigType{PreAuthentication: hooks.URL + "/pre"}},
		{"PostAuthentication", &userpool.LambdaConfigType{PostAuthentication: hooks.URL + "/post"}},
		{"PreTokenGenerationV2", &userpool.LambdaConfigType{PreTokenGenerationConfig: token}},
		{"all three", &userpool.LambdaConfigType{PreAuthentication: hooks.URL + "/pre", PostAuthentication: hooks.URL + "/post", PreTokenGenerationConfig: token}},
		{"none again", nil}, // the first runs warm everything up
	} {
		b.Run(c.name, func(b *testing.B) {
			if _, err := f.svc.UpdateUserPool(context.Background(), userpool.UpdateUserPoolInput{
				UserPoolId: f.poolID, AutoVerifiedAttributes: []string{"email"}, LambdaConfig: c.lc,
			}); err != nil {
				b.Fatal(err)
			}
			i := 0
			b.ReportAllocs()
			c0 := cpuTime()
			for b.Loop() {
				body := f.call(b, "InitiateAuth", bodies[i%len(bodies)])
				i++
				if !bytes.Contains(body, []byte(`"RefreshToken"`)) {
					b.Fatalf("no tokens: %s", body)
				}
			}
			reportCPU(b, cpuTime()-c0)
		})
	}
}
