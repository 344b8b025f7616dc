package session

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/cognate-auth/cognate/internal/csrf"
	"github.com/cognate-auth/cognate/internal/qr"
)

// maxForm bounds the password and challenge forms.
const maxForm = 64 << 10

// parseForm reads a same-origin POST form with a valid CSRF token. On
// failure it has answered: 403 for a cross-origin post, a redirect back
// with ?error=InvalidCSRF for a stale token.
func (m *Manager) parseForm(w http.ResponseWriter, r *http.Request, back string) bool {
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		m.page(w, http.StatusBadRequest, page{Title: "Bad request", Message: "The form could not be read."})
		return false
	}
	switch err := m.csrf.Check(r); {
	case err == nil:
		return true
	case errors.Is(err, csrf.ErrCrossOrigin):
		m.page(w, http.StatusForbidden, pageCrossSite)
	default:
		m.back(w, r, back, "InvalidCSRF", r.PostForm.Get("redirect"))
	}
	return false
}

// passwordRoute is POST <mount>password: fields username, password,
// csrf (CSRFToken) and redirect (a same-origin path); and POST
// <mount>passwordless, a choice-based sign-in with username and an
// optional preferred (EMAIL_OTP, SMS_OTP, …) instead of the password,
// which goes on to the challenge page. Success lands on
// redirect (default AfterSignIn); a challenge on ChallengePath (default
// <mount>challenge); a failure back on the form's page (the Referer) with
// ?error=<AuthError.Code>&redirect=<redirect>.
func (m *Manager) passwordRoute(w http.ResponseWriter, r *http.Request) {
	back := sameOriginReferer(r, m.origin)
	if !m.parseForm(w, r, back) {
		return
	}
	redirect := safePath(r.PostForm.Get("redirect"))
	if redirect == "" {
		redirect = m.cfg.AfterSignIn
	}
	w, r, _ = m.ensure(w, r)
	username := strings.TrimSpace(r.PostForm.Get("username"))
	var c *Challenge
	var err error
	if strings.HasSuffix(r.URL.Path, "passwordless") {
		c, err = m.choiceSignIn(w, r, username, r.PostForm.Get("preferred"), redirect)
	} else {
		c, err = m.passwordSignIn(w, r, username, r.PostForm.Get("password"), redirect)
	}
	switch {
	case err != nil:
		m.back(w, r, back, authError(err).Code, redirect)
	case c != nil:
		http.Redirect(w, r, m.challengePage(), http.StatusSeeOther)
	default:
		http.Redirect(w, r, redirect, http.StatusSeeOther)
	}
}

func (m *Manager) challengePage() string {
	if m.cfg.ChallengePath != "" {
		return m.cfg.ChallengePath
	}
	return m.mount + "challenge"
}

// back redirects (303) to the form's page with ?error=code (and
// redirect), or to "/" when the page is unknown.
func (m *Manager) back(w http.ResponseWriter, r *http.Request, back, code, redirect string) {
	if back == "" {
		back = "/"
	}
	u, _ := url.Parse(back)
	q := u.Query()
	q.Set("error", code)
	if p := safePath(redirect); p != "" {
		q.Set("redirect", p)
	}
	u.RawQuery = q.Encode()
	http.Redirect(w, r, u.String(), http.StatusSeeOther)
}

// challengeRoute is <mount>challenge: GET renders the pending challenge
// (the built-in page, used when ChallengePath is ""), POST answers it
// with the fields of Challenge.Fields plus csrf.
func (m *Manager) challengeRoute(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		m.challengeForm(w, r)
		return
	}
	page := m.challengePage()
	if !m.parseForm(w, r, page) {
		return
	}
	c, err := m.PendingChallenge(r)
	if err != nil {
		m.back(w, r, page, authError(err).Code, "")
		return
	}
	responses := map[string]string{}
	for _, f := range c.Fields() {
		if v := r.PostForm.Get(f); v != "" {
			responses[f] = v
		}
	}
	w, r, _ = m.ensure(w, r)
	next, err := m.RespondToChallenge(w, r, c, responses)
	switch {
	case err != nil:
		ae := authError(err)
		if errors.Is(err, ErrChallengeExpired) || ae.Code == "NotAuthorizedException" {
			m.auxCookie(w.Header(), challengeCookie, "", 0, "Strict")
		}
		m.back(w, r, page, ae.Code, "")
	case next != nil:
		http.Redirect(w, r, page, http.StatusSeeOther)
	default:
		target := c.redirect
		if target == "" {
			target = m.cfg.AfterSignIn
		}
		http.Redirect(w, r, target, http.StatusSeeOther)
	}
}

