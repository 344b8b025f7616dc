package oauth

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/cognate-auth/cognate/userpool"
)

// authorize is GET /oauth2/authorize. A browser with a live session for
// the pool gets its code (or tokens) straight away; otherwise it goes to
// /login with the same parameters.
func (h *Handler) authorize(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	ar, e := h.resolve(ctx, r.URL.Query())
	if e != nil {
		h.authzFail(w, r, &ar, e)
		return
	}
	if ar.wantsFederation() {
		h.federate(w, r, &ar)
		return
	}
	sess, live, err := h.currentSession(r, ar.client.PoolID)
	if err != nil {
		h.log.ErrorContext(ctx, "read login session", "err", err)
		e := redirErr("server_error", "Internal server error.")
		if unavailable(err) {
			e = errUnavailablePage()
		}
		h.authzFail(w, r, &ar, e)
		return
	}
	if live && !ar.promptLogin {
		h.complete(w, r, &ar, sess.Username, sess.AuthTime)
		return
	}
	if ar.promptNone {
		h.authzFail(w, r, &ar, redirErr("login_required", "The user is not signed in."))
		return
	}
	h.count("authorize", "login")
	redirect(w, "/login?"+ar.query().Encode())
}

// resolve reads and checks an authorization request against its client.
func (h *Handler) resolve(ctx context.Context, q url.Values) (authzRequest, *authzError) {
	return checkRequest(q, func(clientID string) (userpool.OAuthClient, *authzError) {
		oc, err := h.svc.OAuthClient(ctx, clientID)
		switch {
		case err == nil:
			return oc, nil
		case unavailable(err):
			h.log.WarnContext(ctx, "load client: storage unavailable", "err", err)
			return oc, errUnavailablePage()
		case isInternal(err):
			h.log.ErrorContext(ctx, "load client", "err", err)
			return oc, pageErr(http.StatusInternalServerError, "server_error", "error.internal", "Internal server error.")
		}
		return oc, pageErr(http.StatusBadRequest, "invalid_client", "error.invalid_client", "Unknown client_id.")
	})
}

// checkRequest checks the parameters, then the client and redirect URI
// (page errors), then the rest (errors redirected to the client).
func checkRequest(q url.Values, lookup func(clientID string) (userpool.OAuthClient, *authzError)) (authzRequest, *authzError) {
	ar, e := readAuthorize(q)
	if e != nil && e.page {
		return ar, e
	}
	if ar.ClientID == "" {
		return ar, pageErr(http.StatusBadRequest, "invalid_request", "error.invalid_request", "client_id is required.")
	}
	oc, le := lookup(ar.ClientID)
	if le != nil {
		return ar, le
	}
	if be := bindClient(&ar, oc); be != nil {
		return ar, be
	}
	if e != nil {
		return ar, e
	}
	return ar, checkAuthz(&ar)
}

// authzFail reports a failed authorization: a page when the client or
// redirect URI is not trusted, a redirect to the client otherwise.
func (h *Handler) authzFail(w http.ResponseWriter, r *http.Request, ar *authzRequest, e *authzError) {
	h.count("authorize", e.code)
	if e.page {
		h.errorPage(w, r, e.status, e.key, e.desc)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	redirect(w, ar.errorURL(e))
}

// complete finishes an authorization for a signed-in user: a code, or
// for the implicit flow tokens, sent to the redirect URI.
func (h *Handler) complete(w http.ResponseWriter, r *http.Request, ar *authzRequest, username string, authTime time.Time) {
	ctx := r.Context()
	a := userpool.Authorization{
		ClientID: ar.client.ClientID, Username: username, RedirectURI: ar.redirect, Scope: ar.granted,
		Nonce: ar.Nonce, CodeChallenge: ar.CodeChallenge, AuthTime: authTime,
	}
	p := url.Values{}
	if ar.ResponseType == "token" {
		t, err := h.svc.ImplicitTokens(ctx, a)
		if err != nil {
			h.authzFail(w, r, ar, h.authzServiceError(ctx, err))
			return
		}
		p.Set("access_token", t.AccessToken)
		if t.IDToken != "" {
			p.Set("id_token", t.IDToken)
		}
		p.Set("token_type", "Bearer")
		p.Set("expires_in", strconv.FormatInt(t.ExpiresIn, 10))
	} else {
		code, err := h.svc.IssueAuthCode(ctx, a)
		if err != nil {
			h.authzFail(w, r, ar, h.authzServiceError(ctx, err))
			return
		}
		p.Set("code", code)
	}
	if ar.State != "" {
		p.Set("state", ar.State)
	}
	h.count("authorize", "ok")
	w.Header().Set("Cache-Control", "no-store")
	redirect(w, callbackURL(ar.redirect, p, ar.fragment()))
}

// authzServiceError maps a domain failure to an authorization error.
func (h *Handler) authzServiceError(ctx context.Context, err error) *authzError {
	if unavailable(err) {
		h.log.WarnContext(ctx, "authorization: storage unavailable", "err", err)
		return errUnavailablePage()
	}
	var e *userpool.Error
	if !errors.As(err, &e) || e.Internal {
		h.log.ErrorContext(ctx, "authorization failed", "err", err)
		return redirErr("server_error", "Internal server error.")
	}
	switch e.Type {
	case userpool.ErrUnauthorizedClient.Type, userpool.ErrInvalidScope.Type, userpool.ErrInvalidRequest.Type:
		return redirErr(e.Type, e.Message)
	}
	return redirErr("access_denied", e.Message)
}

// redirect answers 302 with only a Location: no body that would echo the
// target (http.Redirect writes an HTML link).
func redirect(w http.ResponseWriter, target string) {
	w.Header().Set("Location", target)
	w.WriteHeader(http.StatusFound)
}

func isInternal(err error) bool {
	var e *userpool.Error
	return !errors.As(err, &e) || e.Internal
}
