package sigv4

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// editAuth rewrites the Authorization header in place.
func editAuth(r *http.Request, old, new string) {
	r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), old, new, 1))
}

// TestVerifyRejects starts from a request the SDK signed at t0 and breaks it
// one way at a time.
func TestVerifyRejects(t *testing.T) {
	type mut = func(t *testing.T, r *http.Request, body *[]byte, v *Verifier)
	cases := []struct {
		name string
		mut  mut
		want error // nil = must verify
	}{
		{"baseline verifies", func(*testing.T, *http.Request, *[]byte, *Verifier) {}, nil},
		{"unsigned User-Agent added", func(_ *testing.T, r *http.Request, _ *[]byte, _ *Verifier) {
			r.Header.Set("User-Agent", "proxy/1.0")
		}, nil},
		{"skew just inside 5 min", func(_ *testing.T, _ *http.Request, _ *[]byte, v *Verifier) {
			v.Now = func() time.Time { return t0.Add(5 * time.Minute) }
		}, nil},

		// Tampering.
		{"tampered body", func(_ *testing.T, _ *http.Request, b *[]byte, _ *Verifier) {
			*b = []byte(`{"MaxResults":60}`)
		}, ErrSignatureMismatch},
		{"body dropped", func(_ *testing.T, _ *http.Request, b *[]byte, _ *Verifier) { *b = nil }, ErrSignatureMismatch},
		{"tampered X-Amz-Target", func(_ *testing.T, r *http.Request, _ *[]byte, _ *Verifier) {
			r.Header.Set("X-Amz-Target", "AWSCognitoIdentityProviderService.DeleteUserPool")
		}, ErrSignatureMismatch},
		{"tampered Content-Type", func(_ *testing.T, r *http.Request, _ *[]byte, _ *Verifier) {
			r.Header.Set("Content-Type", "application/json")
		}, ErrSignatureMismatch},
		{"extra value on signed header", func(_ *testing.T, r *http.Request, _ *[]byte, _ *Verifier) {
			r.Header.Add("Content-Type", "text/plain")
		}, ErrSignatureMismatch},
		{"other host", func(_ *testing.T, r *http.Request, _ *[]byte, _ *Verifier) {
			r.Host = "cognito-idp.us-west-2.amazonaws.com"
		}, ErrSignatureMismatch},
		{"other method", func(_ *testing.T, r *http.Request, _ *[]byte, _ *Verifier) { r.Method = http.MethodPut }, ErrSignatureMismatch},
		{"other path", func(_ *testing.T, r *http.Request, _ *[]byte, _ *Verifier) { r.URL.Path = "/admin" }, ErrSignatureMismatch},
		{"query added", func(_ *testing.T, r *http.Request, _ *[]byte, _ *Verifier) { r.URL.RawQuery = "a=1" }, ErrSignatureMismatch},
		{"signature digit changed", func(_ *testing.T, r *http.Request, _ *[]byte, _ *Verifier) {
			a := r.Header.Get("Authorization")
			r.Header.Set("Authorization", a[:len(a)-1]+flipHex(a[len(a)-1:]))
		}, ErrSignatureMismatch},
		{"X-Amz-Date moved within skew", func(_ *testing.T, r *http.Request, _ *[]byte, _ *Verifier) {
			r.Header.Set("X-Amz-Date", t0.Add(time.Second).Format(isoBasic))
		}, ErrSignatureMismatch},
		{"content sha header wrong", func(_ *testing.T, r *http.Request, _ *[]byte, _ *Verifier) {
			r.Header.Set("X-Amz-Content-Sha256", hexSHA256([]byte("other")))
		}, ErrMalformed}, // unsigned x-amz-* header is caught first
		{"wrong secret", func(_ *testing.T, _ *http.Request, _ *[]byte, v *Verifier) {
			v.Lookup = func(string) (string, bool) { return "other-secret", true }
		}, ErrSignatureMismatch},

		// Credential scope.
		{"wrong date scope", func(_ *testing.T, r *http.Request, _ *[]byte, _ *Verifier) {
			editAuth(r, "/20260314/", "/20260313/")
		}, ErrSignatureMismatch},
		{"wrong service scope", func(_ *testing.T, r *http.Request, _ *[]byte, _ *Verifier) {
			editAuth(r, "/cognito-idp/", "/cognito-identity/")
		}, ErrSignatureMismatch},
		{"wrong region scope", func(_ *testing.T, r *http.Request, _ *[]byte, _ *Verifier) {
			editAuth(r, "/us-east-1/", "/us-west-2/")
		}, ErrSignatureMismatch},
		{"wrong terminator", func(_ *testing.T, r *http.Request, _ *[]byte, _ *Verifier) {
			editAuth(r, "/aws4_request", "/aws4_reqxest")
		}, ErrSignatureMismatch},
		{"verifier for another service", func(_ *testing.T, _ *http.Request, _ *[]byte, v *Verifier) {
			v.Service = "cognito-identity"
		}, ErrSignatureMismatch},

		// Time.
		{"expired", func(_ *testing.T, _ *http.Request, _ *[]byte, v *Verifier) {
			v.Now = func() time.Time { return t0.Add(5*time.Minute + time.Second) }
		}, ErrRequestExpired},
		{"from the future", func(_ *testing.T, _ *http.Request, _ *[]byte, v *Verifier) {
			v.Now = func() time.Time { return t0.Add(-5*time.Minute - time.Second) }
		}, ErrRequestExpired},
		{"custom MaxSkew", func(_ *testing.T, _ *http.Request, _ *[]byte, v *Verifier) {
			v.MaxSkew = time.Minute
			v.Now = func() time.Time { return t0.Add(2 * time.Minute) }
		}, ErrRequestExpired},
		{"days old", func(_ *testing.T, _ *http.Request, _ *[]byte, v *Verifier) {
			v.Now = func() time.Time { return t0.Add(72 * time.Hour) }
		}, ErrRequestExpired},

		// Keys.
		{"unknown key", func(_ *testing.T, r *http.Request, _ *[]byte, _ *Verifier) {
			editAuth(r, "Credential="+testAKID, "Credential=AKIDOTHER")
		}, ErrUnknownAccessKey},

		// Required signed headers.
		{"host not signed", func(_ *testing.T, r *http.Request, _ *[]byte, _ *Verifier) {
			editAuth(r, ";host;", ";")
		}, ErrMalformed},
		{"x-amz-date not signed", func(_ *testing.T, r *http.Request, _ *[]byte, _ *Verifier) {
			editAuth(r, ";x-amz-date;", ";")
		}, ErrMalformed},
		{"x-amz-target not signed", func(_ *testing.T, r *http.Request, _ *[]byte, _ *Verifier) {
			editAuth(r, ";x-amz-target,", ",")
		}, ErrMalformed},
		{"unsigned x-amz header added", func(_ *testing.T, r *http.Request, _ *[]byte, _ *Verifier) {
			r.Header.Set("X-Amz-Security-Token", "injected")
		}, ErrMalformed},

		// Missing or broken headers.
		{"no Authorization", func(_ *testing.T, r *http.Request, _ *[]byte, _ *Verifier) {
			r.Header.Del("Authorization")
		}, ErrMissingAuthentication},
		{"empty Authorization", func(_ *testing.T, r *http.Request, _ *[]byte, _ *Verifier) {
			r.Header.Set("Authorization", "")
		}, ErrMissingAuthentication},
		{"two Authorization headers", func(_ *testing.T, r *http.Request, _ *[]byte, _ *Verifier) {
			r.Header.Add("Authorization", r.Header.Get("Authorization"))
		}, ErrMalformed},
		{"no date header", func(_ *testing.T, r *http.Request, _ *[]byte, _ *Verifier) {
			r.Header.Del("X-Amz-Date")
		}, ErrMalformed},
		{"two X-Amz-Date headers", func(_ *testing.T, r *http.Request, _ *[]byte, _ *Verifier) {
			r.Header.Add("X-Amz-Date", r.Header.Get("X-Amz-Date"))
		}, ErrMalformed},
		{"X-Amz-Date not basic ISO 8601", func(_ *testing.T, r *http.Request, _ *[]byte, _ *Verifier) {
			r.Header.Set("X-Amz-Date", t0.Format(time.RFC3339))
		}, ErrMalformed},
		{"X-Amz-Date impossible day", func(_ *testing.T, r *http.Request, _ *[]byte, _ *Verifier) {
			r.Header.Set("X-Amz-Date", "20260231T000000Z")
		}, ErrMalformed},
		{"bad query escape", func(_ *testing.T, r *http.Request, _ *[]byte, _ *Verifier) {
			r.URL.RawQuery = "a=%zz"
		}, ErrMalformed},
		{"too many query params", func(_ *testing.T, r *http.Request, _ *[]byte, _ *Verifier) {
			r.URL.RawQuery = strings.Repeat("a=1&", maxQueryParams+1)
		}, ErrMalformed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, body := signedCognito(t)
			v := newVerifier(t0)
			c.mut(t, r, &body, v)
			_, err := v.Verify(r, body)
			if c.want == nil {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				return
			}
			if !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
		})
	}
}

