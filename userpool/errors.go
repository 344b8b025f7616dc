package userpool

import (
	"errors"
	"fmt"

	"github.com/cognate-auth/cognate/storage"
)

// Error is a user-pool failure a client can act on. Type is the Cognito
// exception name clients branch on (NotAuthorizedException, …); the
// transport layer sends it as __type. Compare with errors.Is against the
// sentinels below: two Errors match when their Types match.
type Error struct {
	Type    string
	Message string
	// Internal marks server faults (InternalErrorException): the message is
	// generic and the cause is only logged.
	Internal bool
	cause    error
}

func (e *Error) Error() string {
	if e.cause != nil {
		return e.Type + ": " + e.Message + ": " + e.cause.Error()
	}
	return e.Type + ": " + e.Message
}

// Is reports whether target is an *Error of the same Type.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Type == e.Type
}

// Unwrap returns the cause, if any.
func (e *Error) Unwrap() error { return e.cause }

func newErr(typ, msg string) *Error { return &Error{Type: typ, Message: msg} }

// Sentinels for the exceptions callers branch on. Their messages are the
// defaults; errorf gives a specific one.
var (
	ErrNotAuthorized         = newErr("NotAuthorizedException", "Incorrect username or password.")
	ErrUserNotFound          = newErr("UserNotFoundException", "User does not exist.")
	ErrUsernameExists        = newErr("UsernameExistsException", "An account with the given email already exists.")
	ErrCodeMismatch          = newErr("CodeMismatchException", "Invalid verification code provided, please try again.")
	ErrExpiredCode           = newErr("ExpiredCodeException", "Invalid code provided, please request a code again.")
	ErrInvalidPassword       = newErr("InvalidPasswordException", "Password does not conform to policy.")
	ErrInvalidParameter      = newErr("InvalidParameterException", "Invalid parameter.")
	ErrUserNotConfirmed      = newErr("UserNotConfirmedException", "User is not confirmed.")
	ErrPasswordResetRequired = newErr("PasswordResetRequiredException", "Password reset required for the user")
	ErrLimitExceeded         = newErr("LimitExceededException", "Attempt limit exceeded, please try after some time.")
	ErrTooManyFailedAttempts = newErr("TooManyFailedAttemptsException", "Too many failed attempts.")
	ErrResourceNotFound      = newErr("ResourceNotFoundException", "Resource not found.")
	ErrRefreshTokenReuse     = newErr("RefreshTokenReuseException", "Refresh token has been reused.")
	ErrAliasExists           = newErr("AliasExistsException", "An account with the given email already exists.")
	ErrGroupExists           = newErr("GroupExistsException", "A group with the name already exists.")
	ErrUnsupportedOperation  = newErr("UnsupportedOperationException", "Operation is not supported.")
	ErrUnsupportedTokenType  = newErr("UnsupportedTokenTypeException", "Unsupported token type.")
	ErrInternal              = &Error{Type: "InternalErrorException", Message: "Internal server error.", Internal: true}
	ErrUserLambdaValidation  = newErr("UserLambdaValidationException", "User validation failed.")
	ErrTooManyRequests       = newErr("TooManyRequestsException", "Too many requests.")
)

// errorf returns a copy of sentinel with a specific message.
func errorf(sentinel *Error, format string, args ...any) *Error {
	return &Error{Type: sentinel.Type, Message: fmt.Sprintf(format, args...), Internal: sentinel.Internal}
}

// internal wraps an unexpected failure (storage, crypto) as an
// InternalErrorException that keeps its cause for the log.
func internal(op string, err error) error {
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	return &Error{Type: ErrInternal.Type, Message: ErrInternal.Message, Internal: true, cause: fmt.Errorf("%s: %w", op, err)}
}

// unreachable is err as an InternalErrorException when it says storage
// could not be reached (storage.ErrUnavailable), and nil for any other
// error: a caller that answers "invalid" (a token, a client) to the
// failures it cannot tell apart passes this one on instead, so that the
// transport answers a retryable error rather than a refusal.
func unreachable(op string, err error) error {
	if errors.Is(err, storage.ErrUnavailable) {
		return internal(op, err)
	}
	return nil
}

// invalidParam names the offending field the way Cognito does.
func invalidParam(format string, args ...any) *Error {
	return errorf(ErrInvalidParameter, format, args...)
}
