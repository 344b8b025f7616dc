package oauth

import (
	"encoding/base64"
	"mime"
	"net/http"
	"net/url"
	"strings"
)

// maxFormBytes bounds every form body (token, revoke, the pages). The
// largest legitimate one, a refresh grant with a Cognito-sized refresh
// token, is a few kilobytes.
const maxFormBytes = 16 << 10

// maxParamBytes bounds one parameter of the token and revoke endpoints.
const maxParamBytes = 8 << 10

// tokenError is an OAuth error response (RFC 6749 §5.2).
type tokenError struct {
	code   string
	desc   string
	status int
	// basic: the client tried HTTP Basic, so a 401 says how to retry.
	basic bool
}

func badRequest(code, desc string) *tokenError {
	return &tokenError{code: code, desc: desc, status: http.StatusBadRequest}
}

// tokenRequest is a parsed token or revoke request: single-valued form
// parameters and the client's credentials, wherever they came from.
type tokenRequest struct {
	params       map[string]string
	clientID     string
	clientSecret string
	basic        bool
}

func (t tokenRequest) get(name string) string { return t.params[name] }

// parseTokenRequest reads a form-encoded body and the client
// authentication: client_secret_basic (Authorization: Basic, with id and
// secret form-urlencoded first, RFC 6749 §2.3.1) or client_secret_post.
// Using both at once is refused, as is any repeated parameter (§3.2).
func parseTokenRequest(contentType, authorization string, body []byte) (tokenRequest, *tokenError) {
	var t tokenRequest
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil || mt != "application/x-www-form-urlencoded" {
		return t, badRequest("invalid_request", "Content-Type must be application/x-www-form-urlencoded.")
	}
	if len(body) > maxFormBytes {
		return t, badRequest("invalid_request", "The request body is too large.")
	}
	vals, err := url.ParseQuery(string(body))
	if err != nil {
		return t, badRequest("invalid_request", "The request body is not valid form encoding.")
	}
	t.params = make(map[string]string, len(vals))
	for k, v := range vals {
		if len(v) > 1 {
			return t, badRequest("invalid_request", "Parameters must not be repeated.")
		}
		if len(v[0]) > maxParamBytes {
			return t, badRequest("invalid_request", "A parameter is too long.")
		}
		t.params[k] = v[0]
	}
	t.clientID, t.clientSecret = t.params["client_id"], t.params["client_secret"]
	if authorization == "" {
		if t.clientID == "" {
			return t, badRequest("invalid_request", "client_id is required.")
		}
		return t, nil
	}
	t.basic = true
	id, secret, ok := parseBasic(authorization)
	if !ok {
		return t, &tokenError{code: "invalid_client", desc: "Malformed Basic authorization.", status: http.StatusUnauthorized, basic: true}
	}
	if t.clientSecret != "" {
		return t, badRequest("invalid_request", "Use one client authentication method, not both.")
	}
	if t.clientID != "" && t.clientID != id {
		return t, badRequest("invalid_request", "client_id does not match the Authorization header.")
	}
	t.clientID, t.clientSecret = id, secret
	return t, nil
}

// parseBasic decodes "Basic base64(urlencode(id):urlencode(secret))".
func parseBasic(h string) (id, secret string, ok bool) {
	scheme, cred, found := strings.Cut(h, " ")
	if !found || !strings.EqualFold(scheme, "Basic") || len(cred) > maxParamBytes {
		return "", "", false
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(cred))
	if err != nil {
		return "", "", false
	}
	rawID, rawSecret, found := strings.Cut(string(raw), ":")
	if !found {
		return "", "", false
	}
	if id, err = url.QueryUnescape(rawID); err != nil || id == "" {
		return "", "", false
	}
	if secret, err = url.QueryUnescape(rawSecret); err != nil {
		return "", "", false
	}
	return id, secret, true
}
