package sigv4

import (
	"cmp"
	"net/http"
	"net/textproto"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// appendCanonicalRequest appends the SigV4 canonical request:
//
//	METHOD \n URI \n QUERY \n HEADERS(name:value\n ...) \n SIGNEDHEADERS \n PAYLOADHASH
//
// It mirrors aws-sdk-go-v2's signer, which is what the clients we serve run.
func appendCanonicalRequest(buf []byte, r *http.Request, a *authHeader, payloadHash string) ([]byte, error) {
	method := r.Method
	if method == "" {
		method = http.MethodGet // net/http's meaning of an empty method
	}
	buf = append(buf, method...)
	buf = append(buf, '\n')

	buf = appendCanonicalURI(buf, r.URL)
	buf = append(buf, '\n')

	rawQuery := ""
	if r.URL != nil {
		rawQuery = r.URL.RawQuery
	}
	var err error
	if buf, err = appendCanonicalQuery(buf, rawQuery); err != nil {
		return nil, err
	}
	buf = append(buf, '\n')

	for _, name := range a.SignedHeaders {
		buf = append(buf, name...)
		buf = append(buf, ':')
		for i, v := range headerValues(r, name) {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = appendTrimmedValue(buf, v)
		}
		buf = append(buf, '\n')
	}
	buf = append(buf, '\n')

	buf = append(buf, a.SignedHeadersRaw...)
	buf = append(buf, '\n')
	buf = append(buf, payloadHash...)
	return buf, nil
}

// appendCanonicalURI encodes the request path the way the SDK does for every
// service but S3: it takes the path as sent on the wire (already
// percent-encoded) and percent-encodes it once more, keeping only '/' and
// RFC 3986 unreserved bytes. So "/a%20b" becomes "/a%2520b". Like the Go SDK,
// it does not remove dot segments.
func appendCanonicalURI(buf []byte, u *url.URL) []byte {
	p := ""
	if u != nil {
		if u.Opaque != "" {
			p = opaquePath(u.Opaque)
		} else {
			p = u.EscapedPath()
		}
	}
	if p == "" {
		p = "/"
	}
	return appendURIEncoded(buf, p, true)
}

// opaquePath extracts the path from an opaque URL of the form
// "//host/path?query", as the SDK signer does for pre-escaped requests.
func opaquePath(o string) string {
	if i := strings.IndexByte(o, '?'); i >= 0 {
		o = o[:i]
	}
	o = strings.TrimPrefix(o, "//")
	if i := strings.IndexByte(o, '/'); i >= 0 {
		return o[i:]
	}
	return ""
}

// appendCanonicalQuery decodes each name and value, re-encodes them strictly
// (space as %20, never '+'), and sorts by encoded name then encoded value:
// the spec sorts after encoding, and the orders can differ.
func appendCanonicalQuery(buf []byte, raw string) ([]byte, error) {
	if raw == "" {
		return buf, nil
	}
	if strings.Count(raw, "&") >= maxQueryParams {
		return nil, fail(ErrMalformed, "The query string has too many parameters.")
	}
	type pair struct{ k, v string }
	var params []pair
	for part := range strings.SplitSeq(raw, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		dk, err1 := url.QueryUnescape(k)
		dv, err2 := url.QueryUnescape(v)
		if err1 != nil || err2 != nil {
			return nil, fail(ErrMalformed, "The query string has an invalid percent-encoding.")
		}
		params = append(params, pair{
			k: string(appendURIEncoded(nil, dk, false)),
			v: string(appendURIEncoded(nil, dv, false)),
		})
	}
	slices.SortFunc(params, func(a, b pair) int {
		if c := cmp.Compare(a.k, b.k); c != 0 {
			return c
		}
		return cmp.Compare(a.v, b.v)
	})
	for i, p := range params {
		if i > 0 {
			buf = append(buf, '&')
		}
		buf = append(buf, p.k...)
		buf = append(buf, '=')
		buf = append(buf, p.v...)
	}
	return buf, nil
}

// appendURIEncoded percent-encodes (uppercase hex) every byte outside the
// RFC 3986 unreserved set, optionally keeping '/'.
func appendURIEncoded(buf []byte, s string, keepSlash bool) []byte {
	const hexUpper = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isUnreserved(c) || (keepSlash && c == '/') {
			buf = append(buf, c)
		} else {
			buf = append(buf, '%', hexUpper[c>>4], hexUpper[c&0xf])
		}
	}
	return buf
}

func isUnreserved(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

// headerValues returns the values of a signed header as the client saw them.
// net/http on the server moves some headers out of r.Header, so those are
// rebuilt from the fields that replaced them.
func headerValues(r *http.Request, name string) []string {
	switch name {
	case "host":
		host := r.Host
		if host == "" && r.URL != nil {
			host = r.URL.Host
		}
		return []string{host}
	}
	if vs, ok := r.Header[textproto.CanonicalMIMEHeaderKey(name)]; ok {
		return vs
	}
	if vs, ok := r.Header[name]; ok { // a non-canonical key set by hand
		return vs
	}
	switch name {
	case "content-length":
		// Absent from r.Header on requests built in-process; the SDK signs
		// the value it derives from ContentLength.
		if r.ContentLength >= 0 {
			return []string{strconv.FormatInt(r.ContentLength, 10)}
		}
	case "transfer-encoding":
		if len(r.TransferEncoding) > 0 {
			return []string{strings.Join(r.TransferEncoding, ",")}
		}
	}
	return nil
}

// appendTrimmedValue appends v without leading/trailing whitespace and with
// each run of spaces collapsed to one, as the spec and the SDK require.
func appendTrimmedValue(buf []byte, v string) []byte {
	v = strings.TrimSpace(v)
	for i := 0; i < len(v); i++ {
		if v[i] == ' ' && i > 0 && v[i-1] == ' ' {
			continue
		}
		buf = append(buf, v[i])
	}
	return buf
}
