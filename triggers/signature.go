package triggers

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"time"
)

// Headers of a webhook request.
const (
	// HeaderTimestamp carries the request's time, in Unix seconds.
	HeaderTimestamp = "X-Cognate-Timestamp"
	// HeaderSignature carries "v1=" and the hex HMAC-SHA256, keyed with
	// the pool's webhook secret, of the timestamp, ".", and the body.
	HeaderSignature = "X-Cognate-Signature"
	// HeaderTrigger names the trigger (PreSignUp, …), for routing and logs.
	HeaderTrigger = "X-Cognate-Trigger"
)

// MaxSkew is how far a request's timestamp may be from the receiver's
// clock before Verify calls it stale.
const MaxSkew = 5 * time.Minute

// Sign returns the signature header value of body sent at ts.
func Sign(key []byte, ts int64, body []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(strconv.FormatInt(ts, 10)))
	m.Write([]byte{'.'})
	m.Write(body)
	return "v1=" + hex.EncodeToString(m.Sum(nil))
}

// Verification failures.
var (
	ErrBadSignature = errors.New("triggers: signature does not match")
	ErrStale        = errors.New("triggers: timestamp outside the allowed skew")
)

// Verify checks a webhook request's timestamp and signature headers
// against body, for a receiver written in Go.
func Verify(key []byte, timestamp, signature string, body []byte, now time.Time) error {
	ts, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return ErrBadSignature
	}
	if d := now.Sub(time.Unix(ts, 0)); d > MaxSkew || d < -MaxSkew {
		return ErrStale
	}
	if !strings.HasPrefix(signature, "v1=") || !hmac.Equal([]byte(Sign(key, ts, body)), []byte(signature)) {
		return ErrBadSignature
	}
	return nil
}
