package sigv4

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

type sdkCase struct {
	name    string
	method  string
	base    string // scheme://host[:port] for the in-process mode; "" = https://cognito-idp.REGION.amazonaws.com
	target  string // path and query
	region  string
	body    string
	headers [][2]string // added before signing
	token   string      // session token
	sha     bool        // client sends X-Amz-Content-Sha256
	requery string      // in-process only: after signing, replace RawQuery with this equivalent spelling
}

var sdkCases = []sdkCase{
	{name: "ListUserPools us-east-1", region: "us-east-1", body: `{"MaxResults":10}`},
	{name: "eu-west-2", region: "eu-west-2", body: `{"UserPoolId":"eu-west-2_abc","Username":"alice"}`},
	{name: "ap-southeast-2", region: "ap-southeast-2", body: `{"MaxResults":60,"NextToken":"x/y+z=="}`},
	{name: "cn-north-1", region: "cn-north-1", body: `{}`},
	{name: "us-gov-west-1", region: "us-gov-west-1", body: `{"a":"ü ✓"}`},
	{name: "custom region name", region: "local", body: `{}`},
	{
		name:   "path needing encoding",
		region: "us-east-1",
		target: "/a%20b/%C3%BC/x+y/%2F/a:b@c!$&'()*,;=/~tilde/%25/-._",
		body:   `{}`,
	},
	{
		name:    "query parameters",
		region:  "us-west-2",
		target:  "/?b=2&a=1&a=0&c=x%20y&plus=a%2Bb&space=a+b&empty=&flag&sl=a%2Fb&dash=a-b&%C3%BC=%C3%BC&tilde=~",
		body:    `{}`,
		requery: "flag=&%c3%bc=%C3%BC&tilde=%7E&dash=a-b&sl=a/b&empty&space=a%20b&plus=a%2bb&c=x+y&a=1&b=2&a=0",
	},
	{
		name:   "header spacing and repeated values",
		region: "us-east-1",
		body:   `{}`,
		headers: [][2]string{
			{"X-Amz-Meta-Note", "  spaced    out   value  "},
			{"Cache-Control", "no-cache"},
			{"Cache-Control", "max-age=0"},
			{"X-Custom", "tab\tinside  and  spaces"},
		},
	},
	{name: "session token", region: "eu-central-1", body: `{}`, token: "FwoGZXIvYXdzEBYaDEXAMPLETOKEN//+=="},
	{name: "x-amz-content-sha256", region: "us-east-1", body: `{"MaxResults":1}`, sha: true},
	{name: "GET without body", method: http.MethodGet, region: "us-east-1", target: "/health?verbose=1"},
	{name: "DELETE without body", method: http.MethodDelete, region: "us-east-1", target: "/pools/p1"},
	{name: "large body", region: "us-east-1", body: `{"x":"` + strings.Repeat("abc", 20000) + `"}`},
	{name: "non-default port", base: "http://example.com:8443", region: "us-east-1", body: `{}`},
	{name: "default port stripped by SDK", base: "https://example.com:443", region: "us-east-1", body: `{}`},
}

func (c sdkCase) build(tb testing.TB, base string) (*http.Request, []byte) {
	tb.Helper()
	method := c.method
	if method == "" {
		method = http.MethodPost
	}
	target := c.target
	if target == "" {
		target = "/"
	}
	body := []byte(c.body)
	var rd io.Reader
	if len(body) > 0 {
		rd = bytes.NewReader(body)
	}
	r, err := http.NewRequest(method, base+target, rd)
	if err != nil {
		tb.Fatal(err)
	}
	if len(body) > 0 {
		r.Header.Set("Content-Type", "application/x-amz-json-1.1")
		r.Header.Set("X-Amz-Target", "AWSCognitoIdentityProviderService.ListUserPools")
	}
	for _, h := range c.headers {
		r.Header.Add(h[0], h[1])
	}
	if c.sha {
		r.Header.Set("X-Amz-Content-Sha256", hexSHA256(body))
	}
	return r, body
}

func (c sdkCase) creds() aws.Credentials {
	return aws.Credentials{AccessKeyID: testAKID, SecretAccessKey: testSecret, SessionToken: c.token}
}

