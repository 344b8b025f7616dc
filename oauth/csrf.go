package oauth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"strings"
)

// CSRF protection of the pages' forms has two independent parts:
//
//   - A double-submit token bound by a server key: the browser holds a
//     random value in the cognate_csrf cookie and every form carries
//     HMAC(key, value) in a hidden field. A cross-site page can neither
//     read the cookie nor compute the MAC, and because the field is a MAC
//     rather than a copy, planting a cookie (from a sibling subdomain)
//     does not help either. The key is stored, so all nodes agree.
//   - An Origin check: a POST whose Origin (or, failing that, Referer)
//     names another origin is refused whatever its token. Browsers that
//     send neither leave the decision to the token.
//
// The cookie is SameSite=Strict: only our own pages' posts carry it.
const (
	csrfCookie = "cognate_csrf"
	csrfField  = "csrf_token"
)

// csrfToken returns the hidden-field value for this browser, giving it a
// cookie value first if it has none.
func (h *Handler) csrfToken(w http.ResponseWriter, r *http.Request) (string, error) {
	value := ""
	if c, err := r.Cookie(csrfCookie); err == nil && validCSRFValue(c.Value) {
		value = c.Value
	}
	if value == "" {
		b := make([]byte, 32)
		rand.Read(b)
		value = base64.RawURLEncoding.EncodeToString(b)
		http.SetCookie(w, &http.Cookie{
			Name: csrfCookie, Value: value, Path: "/",
			HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode,
		})
	}
	key, err := h.secret(r.Context())
	if err != nil {
		return "", err
	}
	return csrfMAC(key, value), nil
}

func validCSRFValue(v string) bool {
	return len(v) == 43 && strings.Trim(v, base64URLChars) == ""
}

func csrfMAC(key []byte, value string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("cognate csrf v1\x00"))
	m.Write([]byte(value))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// checkCSRF verifies a parsed form post's token against its cookie, in
// constant time.
func (h *Handler) checkCSRF(r *http.Request) (bool, error) {
	c, err := r.Cookie(csrfCookie)
	if err != nil || !validCSRFValue(c.Value) {
		return false, nil
	}
	got := r.PostForm[csrfField]
	if len(got) != 1 {
		return false, nil
	}
	key, err := h.secret(r.Context())
	if err != nil {
		return false, err
	}
	return hmac.Equal([]byte(csrfMAC(key, c.Value)), []byte(got[0])), nil
}

// sameOrigin reports whether a post comes from this server's own pages,
// by Origin, else Referer; with neither it cannot tell and says yes.
func (h *Handler) sameOrigin(r *http.Request) bool {
	if o := r.Header.Get("Origin"); o != "" {
		return h.ownOrigin(r, o)
	}
	if ref := r.Header.Get("Referer"); ref != "" {
		u, err := url.Parse(ref)
		if err != nil || u.Host == "" {
			return false
		}
		return h.ownOrigin(r, u.Scheme+"://"+u.Host)
	}
	return true
}

// ownOrigin: the request's own origin, or the configured public one
// (which is what browsers see behind a TLS-terminating proxy).
func (h *Handler) ownOrigin(r *http.Request, origin string) bool {
	origin = strings.ToLower(origin)
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return origin == scheme+"://"+strings.ToLower(r.Host) || (h.publicOrigin != "" && origin == h.publicOrigin)
}

// guardPost bounds and parses a page's form post and refuses it, before
// anything is done, unless it passes both CSRF checks.
func (h *Handler) guardPost(path string, next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
		if err := r.ParseForm(); err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				h.errorPage(w, r, http.StatusRequestEntityTooLarge, "error.too_large", "The form body exceeds 16 KiB.")
				return
			}
			h.errorPage(w, r, http.StatusBadRequest, "error.invalid_request", "The form could not be parsed.")
			return
		}
		for name, vals := range r.PostForm {
			if len(vals) > 1 || len(vals[0]) > maxFieldBytes {
				h.errorPage(w, r, http.StatusBadRequest, "error.invalid_request", "Form field "+truncate(name, 32)+" is repeated or too long.")
				return
			}
		}
		if !h.sameOrigin(r) {
			h.log.WarnContext(r.Context(), "cross-origin form post refused", "path", path, "origin", truncate(r.Header.Get("Origin"), 128))
			h.count(path, "csrf")
			h.errorPage(w, r, http.StatusForbidden, "error.csrf", "Cross-origin form post.")
			return
		}
		ok, err := h.checkCSRF(r)
		if err != nil {
			h.internalError(w, r, "csrf key", err)
			return
		}
		if !ok {
			h.count(path, "csrf")
			h.errorPage(w, r, http.StatusForbidden, "error.csrf", "Missing or invalid CSRF token.")
			return
		}
		next(w, r)
	}
}

// maxFieldBytes bounds one form field of the pages.
const maxFieldBytes = 2048

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
