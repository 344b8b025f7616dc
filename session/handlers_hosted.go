package session

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/cognate-auth/cognate/issuerclient"
)

const (
	// flowMaxAge bounds a hosted sign-in (Amplify's 5 minutes).
	flowMaxAge = 300
	flowCookie = "cognate.flow."
)

// providers maps ?provider= to Cognito identity_provider names, as
// Amplify's route handlers do; other values pass through.
var providers = map[string]string{
	"google": "Google", "facebook": "Facebook", "amazon": "LoginWithAmazon", "apple": "SignInWithApple",
}

// The checks of ?provider=, ?lang= and the state's flow id are written
// by hand, not as regexps: a compiled regexp stays live in every process
// that imports the package (the {1,64} repeat alone compiles to ~42 KB),
// which a small heap pays for in GC on every request. Each accepts
// exactly the language of the regexp in its comment (TestHostedParams,
// FuzzHostedParams).

// validProvider is ^[A-Za-z0-9_.:-]{1,64}$: an identity_provider name
// passed through as it is.
func validProvider(s string) bool {
	if len(s) < 1 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isAlnum(c) && c != '_' && c != '.' && c != ':' && c != '-' {
			return false
		}
	}
	return true
}

// validLang is ^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8}){0,3}$: a language tag
// the hosted pages are asked to speak.
func validLang(s string) bool {
	i := 0
	for i < len(s) && isLetter(s[i]) {
		i++
	}
	if i < 2 || i > 3 {
		return false
	}
	for subtags := 0; i < len(s); subtags++ {
		if subtags == 3 || s[i] != '-' {
			return false
		}
		i++
		start := i
		for i < len(s) && isAlnum(s[i]) {
			i++
		}
		if n := i - start; n < 1 || n > 8 {
			return false
		}
	}
	return true
}

// validFlowID is ^[A-Za-z0-9_-]{22}$: 16 random bytes in base64url, as
// startHosted makes them.
func validFlowID(s string) bool {
	if len(s) != 22 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isAlnum(c) && c != '_' && c != '-' {
			return false
		}
	}
	return true
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// startHosted sends the browser to the pool's authorize (or signup) page
// with PKCE S256 and a state bound to a per-flow cookie.
func (m *Manager) startHosted(w http.ResponseWriter, r *http.Request, endpoint string) {
	if m.cfg.OAuthDomain == "" {
		m.page(w, http.StatusNotFound, pageNoHosted)
		return
	}
	q := r.URL.Query()
	target := safePath(q.Get("redirect"))
	if target == "" {
		target = m.cfg.AfterSignIn
	}
	w, r, st := m.ensure(w, r)
	if st.valid(m.now()) {
		http.Redirect(w, r, target, http.StatusFound)
		return
	}
	params := url.Values{
		"response_type": {"code"}, "client_id": {m.cfg.ClientID}, "redirect_uri": {m.callbackURL()},
		"scope": {strings.Join(m.cfg.Scopes, " ")}, "code_challenge_method": {"S256"},
	}
	if p := q.Get("provider"); p != "" {
		if mapped, ok := providers[strings.ToLower(p)]; ok {
			p = mapped
		} else if !validProvider(p) {
			m.page(w, http.StatusBadRequest, pageBadProvider)
			return
		}
		params.Set("identity_provider", p)
	}
	if l := q.Get("lang"); validLang(l) {
		params.Set("lang", l)
	}
	flowID, tag, verifier := randomString(16), randomString(16), randomAlnum(128)
	params.Set("state", flowID+"."+tag)
	params.Set("code_challenge", s256(verifier))
	value := "v1." + tag + "." + verifier + "." + base64.RawURLEncoding.EncodeToString([]byte(target))
	m.auxCookie(w.Header(), flowCookie+flowID, value, flowMaxAge, "Lax")
	http.Redirect(w, r, strings.TrimRight(m.cfg.OAuthDomain, "/")+endpoint+"?"+params.Encode(), http.StatusFound)
}

// flow is a parsed per-flow cookie.
type flow struct{ tag, verifier, target string }

func parseFlow(v string) (flow, bool) {
	parts := strings.Split(v, ".")
	if len(parts) != 4 || parts[0] != "v1" {
		return flow{}, false
	}
	t, err := base64.RawURLEncoding.DecodeString(parts[3])
	target := safePath(string(t))
	if err != nil || target == "" || parts[1] == "" || len(parts[2]) < 43 {
		return flow{}, false
	}
	return flow{tag: parts[1], verifier: parts[2], target: target}, true
}

