package sigv4

import (
	"errors"
	"net/http"
)

// Sentinel errors returned (wrapped) by [Verifier.Verify]. Branch on them
// with errors.Is; use [ErrorCode] to turn any of them into the AWS error a
// client SDK expects.
var (
	// ErrMissingAuthentication means the request carried no (or an empty)
	// Authorization header.
	ErrMissingAuthentication = errors.New("sigv4: missing authentication token")

	// ErrMalformed means the Authorization header or a header it depends on
	// (X-Amz-Date, Date, SignedHeaders, ...) is syntactically invalid,
	// incomplete or over a size bound.
	ErrMalformed = errors.New("sigv4: malformed signature")

	// ErrUnknownAccessKey means the credential's access key id is not known
	// to the Verifier's Lookup.
	ErrUnknownAccessKey = errors.New("sigv4: unknown access key id")

	// ErrSignatureMismatch means the signature does not verify: wrong
	// secret, tampered request, or a credential scope (date, region,
	// service, terminator) that does not fit the request or the Verifier.
	ErrSignatureMismatch = errors.New("sigv4: signature mismatch")

	// ErrRequestExpired means the request time is further than MaxSkew from
	// the server's clock, in either direction.
	ErrRequestExpired = errors.New("sigv4: request time outside allowed skew")
)

// errNotConfigured is a server-side fault, so it maps to a 500 rather than
// to anything the client could fix.
var errNotConfigured = errors.New("sigv4: verifier needs Service and Lookup")

// authError pairs a sentinel with the client-facing message AWS would send.
// The message never contains secrets or the computed signature.
type authError struct {
	kind error
	msg  string
}

func (e *authError) Error() string { return e.kind.Error() + ": " + e.msg }
func (e *authError) Unwrap() error { return e.kind }

func fail(kind error, msg string) error { return &authError{kind: kind, msg: msg} }

const (
	msgMissing     = "Request is missing Authentication Token"
	msgMalformed   = "The request signature does not conform to AWS standards."
	msgUnknownKey  = "The security token included in the request is invalid."
	msgMismatch    = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
	msgExpired     = "Signature expired."
	msgInternalErr = "An internal error occurred."
)

// ErrorCode maps an error from [Verifier.Verify] to the HTTP status, the
// JSON `__type` and the `message` that AWS JSON-protocol services such as
// cognito-idp answer with, so the HTTP layer can reply
// {"__type": typ, "message": msg} with Content-Type
// application/x-amz-json-1.1.
//
// Like the real cognito-idp (and other awsJson services), every
// authentication failure is a 400, not a 403:
//
//	ErrMissingAuthentication  400  MissingAuthenticationTokenException
//	ErrMalformed              400  IncompleteSignatureException
//	ErrUnknownAccessKey       400  UnrecognizedClientException
//	ErrSignatureMismatch      400  InvalidSignatureException
//	ErrRequestExpired         400  InvalidSignatureException ("Signature expired: ...")
//	any other non-nil error   500  InternalFailure
//
// For a nil error it returns 200 and empty strings.
func ErrorCode(err error) (status int, typ, msg string) {
	if err == nil {
		return http.StatusOK, "", ""
	}
	var ae *authError
	detail := ""
	if errors.As(err, &ae) {
		detail = ae.msg
	}
	pick := func(def string) string {
		if detail != "" {
			return detail
		}
		return def
	}
	switch {
	case errors.Is(err, ErrMissingAuthentication):
		return http.StatusBadRequest, "MissingAuthenticationTokenException", pick(msgMissing)
	case errors.Is(err, ErrMalformed):
		return http.StatusBadRequest, "IncompleteSignatureException", pick(msgMalformed)
	case errors.Is(err, ErrUnknownAccessKey):
		return http.StatusBadRequest, "UnrecognizedClientException", pick(msgUnknownKey)
	case errors.Is(err, ErrSignatureMismatch):
		return http.StatusBadRequest, "InvalidSignatureException", pick(msgMismatch)
	case errors.Is(err, ErrRequestExpired):
		return http.StatusBadRequest, "InvalidSignatureException", pick(msgExpired)
	default:
		return http.StatusInternalServerError, "InternalFailure", msgInternalErr
	}
}