// fieldLabels name the inputs of the built-in challenge page, and
// choiceLabels the options of its ANSWER field.
var (
	fieldLabels = map[string]string{
		"NEW_PASSWORD": "New password", "SMS_MFA_CODE": "Code sent by SMS", "SMS_OTP_CODE": "Code sent by SMS",
		"SOFTWARE_TOKEN_MFA_CODE": "Code from your authenticator app", "EMAIL_OTP_CODE": "Code sent by email", "ANSWER": "Answer",
		"EMAIL": "Email address for sign-in codes", "PASSWORD": "Password (if you sign in with it)",
	}
	choiceLabels = map[string]string{
		"SOFTWARE_TOKEN_MFA": "Authenticator app", "SMS_MFA": "Text message", "EMAIL_OTP": "Email",
		"SMS_OTP": "Text message", "PASSWORD": "Password", "WEB_AUTHN": "Passkey",
	}
)

// challengeForm is the built-in page for the pending challenge.
func (m *Manager) challengeForm(w http.ResponseWriter, r *http.Request) {
	c, err := m.PendingChallenge(r)
	if err != nil {
		m.page(w, http.StatusBadRequest, restartPage(page{Title: "Sign-in expired", Message: "This sign-in step is no longer pending."}, "/"))
		return
	}
	fields := c.Fields()
	if len(fields) == 0 {
		m.page(w, http.StatusNotImplemented, page{Title: "Not supported", Message: "This sign-in step (" + c.Name + ") needs an app page of its own."})
		return
	}
	form := &pageForm{Action: m.mount + "challenge", Button: "Continue"}
	for _, f := range fields {
		pf := pageField{Label: fieldLabels[f], Name: f, Type: "text", Autocomplete: "one-time-code"}
		switch {
		case f == "ANSWER" && len(c.Options()) > 0:
			pf.Label = "Choose how to continue"
			for _, o := range c.Options() {
				pf.Choices = append(pf.Choices, pageChoice{Label: choiceLabels[o], Value: o})
			}
		case f == "NEW_PASSWORD":
			pf.Type, pf.Autocomplete = "password", "new-password"
		case f == "PASSWORD":
			pf.Type, pf.Autocomplete, pf.Optional = "password", "current-password", true
		case f == "EMAIL":
			pf.Type, pf.Autocomplete = "email", "email"
		case f == "CREDENTIAL":
			pf.Type = "hidden"
		case pf.Label == "":
			pf.Label, pf.Autocomplete = strings.TrimPrefix(f, "userAttributes."), "on"
		}
		form.Fields = append(form.Fields, pf)
	}
	form.Fields = append(form.Fields, pageField{Name: CSRFField, Type: "hidden", Value: m.CSRFToken(w, r)})
	p := page{Title: "One more step", Message: challengeMessage(c), Form: form}
	if opts := c.PasskeyOptions(); opts != "" {
		form.Passkey, form.Button = opts, "Use your passkey"
	}
	if uri := c.TOTPSetupURI(m.cfg.issuerLabel()); uri != "" {
		p.QR, _ = qr.SVG(uri, "QR code to scan with an authenticator app")
		p.Secret = c.TOTPSecret()
	}
	if code := r.URL.Query().Get("error"); code != "" {
		p.Detail = "That did not work (" + clip(code, 64) + "). Please try again."
	}
	m.page(w, http.StatusOK, p)
}

func challengeMessage(c *Challenge) string {
	switch {
	case c.Name == "NEW_PASSWORD_REQUIRED":
		return "Choose a new password to finish signing in."
	case c.Name == "CUSTOM_CHALLENGE":
		return "Answer the question to finish signing in."
	case c.Name == "SELECT_MFA_TYPE":
		return "Choose how to confirm it is you."
	case c.Name == "SELECT_CHALLENGE":
		return "Choose how to sign in."
	case c.Name == "WEB_AUTHN":
		return "Sign in with the passkey on this device or a security key."
	case c.Name == "MFA_SETUP" && c.secret != "":
		return "Scan the code with your authenticator app, then enter the code it shows."
	case c.Name == "MFA_SETUP" && len(c.Options()) > 0:
		return "This account needs a second step at sign-in. Choose one to set up."
	case c.Name == "MFA_SETUP":
		return "Enter the email address to send sign-in codes to."
	}
	return "Enter the code to finish signing in."
}
