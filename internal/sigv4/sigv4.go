// Package sigv4 verifies AWS Signature Version 4 (AWS4-HMAC-SHA256) on
// incoming HTTP requests, so that unmodified AWS SDK clients can
// authenticate to a server that speaks an AWS API (here: admin operations of
// a Cognito-compatible identity provider, service "cognito-idp").
//
// Only the header form is supported (Authorization: AWS4-HMAC-SHA256 ...);
// presigned query-string URLs and chunked/streaming payloads are not. The
// canonical request is built the way aws-sdk-go-v2 builds it for non-S3
// services (the path is percent-encoded a second time, dot segments are kept).
//
// SigV4 does not stop replays: a captured request stays valid for MaxSkew.
// Operations that must not run twice need their own idempotency guard.
//
// Typical use in a handler:
//
//	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
//	...
//	id, err := verifier.Verify(r, body)
//	if err != nil {
//		status, typ, msg := sigv4.ErrorCode(err)
//		// reply status with {"__type": typ, "message": msg}
//	}
package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// CredentialsFunc looks up the secret access key for an access key id; ok is
// false if the id is unknown. It is called only after the Authorization
// header has parsed and the request time is within the allowed skew, so
// anonymous garbage does not reach the credential store.
type CredentialsFunc func(accessKeyID string) (secret string, ok bool)

// Identity is who signed a request that verified.
type Identity struct {
	AccessKeyID string
	// Region is the region from the credential scope: one of
	// Verifier.Regions, or any region when that is empty.
	Region string
}

// DefaultMaxSkew is the clock difference AWS tolerates between a request's
// time and the server's.
const DefaultMaxSkew = 5 * time.Minute

// keyCacheSize bounds the derived-key cache; one entry is one
// (secret, day, region) so this is plenty for any realistic key count.
const keyCacheSize = 256

// Verifier checks SigV4 signatures. Set the exported fields before first
// use and do not change them afterwards. A Verifier is safe for concurrent
// use and must not be copied after first use (it holds a mutex). It keeps up
// to 256 derived signing keys (one per secret, day and region) in memory.
type Verifier struct {
	// Service is the signing name clients use, e.g. "cognito-idp". Required.
	Service string
	// Regions are the regions this endpoint answers for. A credential
	// scoped to another region is refused, as AWS refuses it, rather than
	// accepted for an endpoint it was not meant for. Empty accepts any.
	Regions []string
	// Lookup resolves access key ids to secrets. Required.
	Lookup CredentialsFunc
	// MaxSkew is how far the request time may be from Now, either way.
	// Zero (or negative) means DefaultMaxSkew.
	MaxSkew time.Duration
	// Now returns the current time; nil means time.Now.
	Now func() time.Time

	mu   sync.Mutex
	keys map[keyCacheKey][32]byte

	noKeyCache bool // for the benchmark that measures what the cache saves
}

type keyCacheKey struct{ secret, date, region, service string }

// Verify checks the request's Authorization header against the request and
// body, its already-read payload (nil means empty). It does not touch
// r.Body. On success it returns who signed it.
//
// Errors wrap one of ErrMissingAuthentication, ErrMalformed,
// ErrUnknownAccessKey, ErrSignatureMismatch or ErrRequestExpired; pass them
// to [ErrorCode] to build the response.
func (v *Verifier) Verify(r *http.Request, body []byte) (Identity, error) {
	if v == nil || v.Service == "" || v.Lookup == nil || r == nil {
		return Identity{}, errNotConfigured
	}

	authz := r.Header.Values("Authorization")
	switch {
	case len(authz) == 0 || (len(authz) == 1 && authz[0] == ""):
		return Identity{}, fail(ErrMissingAuthentication, msgMissing)
	case len(authz) > 1:
		return Identity{}, fail(ErrMalformed, "Only one Authorization header is allowed.")
	}
	a, err := parseAuthorization(authz[0])
	if err != nil {
		return Identity{}, err
	}

	ts, err := requestTime(r.Header)
	if err != nil {
		return Identity{}, err
	}
	if err := checkSignedHeaders(r.Header, &a, ts.header); err != nil {
		return Identity{}, err
	}
	if err := v.checkScope(&a, ts.iso); err != nil {
		return Identity{}, err
	}
	if err := v.checkSkew(ts.t); err != nil {
		return Identity{}, err
	}

	secret, ok := v.Lookup(a.AccessKeyID)
	if !ok {
		return Identity{}, fail(ErrUnknownAccessKey, msgUnknownKey)
	}

	payloadHash, err := payloadHash(r.Header, body)
	if err != nil {
		return Identity{}, err
	}
	canon, err := appendCanonicalRequest(make([]byte, 0, 512), r, &a, payloadHash)
	if err != nil {
		return Identity{}, err
	}

	key := v.signingKey(secret, a.Date, a.Region, a.Service)
	mac := hmac.New(sha256.New, key[:])
	writeStringToSign(mac, ts.iso, a.scope(), canon)
	if !hmac.Equal(mac.Sum(nil), a.Signature[:]) {
		return Identity{}, fail(ErrSignatureMismatch, msgMismatch)
	}
	return Identity{AccessKeyID: a.AccessKeyID, Region: a.Region}, nil
}

