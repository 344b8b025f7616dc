package oauth

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// userInfo is GET|POST /oauth2/userInfo (OIDC Core §5.3): the claims an
// access token with the openid scope releases.
func (h *Handler) userInfo(w http.ResponseWriter, r *http.Request) {
	if !apiMethod(w, r, http.MethodGet, http.MethodPost) {
		return
	}
	scheme, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	token = strings.TrimSpace(token)
	if !strings.EqualFold(scheme, "Bearer") || token == "" {
		// RFC 6750 §3.1: no error code when no credentials were sent.
		h.count("userinfo", "no_token")
		w.Header().Set("WWW-Authenticate", `Bearer realm="cognate"`)
		noStore(w)
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_request", "error_description": "A Bearer access token is required."})
		return
	}
	claims, err := h.svc.UserInfo(r.Context(), token)
	if unavailable(err) {
		h.log.WarnContext(r.Context(), "userinfo: storage unavailable", "err", err)
		h.tokenFail(w, "userinfo", tokenUnavailable())
		return
	}
	if isInternal(err) && err != nil {
		h.log.ErrorContext(r.Context(), "userinfo", "err", err)
		h.count("userinfo", "server_error")
		noStore(w)
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "server_error", "error_description": "Internal server error."})
		return
	}
	if err != nil {
		h.count("userinfo", "invalid_token")
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token", error_description="The access token is invalid, expired, revoked or lacks the openid scope."`)
		noStore(w)
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_token", "error_description": "The access token is invalid, expired, revoked or lacks the openid scope."})
		return
	}
	h.count("userinfo", "ok")
	noStore(w)
	writeJSON(w, http.StatusOK, claims)
}

// logout is GET /logout: end the browser's pool session, then either go
// to a registered sign-out URL (logout_uri) or back to the login page
// (redirect_uri + response_type). Only registered targets are followed.
func (h *Handler) logout(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	q := r.URL.Query()
	clientID, logoutURI := single(q, "client_id"), single(q, "logout_uri")
	if clientID == "" {
		h.count("logout", "invalid_request")
		h.errorPage(w, r, http.StatusBadRequest, "error.logout", "client_id is required.")
		return
	}
	oc, err := h.svc.OAuthClient(ctx, clientID)
	if err != nil {
		if isInternal(err) {
			h.internalError(w, r, "load client", err)
			return
		}
		h.count("logout", "invalid_client")
		h.errorPage(w, r, http.StatusBadRequest, "error.invalid_client", "Unknown client_id.")
		return
	}
	var target string
	switch {
	case logoutURI != "" && slices.Contains(oc.LogoutURLs, logoutURI):
		target = logoutURI
	case logoutURI != "":
		h.count("logout", "unregistered")
		h.errorPage(w, r, http.StatusBadRequest, "error.logout", "logout_uri is not one of the app client's sign-out URLs.")
		return
	default:
		ar, e := readAuthorize(q)
		if e == nil && ar.RedirectURI != "" && ar.ResponseType != "" && slices.Contains(oc.CallbackURLs, ar.RedirectURI) {
			lq := ar.query()
			lq.Set("notice", "signed_out")
			target = "/login?" + lq.Encode()
			break
		}
		h.count("logout", "unregistered")
		h.errorPage(w, r, http.StatusBadRequest, "error.logout", "Send logout_uri, or a registered redirect_uri with response_type.")
		return
	}
	if h.samlSignOut(w, r, oc.PoolID, target) {
		return
	}
	if err := h.endSession(ctx, w, r, oc.PoolID); err != nil {
		h.internalError(w, r, "end session", err)
		return
	}
	h.count("logout", "ok")
	w.Header().Set("Cache-Control", "no-store")
	redirect(w, target)
}

// single returns a parameter sent exactly once, else "".
func single(q url.Values, name string) string {
	if v := q[name]; len(v) == 1 && len(v[0]) <= 2048 {
		return v[0]
	}
	return ""
}
