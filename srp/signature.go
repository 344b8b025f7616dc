package srp

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"time"
)

// TimestampLayout is Cognito's TIMESTAMP format as a Go layout: English
// names, day of month without padding, 24-hour clock, literal "UTC".
const TimestampLayout = "Mon Jan 2 15:04:05 UTC 2006"

// maxTimestampLen is the longest string TimestampLayout can produce
// ("Wed Sep 30 23:59:59 UTC 2025").
const maxTimestampLen = 28

// FormatTimestamp formats t in UTC as Cognito's TIMESTAMP, the way Amplify's
// getNowString does.
func FormatTimestamp(t time.Time) string {
	return t.UTC().Format(TimestampLayout)
}

// ParseTimestamp parses a TIMESTAMP and accepts it only if formatting the
// result gives back exactly s. That rejects what time.Parse alone lets
// through and real Cognito refuses: a zero-padded day ("Sep 05"), a
// weekday that does not match the date. It does not judge clock skew; the
// caller compares the result with its own clock. Errors wrap
// ErrInvalidTimestamp.
func ParseTimestamp(s string) (time.Time, error) {
	if len(s) > maxTimestampLen {
		return time.Time{}, fmt.Errorf("%w: too long", ErrInvalidTimestamp)
	}
	t, err := time.Parse(TimestampLayout, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: %q does not match %q", ErrInvalidTimestamp, s, TimestampLayout)
	}
	if t.Format(TimestampLayout) != s {
		return time.Time{}, fmt.Errorf("%w: %q is not canonical (zero-padded day or wrong weekday?)", ErrInvalidTimestamp, s)
	}
	return t, nil
}

// Signature returns HMAC-SHA256(key, poolName | userID | secretBlock |
// timestamp), the raw PASSWORD_CLAIM_SIGNATURE before base64. secretBlock
// is the decoded PASSWORD_CLAIM_SECRET_BLOCK and timestamp the client's
// TIMESTAMP string, byte for byte.
func Signature(key []byte, poolName, userID string, secretBlock []byte, timestamp string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(poolName))
	m.Write([]byte(userID))
	m.Write(secretBlock)
	m.Write([]byte(timestamp))
	return m.Sum(nil)
}

// signatureB64Len is the length of a padded standard base64 HMAC-SHA256.
var signatureB64Len = base64.StdEncoding.EncodedLen(sha256.Size)

// VerifySignature reports whether claimB64, the client's
// PASSWORD_CLAIM_SIGNATURE, is the canonical padded standard base64 of
// [Signature](key, …). It compares in constant time and returns false for
// a key that is not KeySize bytes (an empty key would make the MAC
// forgeable) and for anything that is not such base64.
func VerifySignature(key []byte, poolName, userID string, secretBlock []byte, timestamp, claimB64 string) bool {
	if len(key) != KeySize || len(claimB64) != signatureB64Len {
		return false
	}
	var claim [sha256.Size + 1]byte // DecodedLen(44) is 33
	n, err := base64.StdEncoding.Strict().Decode(claim[:], []byte(claimB64))
	if err != nil || n != sha256.Size {
		return false
	}
	return hmac.Equal(Signature(key, poolName, userID, secretBlock, timestamp), claim[:n])
}
