package oauth

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/cognate-auth/cognate/userpool"
)

// cors lets browser apps call the token, revoke and userInfo endpoints
// (Amplify's token exchange is a fetch with an x-amz-user-agent header,
// which needs a preflight). Any origin may: these endpoints use no
// cookies, so a cross-origin caller gains nothing it could not do from
// its own server.
func cors(w http.ResponseWriter) {
	hd := w.Header()
	hd.Set("Access-Control-Allow-Origin", "*")
	hd.Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
	hd.Set("Access-Control-Allow-Headers", "content-type, authorization, x-amz-user-agent, cache-control")
	hd.Set("Access-Control-Max-Age", "600")
}

// apiMethod answers a preflight or a wrong method; it reports whether the
// request should go on.
func apiMethod(w http.ResponseWriter, r *http.Request, allowed ...string) bool {
	cors(w)
	if r.Method == http.MethodOptions {
		w.WriteHeader(http.StatusNoContent)
		return false
	}
	for _, m := range allowed {
		if r.Method == m {
			return true
		}
	}
	w.Header().Set("Allow", "OPTIONS, "+strings.Join(allowed, ", "))
	writeTokenError(w, &tokenError{code: "invalid_request", desc: "Method not allowed.", status: http.StatusMethodNotAllowed})
	return false
}

// readTokenRequest reads a bounded body and parses it.
func readTokenRequest(w http.ResponseWriter, r *http.Request) (tokenRequest, *tokenError) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxFormBytes))
	if err != nil {
		return tokenRequest{}, badRequest("invalid_request", "The request body is too large or unreadable.")
	}
	return parseTokenRequest(r.Header.Get("Content-Type"), r.Header.Get("Authorization"), body)
}

// token is POST /oauth2/token.
func (h *Handler) token(w http.ResponseWriter, r *http.Request) {
	if !apiMethod(w, r, http.MethodPost) {
		return
	}
	ctx := r.Context()
	t, te := readTokenRequest(w, r)
	if te != nil {
		h.tokenFail(w, "token", te)
		return
	}
	var res *userpool.OAuthTokens
	var err error
	switch grant := t.get("grant_type"); grant {
	case "authorization_code":
		res, err = h.exchangeCode(ctx, t)
	case "refresh_token":
		res, err = h.svc.RefreshGrant(ctx, t.clientID, t.clientSecret, t.get("refresh_token"))
	case "client_credentials":
		res, err = h.svc.ClientCredentials(ctx, t.clientID, t.clientSecret, t.get("scope"))
	case "":
		h.tokenFail(w, "token", badRequest("invalid_request", "grant_type is required."))
		return
	default:
		h.tokenFail(w, "token", badRequest("unsupported_grant_type", "grant_type must be authorization_code, refresh_token or client_credentials."))
		return
	}
	if err != nil {
		h.tokenFail(w, "token", h.tokenServiceError(ctx, err, t.basic))
		return
	}
	h.count("token", "ok")
	noStore(w)
	writeJSON(w, http.StatusOK, tokenResponse{
		AccessToken: res.AccessToken, IDToken: res.IDToken, RefreshToken: res.RefreshToken,
		TokenType: "Bearer", ExpiresIn: res.ExpiresIn,
	})
}

type tokenResponse struct {
	AccessToken  string `json:"access_token,omitempty"`
	IDToken      string `json:"id_token,omitempty"`
	RefreshToken string `json:"refresh_token,omitempty"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in,omitempty"`
}

// exchangeCode redeems a code. A client whose authorization used its
// default redirect URI (none sent) may omit redirect_uri here too.
func (h *Handler) exchangeCode(ctx context.Context, t tokenRequest) (*userpool.OAuthTokens, error) {
	if t.get("code") == "" {
		return nil, &userpool.Error{Type: userpool.ErrInvalidRequest.Type, Message: "code is required."}
	}
	redirectURI := t.get("redirect_uri")
	if redirectURI == "" {
		oc, err := h.svc.OAuthClient(ctx, t.clientID)
		if err == nil {
			redirectURI = oc.DefaultURI
		}
	}
	return h.svc.ExchangeCode(ctx, t.clientID, t.clientSecret, t.get("code"), redirectURI, t.get("code_verifier"))
}

