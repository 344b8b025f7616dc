package integration_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
)

// TestTriggerFailures drives a pre sign-up webhook through every way of
// failing: each gives the client Cognito's error within the timeout, and
// leaves no user behind.
func TestTriggerFailures(t *testing.T) {
	h := newHookEnv(t)
	pool, client := h.triggerPool(&types.LambdaConfigType{PreSignUp: h.url("/preSignUp")})
	for _, tc := range []struct {
		name    string
		answer  hookHandler
		code    string
		message string
	}{
		{"refusal", func(w http.ResponseWriter, _ map[string]any) bool {
			w.WriteHeader(http.StatusBadRequest)
			w.Write([]byte(`{"errorType":"Error","errorMessage":"Invitation required"}`))
			return true
		}, "UserLambdaValidationException", "PreSignUp failed with error Invitation required."},
		{"invalid JSON", func(w http.ResponseWriter, _ map[string]any) bool {
			w.Write([]byte(`{"response": {"autoConfirmUser": tru`))
			return true
		}, "InvalidLambdaResponseException", "Unrecognizable lambda output"},
		{"wrong type", func(_ http.ResponseWriter, ev map[string]any) bool {
			response(ev)["autoConfirmUser"] = "yes"
			return false
		}, "InvalidLambdaResponseException", "Unrecognizable lambda output"},
		{"response not an object", func(_ http.ResponseWriter, ev map[string]any) bool {
			ev["response"] = []any{true}
			return false
		}, "InvalidLambdaResponseException", "Unrecognizable lambda output"},
		{"500", func(w http.ResponseWriter, _ map[string]any) bool {
			http.Error(w, "boom", http.StatusInternalServerError)
			return true
		}, "UnexpectedLambdaException", "PreSignUp invocation failed due to error webhook failed."},
		{"redirect", func(w http.ResponseWriter, _ map[string]any) bool {
			w.Header().Set("Location", "http://127.0.0.1:1/elsewhere")
			w.WriteHeader(http.StatusTemporaryRedirect)
			return true
		}, "UnexpectedLambdaException", "PreSignUp invocation failed due to error webhook redirected."},
		{"timeout", func(w http.ResponseWriter, _ map[string]any) bool {
			time.Sleep(3 * hookTimeout)
			return true
		}, "UnexpectedLambdaException", "PreSignUp invocation failed due to error Socket timeout while invoking Lambda function."},
		{"oversized", func(w http.ResponseWriter, _ map[string]any) bool {
			w.Write([]byte(`{"response":{"autoConfirmUser":false},"pad":"` + strings.Repeat("x", 300<<10) + `"}`))
			return true
		}, "UnexpectedLambdaException", "PreSignUp invocation failed due to error webhook answer too large."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h.on("/preSignUp", tc.answer)
			start := time.Now()
			_, err := h.api.SignUp(h.ctx, &cip.SignUpInput{ClientId: aws.String(client), Username: aws.String("frank"),
				Password: aws.String(password), UserAttributes: []types.AttributeType{attrT("email", "frank@example.com")}})
			wantMessage(t, err, tc.code, tc.message)
			if d := time.Since(start); d > hookTimeout+time.Second {
				t.Fatalf("the failure took %v", d)
			}
			if n := h.countUsers(pool); n != 0 {
				t.Fatalf("%d users after a failed pre sign-up", n)
			}
			if _, err := h.adminGet(pool, "frank"); err == nil {
				t.Fatal("the refused user exists")
			}
		})
	}
	// An unreachable webhook is a failure like the others.
	must(h.api.UpdateUserPool(h.ctx, &cip.UpdateUserPoolInput{UserPoolId: aws.String(pool),
		AutoVerifiedAttributes: []types.VerifiedAttributeType{types.VerifiedAttributeTypeEmail},
		LambdaConfig:           &types.LambdaConfigType{PreSignUp: aws.String("http://127.0.0.1:1/hook")}}))(t)
	_, err := h.api.SignUp(h.ctx, &cip.SignUpInput{ClientId: aws.String(client), Username: aws.String("frank"), Password: aws.String(password)})
	wantMessage(t, err, "UnexpectedLambdaException", "PreSignUp invocation failed due to error webhook unreachable.")
	if n := h.countUsers(pool); n != 0 {
		t.Fatalf("%d users after an unreachable pre sign-up", n)
	}
}