// TestDateScopeAcrossMidnight: a request signed just before midnight whose
// X-Amz-Date was moved past midnight no longer matches its credential day.
func TestDateScopeAcrossMidnight(t *testing.T) {
	signedAt := time.Date(2026, 3, 14, 23, 59, 30, 0, time.UTC)
	body := []byte(`{}`)
	r := cognitoRequest(t, "https://cognito-idp.us-east-1.amazonaws.com/", body)
	sdkSign(t, r, body, aws.Credentials{AccessKeyID: testAKID, SecretAccessKey: testSecret}, service, "us-east-1", signedAt)
	later := signedAt.Add(time.Minute)
	r.Header.Set("X-Amz-Date", later.Format(isoBasic))
	_, err := newVerifier(later).Verify(r, body)
	if !errors.Is(err, ErrSignatureMismatch) {
		t.Fatalf("got %v", err)
	}
	if _, _, msg := ErrorCode(err); !strings.Contains(msg, "'20260314' != '20260315'") {
		t.Errorf("message %q", msg)
	}
}

// TestGarbageAuthorization feeds malformed Authorization headers.
func TestGarbageAuthorization(t *testing.T) {
	const good = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260314/us-east-1/cognito-idp/aws4_request, SignedHeaders=host;x-amz-date, Signature=" +
		"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	manyHeaders := make([]string, maxSignedHeaders+1)
	for i := range manyHeaders {
		manyHeaders[i] = "h" + strings.Repeat("a", i)
	}
	cases := []struct{ name, authz string }{
		{"bearer token", "Bearer eyJhbGciOiJIUzI1NiJ9.e30.x"},
		{"sigv2", "AWS AKIDEXAMPLE:frJIUN8DYpKDtOLCwo//yllqDzg="},
		{"sigv4a", strings.Replace(good, "AWS4-HMAC-SHA256", "AWS4-ECDSA-P256-SHA256", 1)},
		{"algorithm only", "AWS4-HMAC-SHA256"},
		{"algorithm and space", "AWS4-HMAC-SHA256 "},
		{"no space after algorithm", strings.Replace(good, "AWS4-HMAC-SHA256 ", "AWS4-HMAC-SHA256", 1)},
		{"missing Signature", good[:strings.Index(good, ", Signature")]},
		{"missing Credential", strings.Replace(good, "Credential=AKIDEXAMPLE/20260314/us-east-1/cognito-idp/aws4_request, ", "", 1)},
		{"missing SignedHeaders", strings.Replace(good, "SignedHeaders=host;x-amz-date, ", "", 1)},
		{"duplicate Credential", good + ", Credential=AKIDEXAMPLE/20260314/us-east-1/cognito-idp/aws4_request"},
		{"unknown parameter", good + ", Foo=bar"},
		{"part without =", good + ", junk"},
		{"lowercase key", strings.Replace(good, "Signature=", "signature=", 1)},
		{"short signature", good[:len(good)-2]},
		{"long signature", good + "00"},
		{"non-hex signature", good[:len(good)-1] + "g"},
		{"credential with 4 parts", strings.Replace(good, "/cognito-idp", "", 1)},
		{"credential with 6 parts", strings.Replace(good, "/aws4_request", "/aws4_request/x", 1)},
		{"empty access key", strings.Replace(good, "AKIDEXAMPLE", "", 1)},
		{"access key with space", strings.Replace(good, "AKIDEXAMPLE", "AKID EXAMPLE", 1)},
		{"long access key", strings.Replace(good, "AKIDEXAMPLE", strings.Repeat("A", maxAccessKeyIDLen+1), 1)},
		{"short date", strings.Replace(good, "20260314", "2026031", 1)},
		{"non-digit date", strings.Replace(good, "20260314", "2026031x", 1)},
		{"empty region", strings.Replace(good, "us-east-1", "", 1)},
		{"region with slash-like junk", strings.Replace(good, "us-east-1", "us east", 1)},
		{"empty SignedHeaders", strings.Replace(good, "host;x-amz-date", "", 1)},
		{"uppercase signed header", strings.Replace(good, "host;x-amz-date", "Host;x-amz-date", 1)},
		{"unsorted signed headers", strings.Replace(good, "host;x-amz-date", "x-amz-date;host", 1)},
		{"duplicate signed header", strings.Replace(good, "host;x-amz-date", "host;host;x-amz-date", 1)},
		{"empty signed header name", strings.Replace(good, "host;x-amz-date", "host;;x-amz-date", 1)},
		{"signed header with space", strings.Replace(good, "host;x-amz-date", "host;x amz;x-amz-date", 1)},
		{"too many signed headers", strings.Replace(good, "host;x-amz-date", strings.Join(manyHeaders, ";"), 1)},
		{"over 8 KiB", good + ", " + strings.Repeat(" ", maxAuthorizationLen)},
		{"binary", "AWS4-HMAC-SHA256 \x00\xff\xfe=\x01"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "https://cognito-idp.us-east-1.amazonaws.com/", nil)
			r.Header.Set("X-Amz-Date", t0.Format(isoBasic))
			r.Header.Set("Authorization", c.authz)
			_, err := newVerifier(t0).Verify(r, nil)
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("got %v, want ErrMalformed", err)
			}
			if status, typ, msg := ErrorCode(err); status != 400 || typ != "IncompleteSignatureException" || msg == "" {
				t.Errorf("ErrorCode = %d %s %q", status, typ, msg)
			}
		})
	}
}

