package oauth

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/cognate-auth/cognate/userpool"
)

// The pool session is the browser's sign-in to a pool's pages: a random
// value in a cookie per pool (only its hash is stored). It lets
// /oauth2/authorize skip the login form, and /logout end it.
//
// SameSite=Lax, not Strict: the app's top-level navigation to
// /oauth2/authorize is cross-site and must carry it. HttpOnly: no script
// of ours needs it. No Domain: it stays on this host.
const sessionCookiePrefix = "cognate_session_"

func sessionCookieName(poolID string) string { return sessionCookiePrefix + poolID }

// currentSession returns the live session the request's cookie names, if
// any. A stale or unknown cookie is simply not live.
func (h *Handler) currentSession(r *http.Request, poolID string) (userpool.LoginSessionInfo, bool, error) {
	c, err := r.Cookie(sessionCookieName(poolID))
	if err != nil {
		return userpool.LoginSessionInfo{}, false, nil
	}
	info, err := h.svc.LoginSession(r.Context(), poolID, c.Value)
	if errors.Is(err, userpool.ErrNotAuthorized) {
		return info, false, nil
	}
	if err != nil {
		return info, false, err
	}
	return info, true, nil
}

// signIn starts a pool session for a user who just proved a password and
// finishes the authorization in the same response. A session the
// browser already had is ended first, so sessions do not pile up.
func (h *Handler) signIn(w http.ResponseWriter, r *http.Request, ar *authzRequest, username string) {
	ctx := r.Context()
	if err := h.forgetSession(ctx, r, ar.client.PoolID); err != nil {
		h.internalError(w, r, "end previous session", err)
		return
	}
	value, expires, err := h.svc.StartLoginSession(ctx, ar.client.PoolID, username)
	if err != nil {
		h.internalError(w, r, "start session", err)
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookieName(ar.client.PoolID), Value: value, Path: "/",
		MaxAge: max(int(time.Until(expires)/time.Second), 1), Expires: expires,
		HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode,
	})
	h.log.InfoContext(ctx, "hosted sign-in", "pool", ar.client.PoolID, "client", ar.client.ClientID)
	h.complete(w, r, ar, username, time.Now())
}

// forgetSession ends the browser's session in a pool, if it has one.
func (h *Handler) forgetSession(ctx context.Context, r *http.Request, poolID string) error {
	c, err := r.Cookie(sessionCookieName(poolID))
	if err != nil {
		return nil
	}
	return h.svc.EndLoginSession(ctx, c.Value)
}

// endSession forgets the browser's session in a pool and expires its
// cookie (sign-out).
func (h *Handler) endSession(ctx context.Context, w http.ResponseWriter, r *http.Request, poolID string) error {
	if err := h.forgetSession(ctx, r, poolID); err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookieName(poolID), Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode,
	})
	return nil
}
