package sigv4

import (
	"encoding/hex"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
)

const seedAuthz = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260314/us-east-1/cognito-idp/aws4_request, " +
	"SignedHeaders=content-length;content-type;host;x-amz-date;x-amz-target, " +
	"Signature=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

// FuzzParseAuthorization: the parser never panics, and whatever it accepts
// is within bounds and survives a format/parse round trip unchanged.
func FuzzParseAuthorization(f *testing.F) {
	for _, s := range []string{
		seedAuthz,
		"AWS4-HMAC-SHA256 Credential=a/20110909/us-east-1/host/aws4_request,SignedHeaders=date;host,Signature=" + strings.Repeat("f", 64),
		"AWS4-HMAC-SHA256 ",
		"AWS4-HMAC-SHA256 Credential=, SignedHeaders=, Signature=",
		"AWS4-HMAC-SHA256 ,,,,=,=",
		"Bearer x",
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		a, err := parseAuthorization(h)
		if err != nil {
			return
		}
		if len(h) > maxAuthorizationLen {
			t.Fatalf("accepted %d-byte header", len(h))
		}
		if len(a.SignedHeaders) == 0 || len(a.SignedHeaders) > maxSignedHeaders {
			t.Fatalf("accepted %d signed headers", len(a.SignedHeaders))
		}
		if !slices.IsSorted(a.SignedHeaders) || strings.Join(a.SignedHeaders, ";") != a.SignedHeadersRaw {
			t.Fatalf("signed headers %q vs raw %q", a.SignedHeaders, a.SignedHeadersRaw)
		}
		for _, part := range []string{a.AccessKeyID, a.Date, a.Region, a.Service, a.Terminator} {
			if part == "" || strings.ContainsAny(part, "/, =;") {
				t.Fatalf("bad credential part %q in %+v", part, a)
			}
		}
		again := "AWS4-HMAC-SHA256 Credential=" + a.AccessKeyID + "/" + a.scope() +
			", SignedHeaders=" + a.SignedHeadersRaw + ", Signature=" + hex.EncodeToString(a.Signature[:])
		b, err := parseAuthorization(again)
		if err != nil {
			t.Fatalf("re-parse of %q: %v", again, err)
		}
		if b.AccessKeyID != a.AccessKeyID || b.scope() != a.scope() || b.SignedHeadersRaw != a.SignedHeadersRaw || b.Signature != a.Signature {
			t.Fatalf("round trip changed %+v into %+v", a, b)
		}
	})
}

// FuzzVerify: Verify never panics, never reports an internal error for a
// configured Verifier, and a request it accepts stops verifying when the
// body changes.
func FuzzVerify(f *testing.F) {
	// Seed with a genuinely valid request so the fuzzer starts from a state
	// that reaches the signature comparison.
	r, body := signedCognito(f)
	f.Add(r.Header.Get("Authorization"), r.Header.Get("X-Amz-Date"), r.Method, r.URL.Path, r.URL.RawQuery, r.Host,
		string(body), "X-Amz-Target", r.Header.Get("X-Amz-Target"))
	f.Add(seedAuthz, "20260314T150926Z", "GET", "/a b/%zz", "a=%zz&&=&;", "", "", "X-Amz-Foo", "bar")
	f.Add("", "", "", "", "", "", "", "", "")
	f.Add("AWS4-HMAC-SHA256 x", "Mon, 09 Sep 2011 23:36:00 GMT", "POST", "//", "?", "h:1", "{}", "Date", "x")

	v := newVerifier(t0)
	f.Fuzz(func(t *testing.T, authz, amzDate, method, path, rawQuery, host, body, extraName, extraValue string) {
		req := &http.Request{
			Method: method,
			URL:    &url.URL{Path: path, RawQuery: rawQuery},
			Host:   host,
			Header: http.Header{},
		}
		if authz != "" {
			req.Header.Set("Authorization", authz)
		}
		if amzDate != "" {
			req.Header.Set("X-Amz-Date", amzDate)
		}
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		req.ContentLength = int64(len(body))
		if extraName != "" {
			req.Header[extraName] = append(req.Header[extraName], extraValue) // raw key on purpose
		}
		_, err := v.Verify(req, []byte(body))
		status, typ, msg := ErrorCode(err)
		if err != nil && (status != http.StatusBadRequest || typ == "" || msg == "") {
			t.Fatalf("error %v mapped to %d %q %q", err, status, typ, msg)
		}
		if err == nil {
			if _, err := v.Verify(req, []byte(body+"x")); err == nil {
				t.Fatal("accepted the same signature for a different body")
			}
		}
	})
}
