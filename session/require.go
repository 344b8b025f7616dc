package session

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
)

// Require lets signed-in requests through to next. A signed-out page
// request is redirected (303) to the sign-in route with its path as the
// return target; a request that wants JSON (fetch, XHR, Accept:
// application/json) gets 401 with a JSON body instead. Require resolves
// the session itself when the request did not pass the Middleware.
func (m *Manager) Require(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w, r, st := m.ensure(w, r)
		if st.sess.Load() == nil {
			m.signedOut(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// RequireGroup is Require plus membership of group: other users get 403
// (a page, or JSON for requests that want JSON).
func (m *Manager) RequireGroup(group string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w, r, st := m.ensure(w, r)
		s := st.sess.Load()
		switch {
		case s == nil:
			m.signedOut(w, r)
		case !s.InGroup(group):
			noStore(w.Header())
			if wantsJSON(r) {
				writeJSON(w, http.StatusForbidden, map[string]string{"error": "forbidden", "message": "This needs membership of the group " + group + "."})
				return
			}
			m.page(w, http.StatusForbidden, forbiddenPage(group))
		default:
			next.ServeHTTP(w, r)
		}
	})
}

// signedOut answers a request that needs a user.
func (m *Manager) signedOut(w http.ResponseWriter, r *http.Request) {
	noStore(w.Header())
	back := ""
	switch {
	case r.Method == http.MethodGet || r.Method == http.MethodHead:
		back = r.URL.RequestURI()
	default:
		back = sameOriginReferer(r, m.origin)
	}
	if wantsJSON(r) {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "signed_out", "signInUrl": m.SignInURL(back)})
		return
	}
	http.Redirect(w, r, m.SignInURL(back), http.StatusSeeOther)
}

// wantsJSON tells script requests from page navigations.
func wantsJSON(r *http.Request) bool {
	switch r.Header.Get("Sec-Fetch-Mode") {
	case "":
	case "navigate", "nested-navigate":
		return false
	default:
		return true
	}
	if r.Header.Get("X-Requested-With") != "" {
		return true
	}
	accept := r.Header.Get("Accept")
	if strings.Contains(accept, "text/html") {
		return false
	}
	return strings.Contains(accept, "application/json") || strings.Contains(accept, "+json")
}

// safePath returns p when it is a path on this origin that a redirect
// may go to, else "". It rejects absolute and scheme-relative URLs ("//x",
// "/\x"), backslashes and control characters anywhere, and anything a
// browser could read as another host.
func safePath(p string) string {
	if len(p) == 0 || len(p) > 2048 || p[0] != '/' || (len(p) > 1 && (p[1] == '/' || p[1] == '\\')) {
		return ""
	}
	for i := 0; i < len(p); i++ {
		if c := p[i]; c < 0x20 || c == 0x7f || c == '\\' {
			return ""
		}
	}
	u, err := url.Parse(p)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return ""
	}
	return p
}

// sameOriginReferer is the Referer's path when it is on origin.
func sameOriginReferer(r *http.Request, origin string) string {
	u, err := url.Parse(r.Header.Get("Referer"))
	if err != nil || strings.ToLower(u.Scheme+"://"+u.Host) != origin {
		return ""
	}
	return safePath(u.RequestURI())
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	noStore(w.Header())
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// s256 is the PKCE S256 challenge of verifier.
func s256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}
