package sigv4

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/smithy-go"
)

// cognitoHandler is a minimal cognito-idp endpoint: authenticate with the
// Verifier, answer ListUserPools, and report failures the way AWS does.
func cognitoHandler(t *testing.T, v *Verifier) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		body := readAll(t, http.MaxBytesReader(w, r.Body, 1<<20))
		if _, err := v.Verify(r, body); err != nil {
			status, typ, msg := ErrorCode(err)
			w.WriteHeader(status)
			json.NewEncoder(w).Encode(map[string]string{"__type": typ, "message": msg})
			return
		}
		if got := r.Header.Get("X-Amz-Target"); got != "AWSCognitoIdentityProviderService.ListUserPools" {
			t.Errorf("X-Amz-Target = %q", got)
		}
		w.Write([]byte(`{"UserPools":[]}`))
	}
}

// TestCognitoClientRoundTrip drives the real cognito-idp SDK client against
// a server using Verifier.
func TestCognitoClientRoundTrip(t *testing.T) {
	cases := []struct {
		name       string
		akid       string
		secret     string
		serverSkew time.Duration // server clock minus real time
		wantType   string        // "" = success
		wantMsg    string        // substring of the error message
	}{
		{name: "valid", akid: testAKID, secret: testSecret},
		{name: "wrong secret", akid: testAKID, secret: "not-the-secret", wantType: "InvalidSignatureException", wantMsg: "does not match"},
		{name: "unknown key", akid: "AKIDUNKNOWN", secret: testSecret, wantType: "UnrecognizedClientException", wantMsg: "security token"},
		{name: "client clock slow", akid: testAKID, secret: testSecret, serverSkew: 10 * time.Minute, wantType: "InvalidSignatureException", wantMsg: "Signature expired"},
		{name: "client clock fast", akid: testAKID, secret: testSecret, serverSkew: -10 * time.Minute, wantType: "InvalidSignatureException", wantMsg: "not yet current"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := &Verifier{Service: service, Lookup: lookupTest,
				Now: func() time.Time { return time.Now().Add(c.serverSkew) }}
			srv := httptest.NewServer(cognitoHandler(t, v))
			defer srv.Close()

			client := cip.New(cip.Options{
				Region:       "us-east-1",
				BaseEndpoint: aws.String(srv.URL),
				Credentials:  credentials.NewStaticCredentialsProvider(c.akid, c.secret, ""),
				HTTPClient:   srv.Client(),
				Retryer:      aws.NopRetryer{},
			})
			out, err := client.ListUserPools(context.Background(), &cip.ListUserPoolsInput{MaxResults: aws.Int32(10)})

			if c.wantType == "" {
				if err != nil {
					t.Fatalf("ListUserPools: %v", err)
				}
				if out.UserPools == nil || len(out.UserPools) != 0 {
					t.Fatalf("UserPools = %#v", out.UserPools)
				}
				return
			}
			var apiErr smithy.APIError
			if !errors.As(err, &apiErr) {
				t.Fatalf("want API error %s, got %v", c.wantType, err)
			}
			if apiErr.ErrorCode() != c.wantType || !strings.Contains(apiErr.ErrorMessage(), c.wantMsg) {
				t.Errorf("got %s: %q; want %s containing %q", apiErr.ErrorCode(), apiErr.ErrorMessage(), c.wantType, c.wantMsg)
			}
			var respErr *awshttp.ResponseError
			if !errors.As(err, &respErr) || respErr.HTTPStatusCode() != http.StatusBadRequest {
				t.Errorf("want HTTP 400, got %v", err)
			}
		})
	}
}