// callback finishes a hosted sign-in: it checks the state against the
// flow cookie, redeems the code with the verifier, verifies the tokens,
// writes them and answers with a page that navigates to the target (a
// redirect would not carry SameSite=Strict cookies, as the chain began
// on the issuer's site).
func (m *Manager) callback(w http.ResponseWriter, r *http.Request) {
	if m.cfg.OAuthDomain == "" {
		m.page(w, http.StatusNotFound, pageNoHosted)
		return
	}
	q := r.URL.Query()
	w.Header().Set("Referrer-Policy", "no-referrer")
	flowID, tag, _ := strings.Cut(q.Get("state"), ".")
	var f flow
	found := false
	if validFlowID(flowID) {
		if raw := m.auxValue(r, flowCookie+flowID); raw != "" {
			m.auxCookie(w.Header(), flowCookie+flowID, "", 0, "Lax")
			f, found = parseFlow(raw)
		}
	}
	if e := q.Get("error"); e != "" || q.Has("error_description") {
		m.page(w, http.StatusBadRequest, issuerErrorPage(e, q.Get("error_description"), m.SignInURL(f.target)))
		return
	}
	code := q.Get("code")
	switch {
	case code == "" || q.Get("state") == "":
		m.page(w, http.StatusBadRequest, pageBadCallback)
		return
	case !found:
		m.page(w, http.StatusBadRequest, restartPage(pageExpiredFlow, m.SignInURL("")))
		return
	case subtle.ConstantTimeCompare([]byte(tag), []byte(f.tag)) != 1:
		m.page(w, http.StatusBadRequest, restartPage(pageStateMismatch, m.SignInURL(f.target)))
		return
	}
	tok, err := m.iss.ExchangeCode(r.Context(), code, m.callbackURL(), f.verifier)
	if err != nil {
		m.exchangeFailed(w, r, err, f.target)
		return
	}
	if err := m.signedIn(w, r, tok, ""); err != nil {
		m.log.ErrorContext(r.Context(), "session: tokens from the code exchange do not verify", "err", err)
		m.page(w, http.StatusBadGateway, pageBadTokens)
		return
	}
	m.bounce(w, f.target)
}

func (m *Manager) exchangeFailed(w http.ResponseWriter, r *http.Request, err error, target string) {
	if errors.Is(err, issuerclient.ErrUnavailable) {
		m.log.WarnContext(r.Context(), "session: code exchange failed", "err", err)
		m.page(w, http.StatusBadGateway, restartPage(pageUnavailable, m.SignInURL(target)))
		return
	}
	m.log.InfoContext(r.Context(), "session: code exchange refused", "err", err)
	m.page(w, http.StatusBadRequest, restartPage(pageExchangeRefused, m.SignInURL(target)))
}

// signOutRoute revokes the refresh token, clears every token cookie and
// variant, and ends the pool's hosted session through /logout. A GET that
// a browser marks as coming from another site gets a confirmation form
// instead, so a link elsewhere cannot sign the user out.
func (m *Manager) signOutRoute(w http.ResponseWriter, r *http.Request) {
	if crossSite(r, m.origin) {
		if r.Method == http.MethodPost {
			m.page(w, http.StatusForbidden, pageCrossSite)
			return
		}
		m.page(w, http.StatusOK, confirmSignOutPage(m.SignOutURL()))
		return
	}
	j := m.readJar(r)
	if j != nil {
		m.revokeAll(r, j)
	}
	b := m.newBatch(j)
	b.delAll()
	b.flush(w.Header())
	if st := stateFrom(r.Context()); st != nil && st.m == m {
		st.mu.Lock()
		st.setCurrent(nil)
		st.mu.Unlock()
	}
	target := m.cfg.AfterSignOut
	if m.cfg.OAuthDomain != "" {
		target = strings.TrimRight(m.cfg.OAuthDomain, "/") + "/logout?" + url.Values{
			"client_id": {m.cfg.ClientID}, "logout_uri": {m.origin + m.mount + "sign-out-callback"},
		}.Encode()
	}
	http.Redirect(w, r, target, http.StatusFound)
}

// revokeAll revokes every refresh token the request carries; failures
// are logged, never in the way of signing out.
func (m *Manager) revokeAll(r *http.Request, j *jar) {
	var seen []string
	for _, u := range j.users() {
		rts, _ := j.values(u, keyRefresh)
		for _, rt := range rts {
			if slices.Contains(seen, rt) || len(seen) == maxCandidates {
				continue
			}
			seen = append(seen, rt)
			m.flights.forget(rt)
			var err error
			if m.oidc {
				err = m.iss.RevokeOAuth(r.Context(), rt)
			} else {
				err = m.iss.RevokeToken(r.Context(), rt)
			}
			if err != nil {
				m.log.WarnContext(r.Context(), "session: revoking the refresh token failed", "err", err)
			}
		}
	}
}

const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// randomString is n random bytes, base64url.
func randomString(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// randomAlnum is n characters of [A-Za-z0-9] (Amplify's PKCE verifier).
func randomAlnum(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	for i := range b {
		// 256 = 4*62 + 8: the bias of a modulo is negligible here, but
		// rejecting the top 8 values removes it.
		for b[i] >= 248 {
			var one [1]byte
			rand.Read(one[:])
			b[i] = one[0]
		}
		b[i] = alnum[int(b[i])%len(alnum)]
	}
	return string(b)
}

// s256 is the PKCE S256 challenge of verifier.
func s256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}
