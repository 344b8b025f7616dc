package oauth

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/cognate-auth/cognate/internal/csrf"
	"github.com/cognate-auth/cognate/userpool"
)

// The pages' forms are protected by package csrf: a random value in the
// cognate_csrf cookie, HMAC(key, value) in every form's csrf_token field,
// and an Origin (else Referer, and Sec-Fetch-Site) check on every post.
// The key is stored, so all nodes agree; the trusted origins are the
// request's own and the public URL's (what browsers see behind a
// TLS-terminating proxy).
const (
	csrfCookie = "cognate_csrf"
	csrfField  = "csrf_token"
)

func newCSRF(svc *userpool.Service, publicURL string) *csrf.Protector {
	opts := csrf.Options{
		CookieName: csrfCookie, FieldName: csrfField,
		KeyFunc: func(ctx context.Context) ([]byte, error) { return svc.Secret(ctx, "csrf") },
	}
	if u, err := url.Parse(publicURL); err == nil && u.Host != "" {
		opts.Origins = []string{strings.ToLower(u.Scheme + "://" + u.Host)}
	}
	return csrf.New(opts)
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
		switch err := h.csrf.Check(r); {
		case err == nil:
			next(w, r)
		case errors.Is(err, csrf.ErrCrossOrigin):
			h.log.WarnContext(r.Context(), "cross-origin form post refused", "path", path, "origin", truncate(r.Header.Get("Origin"), 128))
			h.count(path, "csrf")
			h.errorPage(w, r, http.StatusForbidden, "error.csrf", "Cross-origin form post.")
		case errors.Is(err, csrf.ErrKeyUnavailable):
			h.internalError(w, r, "csrf key", err)
		default:
			h.count(path, "csrf")
			h.errorPage(w, r, http.StatusForbidden, "error.csrf", "Missing or invalid CSRF token.")
		}
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