// writeStringToSign writes
//
//	AWS4-HMAC-SHA256 \n ISO8601-TIME \n SCOPE \n hex(sha256(canonical request))
//
// straight into the HMAC, avoiding an intermediate string.
func writeStringToSign(w io.Writer, iso, scope string, canon []byte) {
	sum := sha256.Sum256(canon)
	var hexSum [2 * sha256.Size]byte
	hex.Encode(hexSum[:], sum[:])
	io.WriteString(w, algorithm+"\n")
	io.WriteString(w, iso)
	io.WriteString(w, "\n")
	io.WriteString(w, scope)
	io.WriteString(w, "\n")
	w.Write(hexSum[:])
}

// reqTime is the request's signing time: t parsed, iso as it appears in the
// string to sign, header the (lowercase) header it came from.
type reqTime struct {
	t      time.Time
	iso    string
	header string
}

const isoBasic = "20060102T150405Z"

// requestTime reads X-Amz-Date, or failing that Date, as the spec allows.
func requestTime(h http.Header) (reqTime, error) {
	if vs := h.Values("X-Amz-Date"); len(vs) > 0 {
		if len(vs) > 1 {
			return reqTime{}, fail(ErrMalformed, "Only one X-Amz-Date header is allowed.")
		}
		t, err := time.Parse(isoBasic, vs[0])
		// The value goes verbatim into the string to sign, so insist it is
		// exactly the canonical form of the time we check the skew of.
		if err != nil || t.Format(isoBasic) != vs[0] {
			return reqTime{}, fail(ErrMalformed, "X-Amz-Date must have the form YYYYMMDD'T'HHMMSS'Z'.")
		}
		return reqTime{t: t, iso: vs[0], header: "x-amz-date"}, nil
	}
	if vs := h.Values("Date"); len(vs) > 0 {
		if len(vs) > 1 {
			return reqTime{}, fail(ErrMalformed, "Only one Date header is allowed.")
		}
		t, err := http.ParseTime(vs[0])
		if err != nil {
			return reqTime{}, fail(ErrMalformed, "Date header is not a valid HTTP date.")
		}
		t = t.UTC()
		return reqTime{t: t, iso: t.Format(isoBasic), header: "date"}, nil
	}
	return reqTime{}, fail(ErrMalformed, "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
}

// checkSignedHeaders enforces what must be covered by the signature: host
// (binds the request to this server), the header the time came from, and
// every x-amz-* header present, since those carry semantics such as
// X-Amz-Target, which selects the operation in the JSON protocol.
func checkSignedHeaders(h http.Header, a *authHeader, timeHeader string) error {
	signed := func(name string) bool {
		_, ok := slices.BinarySearch(a.SignedHeaders, name)
		return ok
	}
	if !signed("host") {
		return fail(ErrMalformed, "'Host' must be a 'SignedHeader' in the AWS Authorization.")
	}
	if !signed(timeHeader) {
		return fail(ErrMalformed, "'"+timeHeader+"' must be a 'SignedHeader' in the AWS Authorization.")
	}
	for name := range h {
		if len(name) > 6 && strings.EqualFold(name[:6], "x-amz-") && !signed(strings.ToLower(name)) {
			return fail(ErrMalformed, "Header '"+strings.ToLower(name)+"' is present but not signed.")
		}
	}
	return nil
}

// checkScope compares the credential scope with the request; these are the
// messages AWS gives for the same faults.
func (v *Verifier) checkScope(a *authHeader, iso string) error {
	if a.Date != iso[:8] {
		return fail(ErrSignatureMismatch, "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '"+
			a.Date+"' != '"+iso[:8]+"', from '"+iso+"'.")
	}
	if len(v.Regions) > 0 && !slices.Contains(v.Regions, a.Region) {
		return fail(ErrSignatureMismatch, "Credential should be scoped to a valid region, not '"+a.Region+"'.")
	}
	if a.Service != v.Service {
		return fail(ErrSignatureMismatch, "Credential should be scoped to correct service: '"+v.Service+"'.")
	}
	if a.Terminator != terminator {
		return fail(ErrSignatureMismatch, "Credential should be scoped with a valid terminator: 'aws4_request', not '"+a.Terminator+"'.")
	}
	return nil
}

func (v *Verifier) checkSkew(t time.Time) error {
	skew := v.MaxSkew
	if skew <= 0 {
		skew = DefaultMaxSkew
	}
	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	n := now().UTC()
	mins := skewText(skew)
	switch {
	case n.Sub(t) > skew:
		return fail(ErrRequestExpired, "Signature expired: "+t.Format(isoBasic)+" is now earlier than "+
			n.Add(-skew).Format(isoBasic)+" ("+n.Format(isoBasic)+" - "+mins+".)")
	case t.Sub(n) > skew:
		return fail(ErrRequestExpired, "Signature not yet current: "+t.Format(isoBasic)+" is still later than "+
			n.Add(skew).Format(isoBasic)+" ("+n.Format(isoBasic)+" + "+mins+".)")
	}
	return nil
}

// skewText renders the skew like AWS ("5 min"), falling back to Go's form
// for durations that are not whole minutes.
func skewText(d time.Duration) string {
	if d%time.Minute == 0 {
		return strconv.FormatInt(int64(d/time.Minute), 10) + " min"
	}
	return d.String()
}

var emptySHA256 = func() string { s := sha256.Sum256(nil); return hex.EncodeToString(s[:]) }()

// payloadHash returns hex(sha256(body)). A client-supplied
// X-Amz-Content-Sha256 must equal it exactly (lowercase hex, as SDKs send),
// which also rejects UNSIGNED-PAYLOAD and the streaming modes this package
// does not support.
func payloadHash(h http.Header, body []byte) (string, error) {
	sum := emptySHA256
	if len(body) > 0 {
		s := sha256.Sum256(body)
		sum = hex.EncodeToString(s[:])
	}
	vs := h.Values("X-Amz-Content-Sha256")
	switch {
	case len(vs) > 1:
		return "", fail(ErrMalformed, "Only one X-Amz-Content-Sha256 header is allowed.")
	case len(vs) == 1 && vs[0] != sum:
		return "", fail(ErrSignatureMismatch, "The provided 'x-amz-content-sha256' header does not match what was computed.")
	}
	return sum, nil
}

// signingKey derives (or fetches from the cache) the SigV4 signing key
//
//	HMAC(HMAC(HMAC(HMAC("AWS4"+secret, date), region), service), "aws4_request")
//
// Caching saves those four HMACs on every request after the first of the
// day for a given key and region.
func (v *Verifier) signingKey(secret, date, region, service string) [32]byte {
	if v.noKeyCache {
		return deriveKey(secret, date, region, service)
	}
	ck := keyCacheKey{secret: secret, date: date, region: region, service: service}
	v.mu.Lock()
	key, ok := v.keys[ck]
	v.mu.Unlock()
	if ok {
		return key
	}
	key = deriveKey(secret, date, region, service)
	v.mu.Lock()
	if v.keys == nil {
		v.keys = make(map[keyCacheKey][32]byte)
	}
	if len(v.keys) >= keyCacheSize {
		// Evict an arbitrary entry (map order is random); old days and
		// rotated secrets drain away on their own.
		for k := range v.keys {
			delete(v.keys, k)
			break
		}
	}
	v.keys[ck] = key
	v.mu.Unlock()
	return key
}

func deriveKey(secret, date, region, service string) [32]byte {
	k := hmacSHA256([]byte("AWS4"+secret), date)
	k = hmacSHA256(k, region)
	k = hmacSHA256(k, service)
	k = hmacSHA256(k, terminator)
	var out [32]byte
	copy(out[:], k)
	return out
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	io.WriteString(m, data)
	return m.Sum(nil)
}