// TestParseAuthorizationTolerance: spacing variations that real clients
// produce must still parse.
func TestParseAuthorizationTolerance(t *testing.T) {
	const sig = "0123456789abcdef0123456789ABCDEF0123456789abcdef0123456789abcdef"
	for _, h := range []string{
		"AWS4-HMAC-SHA256 Credential=AK/20260314/r/s/aws4_request, SignedHeaders=host, Signature=" + sig,
		"AWS4-HMAC-SHA256 Credential=AK/20260314/r/s/aws4_request,SignedHeaders=host,Signature=" + sig,
		"AWS4-HMAC-SHA256   Signature=" + sig + " ,  SignedHeaders=host ,Credential=AK/20260314/r/s/aws4_request,",
	} {
		a, err := parseAuthorization(h)
		if err != nil {
			t.Errorf("%q: %v", h, err)
			continue
		}
		if a.AccessKeyID != "AK" || a.Date != "20260314" || a.Region != "r" || a.Service != "s" ||
			a.Terminator != terminator || a.SignedHeadersRaw != "host" || a.Signature[0] != 0x01 {
			t.Errorf("%q parsed as %+v", h, a)
		}
	}
}

func TestVerifierMisuse(t *testing.T) {
	r, body := signedCognito(t)
	for name, v := range map[string]*Verifier{
		"nil verifier": nil,
		"no service":   {Lookup: lookupTest},
		"no lookup":    {Service: service},
	} {
		_, err := v.Verify(r, body)
		if err == nil {
			t.Fatalf("%s: no error", name)
		}
		if status, typ, _ := ErrorCode(err); status != 500 || typ != "InternalFailure" {
			t.Errorf("%s: ErrorCode = %d %s", name, status, typ)
		}
	}
	if _, err := newVerifier(t0).Verify(nil, nil); err == nil {
		t.Fatal("nil request verified")
	}
	// A request without URL or header map must not panic.
	if _, err := newVerifier(t0).Verify(&http.Request{Method: "POST"}, nil); !errors.Is(err, ErrMissingAuthentication) {
		t.Fatalf("bare request: %v", err)
	}
}

