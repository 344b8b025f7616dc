package sigv4

import (
	"errors"
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// TestRegionScope: a Verifier given Regions refuses a signature scoped to
// any other region with AWS's message, before looking the key up; without
// Regions any region verifies.
func TestRegionScope(t *testing.T) {
	cases := []struct {
		name    string
		regions []string
		signed  string
		wantErr bool
	}{
		{"any region without Regions", nil, "ap-southeast-2", false},
		{"the one region", []string{"us-east-1"}, "us-east-1", false},
		{"one of several", []string{"us-east-1", "eu-west-1"}, "eu-west-1", false},
		{"another region", []string{"us-east-1"}, "eu-west-1", true},
		{"not among several", []string{"us-east-1", "eu-west-1"}, "us-west-2", true},
		{"case differs", []string{"us-east-1"}, "US-EAST-1", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			body := []byte(`{"MaxResults":10}`)
			r := cognitoRequest(t, "https://cognito-idp."+c.signed+".amazonaws.com/", body)
			sdkSign(t, r, body, aws.Credentials{AccessKeyID: testAKID, SecretAccessKey: testSecret}, service, c.signed, t0)
			v := newVerifier(t0)
			v.Regions = c.regions
			looked := false
			v.Lookup = func(id string) (string, bool) { looked = true; return lookupTest(id) }
			id, err := v.Verify(r, body)
			if !c.wantErr {
				if err != nil || id.Region != c.signed {
					t.Fatalf("Verify = %+v, %v", id, err)
				}
				return
			}
			if !errors.Is(err, ErrSignatureMismatch) {
				t.Fatalf("got %v, want ErrSignatureMismatch", err)
			}
			if looked {
				t.Error("the key was looked up for a credential scoped to another region")
			}
			status, typ, msg := ErrorCode(err)
			want := "Credential should be scoped to a valid region, not '" + c.signed + "'."
			if status != http.StatusBadRequest || typ != "InvalidSignatureException" || msg != want {
				t.Fatalf("ErrorCode = %d %s %q, want 400 InvalidSignatureException %q", status, typ, msg, want)
			}
		})
	}
}