// TestSDKSignedInProcess verifies requests signed by aws-sdk-go-v2's signer,
// handing Verify the very *http.Request the SDK signed.
func TestSDKSignedInProcess(t *testing.T) {
	for _, c := range sdkCases {
		t.Run(c.name, func(t *testing.T) {
			base := c.base
			if base == "" {
				base = "https://cognito-idp." + c.region + ".amazonaws.com"
			}
			r, body := c.build(t, base)
			sdkCanon := sdkSign(t, r, body, c.creds(), service, c.region, t0)
			if got := ourCanonical(r, body); got != sdkCanon {
				t.Errorf("canonical request differs\n--- SDK:\n%s\n--- ours:\n%s", sdkCanon, got)
			}
			if c.requery != "" {
				r.URL.RawQuery = c.requery
			}
			id, err := newVerifier(t0.Add(90*time.Second)).Verify(r, body)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if id != (Identity{AccessKeyID: testAKID, Region: c.region}) {
				t.Errorf("identity = %+v", id)
			}
		})
	}
}

// TestSDKSignedOverHTTP sends the same requests through net/http to a real
// server, so what Verify sees is what the server parsed off the wire
// (Host promoted out of the header map, Content-Length as a header, ...).
func TestSDKSignedOverHTTP(t *testing.T) {
	v := &Verifier{Service: service, Lookup: lookupTest}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body := readAll(t, http.MaxBytesReader(w, r.Body, 1<<20))
		id, err := v.Verify(r, body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		io.WriteString(w, id.AccessKeyID+" "+id.Region)
	}))
	defer srv.Close()

	for _, c := range sdkCases {
		if c.base != "" {
			continue // these need a host name we cannot dial
		}
		t.Run(c.name, func(t *testing.T) {
			r, body := c.build(t, srv.URL)
			sdkSign(t, r, body, c.creds(), service, c.region, time.Now())
			resp, err := srv.Client().Do(r)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			got := string(readAll(t, resp.Body))
			if resp.StatusCode != http.StatusOK || got != testAKID+" "+c.region {
				t.Fatalf("status %d: %s", resp.StatusCode, got)
			}
		})
	}
}

// TestAWSTestSuiteVectors checks published vectors from the AWS SigV4 test
// suite, which were produced by AWS's reference implementation rather than
// by any code in this repository. The 2011 vector exercises the Date header.
func TestAWSTestSuiteVectors(t *testing.T) {
	cases := []struct {
		name, method, url, date, dateHeader, svc, authz string
		now                                             time.Time
	}{
		{
			name: "get-vanilla", method: "GET", url: "https://example.amazonaws.com/",
			dateHeader: "X-Amz-Date", date: "20150830T123600Z", svc: "service",
			now:   time.Date(2015, 8, 30, 12, 36, 0, 0, time.UTC),
			authz: "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
		},
		{
			name: "post-vanilla", method: "POST", url: "https://example.amazonaws.com/",
			dateHeader: "X-Amz-Date", date: "20150830T123600Z", svc: "service",
			now:   time.Date(2015, 8, 30, 12, 38, 0, 0, time.UTC),
			authz: "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b",
		},
		{
			name: "get-vanilla-query-order-key-case", method: "GET", url: "https://example.amazonaws.com/?Param2=value2&Param1=value1",
			dateHeader: "X-Amz-Date", date: "20150830T123600Z", svc: "service",
			now:   time.Date(2015, 8, 30, 12, 34, 0, 0, time.UTC),
			authz: "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500",
		},
		{
			name: "2011 get-vanilla with Date header", method: "GET", url: "https://host.foo.com/",
			dateHeader: "Date", date: "Mon, 09 Sep 2011 23:36:00 GMT", svc: "host",
			now:   time.Date(2011, 9, 9, 23, 36, 0, 0, time.UTC),
			authz: "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20110909/us-east-1/host/aws4_request, SignedHeaders=date;host, Signature=b27ccfbfa7df52a200ff74193ca6e32d4b48b8856fab7ebf1c595d0670a7e470",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest(c.method, c.url, nil)
			r.Header.Set(c.dateHeader, c.date)
			r.Header.Set("Authorization", c.authz)
			v := &Verifier{Service: c.svc, Lookup: lookupTest, Now: func() time.Time { return c.now }}
			if _, err := v.Verify(r, nil); err != nil {
				t.Fatalf("Verify: %v\ncanonical:\n%s", err, ourCanonical(r, nil))
			}
			// One flipped signature bit must fail, or the test proves nothing.
			r.Header.Set("Authorization", c.authz[:len(c.authz)-1]+flipHex(c.authz[len(c.authz)-1:]))
			if _, err := v.Verify(r, nil); !errors.Is(err, ErrSignatureMismatch) {
				t.Fatalf("flipped signature: got %v", err)
			}
		})
	}
}

func flipHex(s string) string {
	if s == "0" {
		return "1"
	}
	return "0"
}
