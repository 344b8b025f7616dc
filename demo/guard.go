package demo

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/cognate-auth/cognate/internal/csrf"
	"github.com/cognate-auth/cognate/session"
)

// The sign-in and account-security forms are protected from cross-site
// posts by package csrf: a random value in the demo_csrf cookie
// (SameSite=Strict, HttpOnly, Path=/ so that both /sign-in and
// /account/security get it), HMAC(key, value) in each form's csrf_token
// field, and a Sec-Fetch-Site / Origin / Referer check naming this site:
// the session manager's Origin, or the request's own.
//
// The key lives in the process: the demo runs on one node, and a restart
// only makes an open form ask to be submitted again.
const (
	csrfCookie   = "demo_csrf"
	csrfField    = "csrf_token"
	signInPath   = "/sign-in"
	maxFormBytes = 16 << 10
)

func newCSRF(s *session.Manager) *csrf.Protector {
	return csrf.New(csrf.Options{
		CookieName: csrfCookie, CookiePath: "/", FieldName: csrfField,
		Origins: []string{s.Config().Origin},
	})
}

// csrfToken is the form field for this browser, giving it a cookie first
// when it has none.
func (a *app) csrfToken(w http.ResponseWriter, r *http.Request) string {
	// The key is the process's own, so Token cannot fail.
	token, _ := a.csrf.Token(w, r)
	return token
}

// readForm parses a POSTed form of bounded size and checks its CSRF
// token. It returns the status and message to show on failure, or 0.
func (a *app) readForm(w http.ResponseWriter, r *http.Request) (int, string) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return http.StatusRequestEntityTooLarge, "The form was too large."
		}
		return http.StatusBadRequest, "The form could not be read."
	}
	if a.csrf.Check(r) != nil {
		return http.StatusForbidden, "This form has expired or came from another site. Please try again."
	}
	return 0, ""
}

// safeRedirect returns p when it is a path on this site (never another
// origin, never back into sign-in), else the dashboard.
func safeRedirect(p string) string {
	const fallback = "/dashboard"
	if p == "" || len(p) > 2048 || p[0] != '/' || strings.HasPrefix(p, "//") || strings.HasPrefix(p, "/\\") {
		return fallback
	}
	for i := 0; i < len(p); i++ {
		if c := p[i]; c < 0x20 || c == 0x7f || c == '\\' {
			return fallback
		}
	}
	u, err := url.Parse(p)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Path != "" && u.Path[0] != '/' ||
		u.Path == signInPath || strings.HasPrefix(u.Path, signInPath+"/") {
		return fallback
	}
	return p
}
