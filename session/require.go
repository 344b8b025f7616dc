package session

import (
	"net/http"
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
