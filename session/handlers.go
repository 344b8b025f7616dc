package session

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/cognate-auth/cognate/issuerclient"
)

// TokenHeader must be sent (with the value "1") to GET <mount>token.
// A custom header cannot be sent cross-origin without a CORS
// preflight, which this package never answers.
const TokenHeader = "X-Cognate-Token"

// Handler serves the auth routes under Config.MountPath; mount it with
// mux.Handle(cfg.MountPath, m.Handler()). Routes:
//
//	GET  sign-in, sign-up       start hosted sign-in (?redirect=/path, ?lang=, ?provider=)
//	GET  sign-in-callback       finish it (the OAuth redirect_uri)
//	GET  sign-out, POST sign-out revoke, clear the cookies, end the pool's session
//	GET  sign-out-callback      the pool's logout_uri: lands on AfterSignOut
//	GET  token                  the access token for same-origin scripts (TokenHeader required)
//	POST password               server-side password sign-in form
//	POST passwordless           server-side choice-based sign-in (username only)
//	GET  challenge, POST challenge  the pending sign-in challenge
func (m *Manager) Handler() http.Handler { return http.HandlerFunc(m.route) }

func (m *Manager) route(w http.ResponseWriter, r *http.Request) {
	slug, ok := strings.CutPrefix(r.URL.Path, m.mount)
	if !ok || strings.Contains(slug, "/") {
		m.page(w, http.StatusNotFound, pageNotFound)
		return
	}
	get := r.Method == http.MethodGet || r.Method == http.MethodHead
	post := r.Method == http.MethodPost
	noStore(w.Header())
	switch {
	case slug == "sign-in" && get:
		m.startHosted(w, r, "/oauth2/authorize")
	case slug == "sign-up" && get:
		m.startHosted(w, r, "/signup")
	case slug == "sign-in-callback" && get:
		m.callback(w, r)
	case slug == "sign-out" && (get || post):
		m.signOutRoute(w, r)
	case slug == "sign-out-callback" && get:
		http.Redirect(w, r, m.cfg.AfterSignOut, http.StatusFound)
	case slug == "token" && get:
		m.token(w, r)
	case slug == "password" && post:
		m.passwordRoute(w, r)
	case slug == "passwordless" && post:
		m.passwordRoute(w, r)
	case slug == "challenge" && (get || post):
		m.challengeRoute(w, r)
	default:
		allow := map[string]string{
			"sign-in": "GET, HEAD", "sign-up": "GET, HEAD", "sign-in-callback": "GET, HEAD", "sign-out": "GET, HEAD, POST",
			"sign-out-callback": "GET, HEAD", "token": "GET, HEAD", "password": "POST", "passwordless": "POST", "challenge": "GET, HEAD, POST",
		}[slug]
		if allow == "" {
			m.page(w, http.StatusNotFound, pageNotFound)
			return
		}
		w.Header().Set("Allow", allow)
		m.page(w, http.StatusMethodNotAllowed, pageMethod)
	}
}

// SignInURL is the hosted sign-in route that returns to returnTo (a
// same-origin path; anything else is dropped).
func (m *Manager) SignInURL(returnTo string) string { return m.routeURL("sign-in", returnTo) }

// SignUpURL is SignInURL for the sign-up page.
func (m *Manager) SignUpURL(returnTo string) string { return m.routeURL("sign-up", returnTo) }

// SignOutURL is the sign-out route.
func (m *Manager) SignOutURL() string { return m.mount + "sign-out" }

func (m *Manager) routeURL(slug, returnTo string) string {
	if p := safePath(returnTo); p != "" {
		return m.mount + slug + "?redirect=" + url.QueryEscape(p)
	}
	return m.mount + slug
}

func (m *Manager) callbackURL() string { return m.origin + m.mount + "sign-in-callback" }

// signedIn verifies fresh tokens from the issuer and writes them,
// replacing whatever session cookies the request carried.
func (m *Manager) signedIn(w http.ResponseWriter, r *http.Request, tok issuerclient.Tokens, details string) error {
	ctx := r.Context()
	res := &refreshed{access: tok.AccessToken, id: tok.IDToken, refresh: tok.RefreshToken}
	var err error
	if res.ac, err = m.access.Verify(ctx, tok.AccessToken); err != nil {
		return err
	}
	if tok.IDToken != "" {
		if res.ic, err = m.id.Verify(ctx, tok.IDToken); err != nil {
			return err
		}
		if res.ic.Subject != res.ac.Subject {
			return errors.New("id and access tokens name other subjects")
		}
	}
	b := m.newBatch(m.readJar(r))
	b.delAll()
	cur := m.store(&current{details: details}, res, b)
	b.flush(w.Header())
	if st := stateFrom(ctx); st != nil && st.m == m {
		st.mu.Lock()
		st.setCurrent(cur)
		st.mu.Unlock()
	}
	return nil
}

// token gives same-origin scripts the access token (for example to open
// an events WebSocket from a page whose cookies are HttpOnly).
func (m *Manager) token(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get(TokenHeader) != "1" {
		writeJSON(w, http.StatusForbidden, map[string]string{"error": "missing_header", "message": TokenHeader + ": 1 is required"})
		return
	}
	if !sameOrigin(r, m.origin) {
		writeJSON(w, http.StatusForbidden, map[string]string{"error": "cross_origin"})
		return
	}
	w, r, st := m.ensure(w, r)
	if err := st.refresh(r.Context(), w, false); err != nil && !errors.Is(err, ErrNoSession) {
		m.log.WarnContext(r.Context(), "session: token endpoint refresh failed", "err", err)
	}
	s := st.sess.Load()
	if s == nil || !s.ExpiresAt.After(m.now()) {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "signed_out"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"accessToken": s.AccessToken, "expiresAt": s.ExpiresAt.Unix(), "username": s.Username,
	})
}