func TestErrorCode(t *testing.T) {
	cases := []struct {
		err            error
		status         int
		typ, msgPrefix string
	}{
		{nil, 200, "", ""},
		{ErrMissingAuthentication, 400, "MissingAuthenticationTokenException", "Request is missing Authentication Token"},
		{ErrMalformed, 400, "IncompleteSignatureException", "The request signature does not conform"},
		{ErrUnknownAccessKey, 400, "UnrecognizedClientException", "The security token included in the request is invalid."},
		{ErrSignatureMismatch, 400, "InvalidSignatureException", "The request signature we calculated does not match"},
		{ErrRequestExpired, 400, "InvalidSignatureException", "Signature expired"},
		{fail(ErrMalformed, "specific"), 400, "IncompleteSignatureException", "specific"},
		{errors.New("db down"), 500, "InternalFailure", "An internal error occurred."},
	}
	for _, c := range cases {
		status, typ, msg := ErrorCode(c.err)
		if status != c.status || typ != c.typ || !strings.HasPrefix(msg, c.msgPrefix) {
			t.Errorf("ErrorCode(%v) = %d %q %q", c.err, status, typ, msg)
		}
	}

	// The skew message follows AWS's wording, which clients log verbatim.
	r, body := signedCognito(t)
	_, err := newVerifier(t0.Add(10*time.Minute)).Verify(r, body)
	_, _, msg := ErrorCode(err)
	const want = "Signature expired: 20260314T150926Z is now earlier than 20260314T151426Z (20260314T151926Z - 5 min.)"
	if msg != want {
		t.Errorf("got  %q\nwant %q", msg, want)
	}
}

