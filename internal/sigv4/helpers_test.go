package sigv4

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/smithy-go/logging"
)

// Example credentials from the AWS documentation; not real.
const (
	testAKID   = "AKIDEXAMPLE"
	testSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
	service    = "cognito-idp"
)

// t0 is an arbitrary fixed signing time for deterministic tests.
var t0 = time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)

func lookupTest(id string) (string, bool) {
	if id == testAKID {
		return testSecret, true
	}
	return "", false
}

func newVerifier(now time.Time) *Verifier {
	return &Verifier{Service: service, Lookup: lookupTest, Now: func() time.Time { return now }}
}

func hexSHA256(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// sdkSign signs r with aws-sdk-go-v2's own SigV4 signer and returns the
// canonical request the SDK computed (captured from its debug log), so a
// failing test can show exactly where we disagree.
func sdkSign(tb testing.TB, r *http.Request, body []byte, creds aws.Credentials, svc, region string, at time.Time) string {
	tb.Helper()
	var canonical string
	logger := logging.LoggerFunc(func(_ logging.Classification, _ string, v ...interface{}) {
		if len(v) > 0 {
			canonical, _ = v[0].(string)
		}
	})
	err := v4.NewSigner().SignHTTP(context.Background(), creds, r, hexSHA256(body), svc, region, at,
		func(o *v4.SignerOptions) { o.LogSigning = true; o.Logger = logger })
	if err != nil {
		tb.Fatalf("SDK SignHTTP: %v", err)
	}
	return canonical
}

// cognitoRequest is a typical admin call as the cognito-idp client makes it.
func cognitoRequest(tb testing.TB, url string, body []byte) *http.Request {
	tb.Helper()
	r, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	r.Header.Set("Content-Type", "application/x-amz-json-1.1")
	r.Header.Set("X-Amz-Target", "AWSCognitoIdentityProviderService.ListUserPools")
	return r
}

// signedCognito returns a cognito-style request signed by the SDK at t0.
func signedCognito(tb testing.TB) (*http.Request, []byte) {
	tb.Helper()
	body := []byte(`{"MaxResults":10}`)
	r := cognitoRequest(tb, "https://cognito-idp.us-east-1.amazonaws.com/", body)
	sdkSign(tb, r, body, aws.Credentials{AccessKeyID: testAKID, SecretAccessKey: testSecret}, service, "us-east-1", t0)
	return r, body
}

// ourCanonical is our canonical request for r, for failure messages.
func ourCanonical(r *http.Request, body []byte) string {
	a, err := parseAuthorization(r.Header.Get("Authorization"))
	if err != nil {
		return "(unparsable Authorization: " + err.Error() + ")"
	}
	b, err := appendCanonicalRequest(nil, r, &a, hexSHA256(body))
	if err != nil {
		return "(error: " + err.Error() + ")"
	}
	return string(b)
}

func readAll(tb testing.TB, r io.Reader) []byte {
	tb.Helper()
	b, err := io.ReadAll(r)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}
