package oauth

import (
	"errors"
	"net/http"

	"github.com/cognate-auth/cognate/storage"
)

// unavailable reports whether err says that storage could not be reached
// (storage.ErrUnavailable): nothing was decided or written, and the same
// request may succeed in a moment. Such failures are answered 503 with
// Retry-After (retryAfterSeconds), never as a fault of the request.
func unavailable(err error) bool { return errors.Is(err, storage.ErrUnavailable) }

// retryAfterSeconds is the Retry-After of every 503 this package sends.
const retryAfterSeconds = "1"

// unavailableDesc is the error_description of a 503 JSON answer.
const unavailableDesc = "The service is temporarily unavailable; retry the request."

// errUnavailablePage is the authorization error shown when storage cannot
// be reached: a page (the redirect URI may not be checked yet), 503.
func errUnavailablePage() *authzError {
	return pageErr(http.StatusServiceUnavailable, "temporarily_unavailable", "error.unavailable", "")
}

// tokenUnavailable is RFC 6749's temporarily_unavailable as a JSON answer
// of the token, revoke and userInfo endpoints, 503.
func tokenUnavailable() *tokenError {
	return &tokenError{code: "temporarily_unavailable", desc: unavailableDesc, status: http.StatusServiceUnavailable}
}