// tokenServiceError maps a domain failure to an OAuth error. Server
// faults get a generic message; their cause is only logged. Storage that
// cannot be reached is temporarily_unavailable (503, Retry-After).
func (h *Handler) tokenServiceError(ctx context.Context, err error, basic bool) *tokenError {
	if unavailable(err) {
		h.log.WarnContext(ctx, "token endpoint: storage unavailable", "err", err)
		return tokenUnavailable()
	}
	var e *userpool.Error
	if !errors.As(err, &e) || e.Internal {
		h.log.ErrorContext(ctx, "token endpoint", "err", err)
		return &tokenError{code: "server_error", desc: "Internal server error.", status: http.StatusInternalServerError}
	}
	switch e.Type {
	case userpool.ErrInvalidClient.Type, userpool.ErrResourceNotFound.Type:
		return &tokenError{code: "invalid_client", desc: e.Message, status: http.StatusUnauthorized, basic: basic}
	case userpool.ErrInvalidRequest.Type, userpool.ErrInvalidGrant.Type, userpool.ErrUnauthorizedClient.Type,
		userpool.ErrUnsupportedGrantType.Type, userpool.ErrInvalidScope.Type:
		return badRequest(e.Type, e.Message)
	case userpool.ErrNotAuthorized.Type, userpool.ErrRefreshTokenReuse.Type:
		return badRequest("invalid_grant", e.Message)
	}
	return badRequest("invalid_request", e.Message)
}

func (h *Handler) tokenFail(w http.ResponseWriter, endpoint string, te *tokenError) {
	h.count(endpoint, te.code)
	writeTokenError(w, te)
}

// writeTokenError sends RFC 6749's error body, plus error_message: that
// is the member Amplify's token exchange reads for its message.
func writeTokenError(w http.ResponseWriter, te *tokenError) {
	if te.status == http.StatusUnauthorized && te.basic {
		w.Header().Set("WWW-Authenticate", `Basic realm="cognate", charset="UTF-8"`)
	}
	if te.status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", retryAfterSeconds)
	}
	noStore(w)
	writeJSON(w, te.status, map[string]string{"error": te.code, "error_description": te.desc, "error_message": te.desc})
}

func noStore(w http.ResponseWriter) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// revoke is POST /oauth2/revoke (RFC 7009): unknown or already revoked
// tokens get 200, so a caller learns nothing about them.
func (h *Handler) revoke(w http.ResponseWriter, r *http.Request) {
	if !apiMethod(w, r, http.MethodPost) {
		return
	}
	ctx := r.Context()
	t, te := readTokenRequest(w, r)
	if te == nil && t.get("token") == "" {
		te = badRequest("invalid_request", "token is required.")
	}
	if te == nil {
		te = h.authenticateClient(ctx, t)
	}
	if te != nil {
		h.tokenFail(w, "revoke", te)
		return
	}
	_, err := h.svc.RevokeToken(ctx, userpool.RevokeTokenInput{Token: t.get("token"), ClientId: t.clientID, ClientSecret: t.clientSecret})
	var e *userpool.Error
	switch {
	case err == nil:
	case isInternal(err):
		te = h.tokenServiceError(ctx, err, t.basic)
	case errors.As(err, &e) && e.Type == userpool.ErrUnsupportedTokenType.Type:
		te = badRequest("unsupported_token_type", e.Message)
	case errors.As(err, &e):
		te = badRequest("invalid_request", e.Message)
	}
	if te != nil {
		h.tokenFail(w, "revoke", te)
		return
	}
	h.count("revoke", "ok")
	noStore(w)
	w.WriteHeader(http.StatusOK)
}

// authenticateClient checks the client's credentials up front, so that
// the revoke endpoint can tell a bad secret (invalid_client, 401) from a
// token of another client.
func (h *Handler) authenticateClient(ctx context.Context, t tokenRequest) *tokenError {
	unauthorized := &tokenError{code: "invalid_client", desc: "Client authentication failed.", status: http.StatusUnauthorized, basic: t.basic}
	oc, err := h.svc.OAuthClient(ctx, t.clientID)
	if err != nil {
		if isInternal(err) {
			return h.tokenServiceError(ctx, err, t.basic)
		}
		return unauthorized
	}
	if !oc.Confidential {
		if t.clientSecret != "" {
			return unauthorized
		}
		return nil
	}
	secret, err := h.clientSecret(ctx, oc)
	if err != nil {
		return h.tokenServiceError(ctx, err, t.basic)
	}
	if subtle.ConstantTimeCompare([]byte(secret), []byte(t.clientSecret)) != 1 {
		return unauthorized
	}
	return nil
}

// clientSecret returns a confidential client's secret. The hosted pages
// act for the user on the server side, where the secret lives anyway:
// they need it for the SECRET_HASH of sign-up and password-reset calls.
func (h *Handler) clientSecret(ctx context.Context, oc userpool.OAuthClient) (string, error) {
	if !oc.Confidential {
		return "", nil
	}
	out, err := h.svc.DescribeUserPoolClient(ctx, userpool.DescribeUserPoolClientInput{UserPoolId: oc.PoolID, ClientId: oc.ClientID})
	if err != nil {
		return "", err
	}
	return out.UserPoolClient.ClientSecret, nil
}
