package events

import (
	"errors"
	"fmt"
)

// Sentinel errors callers branch on. Errors returned by the Hub and Conn
// are *Error values wrapping one of these.
var (
	// ErrUnauthorized: missing, unknown, forged or expired credentials,
	// or an operation the credentials or the channel rules do not allow.
	ErrUnauthorized = errors.New("unauthorized")
	// ErrTokenExpired (which wraps ErrUnauthorized) is returned, wrapped,
	// by Options functions and TokenVerifier implementations for an
	// expired but otherwise valid credential; the client is then told
	// "Token expired", which makes Amplify fetch a fresh token.
	ErrTokenExpired = fmt.Errorf("%w: token expired", ErrUnauthorized)
	// ErrBadRequest: an invalid channel, namespace, event count or message.
	ErrBadRequest = errors.New("bad request")
	// ErrLimitExceeded: a subscription or connection cap was reached.
	ErrLimitExceeded = errors.New("limit exceeded")
	// ErrSlowConsumer: the connection could not keep up with its events.
	ErrSlowConsumer = errors.New("slow consumer")
	// ErrConnectionTimeout: no connection_init and no operation within
	// Config.ConnectionTimeout.
	ErrConnectionTimeout = errors.New("connection timeout")
	// ErrClosed: the Hub or the connection is closed (a Hub closes its
	// connections with this reason on Shutdown).
	ErrClosed = errors.New("closed")
	// ErrLocalProvider may be returned by Options.Verifier for a Cognito
	// provider whose pool this process serves: its tokens then go to
	// Options.UserPool and are accepted only when their issuer names that
	// pool.
	ErrLocalProvider = errors.New("provider is served locally")
)

// Protocol error types (errorType on the wire).
const (
	TypeUnauthorized      = "UnauthorizedException"
	TypeBadRequest        = "BadRequestException"
	TypeEventTooLarge     = "EventTooLargeException"
	TypeLimitExceeded     = "LimitExceededException"
	TypeUnknownOperation  = "UnknownOperationError"
	TypeUnsupported       = "UnsupportedOperation"
	TypeSlowConsumer      = "SlowConsumerException"
	TypeConnectionTimeout = "ConnectionTimeoutException"
	TypeInternal          = "InternalFailureException"
	TypeServiceClosing    = "ServiceUnavailableException"
)

// Error is a protocol error: its Type and Message go to the client as
// {"errorType":…,"message":…}, Code is the HTTP status an HTTP response
// (and a connection_error's errorCode) carries.
type Error struct {
	Type    string
	Code    int
	Message string
	Err     error // the sentinel
}

func (e *Error) Error() string { return e.Type + ": " + e.Message }

// Unwrap returns the sentinel.
func (e *Error) Unwrap() error { return e.Err }

// Unauthorized is the error every authorization failure returns; code is
// 401 for missing or invalid credentials, 403 for valid credentials that
// may not do the operation.
func Unauthorized(code int, format string, args ...any) *Error {
	return &Error{Type: TypeUnauthorized, Code: code, Message: fmt.Sprintf(format, args...), Err: ErrUnauthorized}
}

// BadRequest is a 400 BadRequestException.
func BadRequest(format string, args ...any) *Error {
	return &Error{Type: TypeBadRequest, Code: 400, Message: fmt.Sprintf(format, args...), Err: ErrBadRequest}
}

// Unsupported is the error for a message type the protocol does not have.
func Unsupported(format string, args ...any) *Error {
	return &Error{Type: TypeUnsupported, Code: 400, Message: fmt.Sprintf(format, args...), Err: ErrBadRequest}
}

func limitExceeded(format string, args ...any) *Error {
	return &Error{Type: TypeLimitExceeded, Code: 429, Message: fmt.Sprintf(format, args...), Err: ErrLimitExceeded}
}

// AsError converts any error to a protocol *Error: an *Error in err's
// chain as is, anything else as an opaque internal failure.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	switch {
	case errors.Is(err, ErrClosed):
		return &Error{Type: TypeServiceClosing, Code: 503, Message: "The service is shutting down.", Err: err}
	case errors.Is(err, ErrBadRequest):
		return &Error{Type: TypeBadRequest, Code: 400, Message: err.Error(), Err: err}
	}
	return &Error{Type: TypeInternal, Code: 500, Message: "Internal failure.", Err: err}
}