// TestKeyCacheBounded checks the cache never grows past its bound and that a
// cached key is the derived one.
func TestKeyCacheBounded(t *testing.T) {
	v := &Verifier{Service: service, Lookup: lookupTest}
	for i := 0; i < 3*keyCacheSize; i++ {
		day := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, i).Format("20060102")
		got := v.signingKey(testSecret, day, "us-east-1", service)
		if got != deriveKey(testSecret, day, "us-east-1", service) {
			t.Fatal("cached key differs from derived key")
		}
		if again := v.signingKey(testSecret, day, "us-east-1", service); again != got {
			t.Fatal("second lookup differs")
		}
	}
	if n := len(v.keys); n > keyCacheSize {
		t.Fatalf("cache holds %d entries, bound is %d", n, keyCacheSize)
	}
}

// TestConcurrentVerify exercises the key cache under the race detector.
func TestConcurrentVerify(t *testing.T) {
	v := newVerifier(t0)
	done := make(chan error)
	for g := 0; g < 8; g++ {
		go func() {
			var err error
			for i := 0; i < 50 && err == nil; i++ {
				r, body := signedCognito(t)
				_, err = v.Verify(r, body)
			}
			done <- err
		}()
	}
	for g := 0; g < 8; g++ {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}

// TestRejectReasons pins the reason (message) for rejections whose sentinel
// alone could hide an earlier check firing instead of the intended one.
func TestRejectReasons(t *testing.T) {
	cases := []struct {
		name string
		mut  func(r *http.Request, body *[]byte, v *Verifier)
		want string
	}{
		{"host not signed", func(r *http.Request, _ *[]byte, _ *Verifier) { editAuth(r, ";host;", ";") }, "'Host' must be a 'SignedHeader'"},
		{"x-amz-date not signed", func(r *http.Request, _ *[]byte, _ *Verifier) { editAuth(r, ";x-amz-date;", ";") }, "'x-amz-date' must be a 'SignedHeader'"},
		{"x-amz-target not signed", func(r *http.Request, _ *[]byte, _ *Verifier) { editAuth(r, ";x-amz-target,", ",") }, "'x-amz-target' is present but not signed"},
		{"wrong service", func(r *http.Request, _ *[]byte, _ *Verifier) { editAuth(r, "/cognito-idp/", "/cognito-identity/") }, "scoped to correct service: 'cognito-idp'"},
		{"wrong terminator", func(r *http.Request, _ *[]byte, _ *Verifier) { editAuth(r, "/aws4_request", "/aws5_request") }, "valid terminator"},
		{"wrong date", func(r *http.Request, _ *[]byte, _ *Verifier) { editAuth(r, "/20260314/", "/20260313/") }, "Date in Credential scope does not match"},
		{"future", func(_ *http.Request, _ *[]byte, v *Verifier) { v.Now = func() time.Time { return t0.Add(-time.Hour) } }, "Signature not yet current"},
		{"tampered body", func(_ *http.Request, b *[]byte, _ *Verifier) { *b = []byte("{}") }, "does not match the signature you provided"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, body := signedCognito(t)
			v := newVerifier(t0)
			c.mut(r, &body, v)
			_, err := v.Verify(r, body)
			if _, _, msg := ErrorCode(err); !strings.Contains(msg, c.want) {
				t.Fatalf("message %q does not contain %q (err %v)", msg, c.want, err)
			}
		})
	}
}

// TestSignedContentSHAMismatch: a signed X-Amz-Content-Sha256 that does not
// describe the body is rejected before any signature work.
func TestSignedContentSHAMismatch(t *testing.T) {
	for _, hash := range []string{hexSHA256([]byte("other")), "UNSIGNED-PAYLOAD", strings.ToUpper(hexSHA256([]byte(`{}`)))} {
		body := []byte(`{}`)
		r := cognitoRequest(t, "https://cognito-idp.us-east-1.amazonaws.com/", body)
		r.Header.Set("X-Amz-Content-Sha256", hash)
		sdkSign(t, r, body, aws.Credentials{AccessKeyID: testAKID, SecretAccessKey: testSecret}, service, "us-east-1", t0)
		_, err := newVerifier(t0).Verify(r, body)
		if _, _, msg := ErrorCode(err); !errors.Is(err, ErrSignatureMismatch) || !strings.Contains(msg, "x-amz-content-sha256") {
			t.Errorf("%s: got %v", hash, err)
		}
	}
}
