package sigv4

import (
	"encoding/hex"
	"strings"
)

// Bounds on attacker-controlled input. They are far above anything a real
// SDK sends and keep the work per request small and predictable.
const (
	maxAuthorizationLen = 8 << 10 // bytes in the Authorization header
	maxSignedHeaders    = 64      // entries in SignedHeaders
	maxAccessKeyIDLen   = 128     // AWS documents 16..128
	maxScopePartLen     = 64      // region and service names
	maxQueryParams      = 512     // name=value pairs in the query string
)

const (
	algorithm  = "AWS4-HMAC-SHA256"
	terminator = "aws4_request"
)

// authHeader is the parsed form of
//
//	AWS4-HMAC-SHA256 Credential=AKID/DATE/REGION/SERVICE/aws4_request, SignedHeaders=a;b, Signature=hex
//
// Only syntax is checked here; whether the scope fits the request is
// decided by Verify.
type authHeader struct {
	AccessKeyID string
	Date        string // YYYYMMDD from the credential scope
	Region      string
	Service     string
	Terminator  string

	SignedHeaders    []string // lowercase, strictly ascending
	SignedHeadersRaw string   // as sent; it goes verbatim into the canonical request
	Signature        [32]byte
}

// scope returns DATE/REGION/SERVICE/TERMINATOR, the credential scope line of
// the string to sign.
func (a *authHeader) scope() string {
	return a.Date + "/" + a.Region + "/" + a.Service + "/" + a.Terminator
}

// parseAuthorization parses an Authorization header value. All failures are
// ErrMalformed.
func parseAuthorization(h string) (authHeader, error) {
	var a authHeader
	if len(h) > maxAuthorizationLen {
		return a, fail(ErrMalformed, "Authorization header is too long.")
	}
	rest, ok := strings.CutPrefix(h, algorithm)
	if !ok || rest == "" || rest[0] != ' ' {
		return a, fail(ErrMalformed, "Unsupported authorization type; only AWS4-HMAC-SHA256 is accepted.")
	}

	var cred, signed, sig string
	var haveCred, haveSigned, haveSig bool
	for part := range strings.SplitSeq(rest, ",") {
		part = strings.Trim(part, " ")
		if part == "" {
			continue // tolerate "a=1,, b=2" and a trailing comma
		}
		k, val, ok := strings.Cut(part, "=")
		if !ok {
			return a, fail(ErrMalformed, "Authorization header parameter is not of the form key=value.")
		}
		var dst *string
		var seen *bool
		switch k {
		case "Credential":
			dst, seen = &cred, &haveCred
		case "SignedHeaders":
			dst, seen = &signed, &haveSigned
		case "Signature":
			dst, seen = &sig, &haveSig
		default:
			return a, fail(ErrMalformed, "Authorization header has an unknown parameter.")
		}
		if *seen {
			return a, fail(ErrMalformed, "Authorization header repeats the '"+k+"' parameter.")
		}
		*dst, *seen = val, true
	}
	// Report every missing parameter at once, as AWS does.
	var missing []string
	if !haveCred {
		missing = append(missing, "Authorization header requires 'Credential' parameter.")
	}
	if !haveSig {
		missing = append(missing, "Authorization header requires 'Signature' parameter.")
	}
	if !haveSigned {
		missing = append(missing, "Authorization header requires 'SignedHeaders' parameter.")
	}
	if len(missing) > 0 {
		return a, fail(ErrMalformed, strings.Join(missing, " "))
	}

	if err := a.parseCredential(cred); err != nil {
		return a, err
	}
	if err := a.parseSignedHeaders(signed); err != nil {
		return a, err
	}
	if len(sig) != 2*len(a.Signature) {
		return a, fail(ErrMalformed, "Signature must be 64 hexadecimal characters.")
	}
	if _, err := hex.Decode(a.Signature[:], []byte(sig)); err != nil {
		return a, fail(ErrMalformed, "Signature must be 64 hexadecimal characters.")
	}
	return a, nil
}

func (a *authHeader) parseCredential(c string) error {
	const bad = "Credential must have the form <access key>/<YYYYMMDD>/<region>/<service>/aws4_request."
	parts := strings.Split(c, "/")
	if len(parts) != 5 {
		return fail(ErrMalformed, bad)
	}
	a.AccessKeyID, a.Date, a.Region, a.Service, a.Terminator = parts[0], parts[1], parts[2], parts[3], parts[4]
	if !validAccessKeyID(a.AccessKeyID) ||
		!allDigits(a.Date, 8) ||
		!validScopePart(a.Region) ||
		!validScopePart(a.Service) ||
		!validScopePart(a.Terminator) {
		return fail(ErrMalformed, bad)
	}
	return nil
}

func (a *authHeader) parseSignedHeaders(s string) error {
	if s == "" {
		return fail(ErrMalformed, "SignedHeaders must not be empty.")
	}
	// Count before splitting so a huge list cannot make us allocate much.
	if strings.Count(s, ";") >= maxSignedHeaders {
		return fail(ErrMalformed, "SignedHeaders lists too many headers.")
	}
	a.SignedHeadersRaw = s
	a.SignedHeaders = strings.Split(s, ";")
	for i, name := range a.SignedHeaders {
		if !validHeaderName(name) {
			return fail(ErrMalformed, "SignedHeaders must be lowercase header names separated by ';'.")
		}
		// The spec requires sorted order; insisting on it (and on no
		// duplicates) means the list we hash is the one the client hashed.
		if i > 0 && a.SignedHeaders[i-1] >= name {
			return fail(ErrMalformed, "SignedHeaders must be sorted and free of duplicates.")
		}
	}
	return nil
}

// validAccessKeyID accepts printable ASCII without the characters that
// delimit the header, so odd ids still reach Lookup but nothing can smuggle
// structure through it.
func validAccessKeyID(s string) bool {
	if s == "" || len(s) > maxAccessKeyIDLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || c == ',' || c == '=' || c == ';' {
			return false
		}
	}
	return true
}

// validScopePart accepts names like "us-east-1", "cognito-idp" and
// "aws4_request".
func validScopePart(s string) bool {
	if s == "" || len(s) > maxScopePartLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

func allDigits(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// validHeaderName reports whether s is a non-empty lowercase RFC 9110 token.
func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}
