package session

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/cognate-auth/cognate/internal/csrf"
	"github.com/cognate-auth/cognate/issuerclient"
)

const (
	challengeCookie = "cognate.challenge"
	csrfCookie      = "cognate.csrf"
	// challengeTTL is Cognito's default challenge session lifetime.
	challengeTTL = 3 * time.Minute
	// CSRFField is the form field the password and challenge routes read
	// the CSRFToken from.
	CSRFField = "csrf"
)

// AuthError is a sign-in step that failed in a way to show the user.
// Code is the issuer's exception name (NotAuthorizedException,
// UserNotFoundException, InvalidPasswordException, CodeMismatchException,
// PasswordResetRequiredException, UserNotConfirmedException, …) or one of
// InvalidParameterException (a field is empty), ServiceUnavailable,
// ChallengeExpired, InvalidCSRF, NotSupported. The password and challenge
// routes pass Code back to the form page as ?error=.
type AuthError struct {
	Code, Message string
	Err           error
}

func (e *AuthError) Error() string {
	if e.Message == "" {
		return "session: " + e.Code
	}
	return "session: " + e.Code + ": " + e.Message
}

func (e *AuthError) Unwrap() error { return e.Err }

// authError classifies a sign-in failure.
func authError(err error) *AuthError {
	var ae *AuthError
	var ie *issuerclient.Error
	switch {
	case errors.As(err, &ae):
		return ae
	case errors.Is(err, ErrChallengeExpired):
		return &AuthError{Code: "ChallengeExpired", Message: "The sign-in took too long; start again.", Err: err}
	case errors.Is(err, issuerclient.ErrUnavailable):
		return &AuthError{Code: "ServiceUnavailable", Message: "The sign-in service could not be reached; try again.", Err: err}
	case errors.As(err, &ie):
		return &AuthError{Code: ie.Type, Message: ie.Message, Err: err}
	}
	return &AuthError{Code: "ServiceUnavailable", Message: "Sign-in failed; try again.", Err: err}
}

// Challenge is a pending step of a password sign-in: Name is Cognito's
// ChallengeName (NEW_PASSWORD_REQUIRED, SMS_MFA, SOFTWARE_TOKEN_MFA,
// EMAIL_OTP, …) and Parameters its ChallengeParameters. It travels
// between requests in a sealed (AES-GCM), HttpOnly, 3-minute cookie.
type Challenge struct {
	Name       string
	Parameters map[string]string
	// Available are the first factors a SELECT_CHALLENGE step offers.
	Available []string

	session, username, redirect, loginID string
	// secret is the authenticator-app secret of an MFA_SETUP step that
	// is waiting for its first code.
	secret string
	// userAuth marks a choice-based (USER_AUTH) sign-in.
	userAuth bool
	expires  time.Time
}

// Fields are the names of the responses the challenge expects, to put in
// RespondToChallenge's map (and the built-in page's inputs):
// NEW_PASSWORD and the pool's required userAttributes.<name> for
// NEW_PASSWORD_REQUIRED, <NAME>_CODE for the code challenges.
func (c *Challenge) Fields() []string {
	switch c.Name {
	case "NEW_PASSWORD_REQUIRED":
		out := []string{"NEW_PASSWORD"}
		var req []string
		_ = json.Unmarshal([]byte(c.Parameters["requiredAttributes"]), &req)
		for _, a := range req {
			if strings.HasPrefix(a, "userAttributes.") && !slices.Contains(out, a) {
				out = append(out, a)
			}
		}
		return out
	case "SMS_MFA", "SOFTWARE_TOKEN_MFA", "EMAIL_OTP", "SMS_OTP":
		return []string{c.Name + "_CODE"}
	case "CUSTOM_CHALLENGE", "SELECT_MFA_TYPE":
		return []string{"ANSWER"}
	case "WEB_AUTHN":
		return []string{"CREDENTIAL"}
	case "SELECT_CHALLENGE":
		if slices.Contains(c.Available, "PASSWORD") {
			return []string{"ANSWER", "PASSWORD"}
		}
		return []string{"ANSWER"}
	case "MFA_SETUP":
		return c.setupFields()
	}
	return nil
}

// SignInWithPassword signs username in with SRP (the password never
// leaves the server) and, on success, writes the session cookies on w
// and returns (nil, nil). When the pool asks for another step it returns
// the Challenge (also kept in a sealed cookie for the next request; see
// PendingChallenge). Failures are *AuthError. Protecting the form that
// calls it against CSRF is the caller's job (the password route uses
// CSRFToken).
func (m *Manager) SignInWithPassword(w http.ResponseWriter, r *http.Request, username, password string) (*Challenge, error) {
	return m.passwordSignIn(w, r, username, password, m.cfg.AfterSignIn)
}

func (m *Manager) passwordSignIn(w http.ResponseWriter, r *http.Request, username, password, redirect string) (*Challenge, error) {
	switch {
	case m.oidc:
		return nil, &AuthError{Code: "NotSupported", Message: "Password sign-in needs a Cognito user pool."}
	case username == "" || password == "":
		return nil, &AuthError{Code: "InvalidParameterException", Message: "Enter a username and a password."}
	case headersWritten(w):
		return nil, ErrHeadersWritten
	}
	res, err := m.iss.SignInSRP(r.Context(), username, password)
	return m.step(w, r, res, err, &Challenge{redirect: redirect, loginID: username})
}

// SignInWithChoice starts a choice-based sign-in (USER_AUTH) with only
// the username: the returned Challenge is the pool's first step, usually
// SELECT_CHALLENGE (see Challenge.Options) or, with preferred set and
// available to the user, that factor's code step. Like
// SignInWithPassword it keeps the Challenge in its cookie and returns
// *AuthError on failure.
func (m *Manager) SignInWithChoice(w http.ResponseWriter, r *http.Request, username, preferred string) (*Challenge, error) {
	return m.choiceSignIn(w, r, username, preferred, m.cfg.AfterSignIn)
}

func (m *Manager) choiceSignIn(w http.ResponseWriter, r *http.Request, username, preferred, redirect string) (*Challenge, error) {
	switch {
	case m.oidc:
		return nil, &AuthError{Code: "NotSupported", Message: "Choice-based sign-in needs a Cognito user pool."}
	case username == "":
		return nil, &AuthError{Code: "InvalidParameterException", Message: "Enter a username."}
	case headersWritten(w):
		return nil, ErrHeadersWritten
	}
	res, err := m.iss.StartUserAuth(r.Context(), username, preferred)
	return m.step(w, r, res, err, &Challenge{redirect: redirect, loginID: username, userAuth: true})
}

// RespondToChallenge answers c (nil: the pending challenge of r's
// cookie) with responses (see Challenge.Fields). It returns (nil, nil)
// once signed in, the next Challenge, or an *AuthError;
// ErrChallengeExpired (inside the AuthError) means starting over.
func (m *Manager) RespondToChallenge(w http.ResponseWriter, r *http.Request, c *Challenge, responses map[string]string) (*Challenge, error) {
	if c == nil {
		var err error
		if c, err = m.PendingChallenge(r); err != nil {
			return nil, authError(err)
		}
	}
	switch {
	case c.session == "" || !m.now().Before(c.expires):
		return nil, authError(ErrChallengeExpired)
	case headersWritten(w):
		return nil, ErrHeadersWritten
	}
	for _, f := range c.Fields() {
		if f == "NEW_PASSWORD" || strings.HasSuffix(f, "_CODE") || f == "ANSWER" || f == "EMAIL" || f == "CREDENTIAL" {
			if responses[f] == "" {
				return nil, &AuthError{Code: "InvalidParameterException", Message: "Fill in every field."}
			}
		}
	}
	if opts := c.Options(); len(opts) > 0 && !slices.Contains(opts, responses["ANSWER"]) {
		return nil, &AuthError{Code: "InvalidParameterException", Message: "Choose one of the options."}
	}
	if c.Name == "MFA_SETUP" {
		return m.answerSetup(w, r, c, responses)
	}
	if c.Name == "SELECT_CHALLENGE" && responses["ANSWER"] != "PASSWORD" {
		delete(responses, "PASSWORD")
	}
	res, err := m.iss.RespondToChallenge(r.Context(), c.Name, c.session, c.username, responses)
	return m.step(w, r, res, err, c)
}

// step finishes one sign-in step: tokens are written, a challenge is
// sealed into its cookie.
func (m *Manager) step(w http.ResponseWriter, r *http.Request, res issuerclient.Result, err error, prev *Challenge) (*Challenge, error) {
	if err != nil {
		return nil, authError(err)
	}
	if res.Tokens != nil {
		// Amplify's signInDetails, field order included.
		details, _ := json.Marshal(struct {
			LoginID      string `json:"loginId"`
			AuthFlowType string `json:"authFlowType"`
		}{prev.loginID, prev.flow()})
		if err := m.signedIn(w, r, *res.Tokens, string(details)); err != nil {
			m.log.ErrorContext(r.Context(), "session: tokens from password sign-in do not verify", "err", err)
			return nil, &AuthError{Code: "ServiceUnavailable", Message: "The sign-in service answered with tokens this app cannot verify.", Err: err}
		}
		m.auxCookie(w.Header(), challengeCookie, "", 0, "Strict")
		return nil, nil
	}
	c := &Challenge{
		Name: res.Challenge, Parameters: res.Parameters, Available: res.AvailableChallenges, session: res.Session,
		username: res.Username, redirect: prev.redirect, loginID: prev.loginID, userAuth: prev.userAuth,
		expires: m.now().Add(challengeTTL),
	}
	if c.username == "" {
		c.username = prev.username
	}
	if c.Name == "MFA_SETUP" && slices.Equal(c.setupTypes(), []string{"SOFTWARE_TOKEN_MFA"}) {
		// Only an authenticator app can be set up: start it now, so the
		// page can show its secret.
		return m.associate(w, r, c)
	}
	return m.keep(w, c), nil
}

// flow is the authFlowType Amplify records for the sign-in c belongs to.
func (c *Challenge) flow() string {
	if c.userAuth {
		return "USER_AUTH"
	}
	return "USER_SRP_AUTH"
}

// keep seals c into the challenge cookie.
func (m *Manager) keep(w http.ResponseWriter, c *Challenge) *Challenge {
	m.auxCookie(w.Header(), challengeCookie, m.seal(c), int(challengeTTL/time.Second), "Strict")
	return c
}

// sealed is a Challenge as it is sealed into its cookie.
type sealed struct {
	N string            `json:"n"`
	P map[string]string `json:"p,omitempty"`
	S string            `json:"s"`
	U string            `json:"u"`
	R string            `json:"r"`
	L string            `json:"l"`
	A []string          `json:"a,omitempty"`
	T string            `json:"t,omitempty"`
	F bool              `json:"f,omitempty"`
	E int64             `json:"e"`
}

// seal encrypts c with AES-GCM; the client id is the associated data, so
// a cookie sealed for one app client does not open for another.
func (m *Manager) seal(c *Challenge) string {
	plain, _ := json.Marshal(sealed{N: c.Name, P: c.Parameters, S: c.session, U: c.username, R: c.redirect, L: c.loginID,
		A: c.Available, T: c.secret, F: c.userAuth, E: c.expires.Unix()})
	nonce := make([]byte, m.aead.NonceSize())
	rand.Read(nonce)
	return base64.RawURLEncoding.EncodeToString(m.aead.Seal(nonce, nonce, plain, []byte(m.cfg.ClientID)))
}

// PendingChallenge opens r's challenge cookie. A missing, expired or
// tampered cookie gives ErrChallengeExpired.
func (m *Manager) PendingChallenge(r *http.Request) (*Challenge, error) {
	raw, err := base64.RawURLEncoding.DecodeString(m.auxValue(r, challengeCookie))
	ns := m.aead.NonceSize()
	if err != nil || len(raw) < ns+m.aead.Overhead() {
		return nil, ErrChallengeExpired
	}
	plain, err := m.aead.Open(nil, raw[:ns], raw[ns:], []byte(m.cfg.ClientID))
	if err != nil {
		return nil, ErrChallengeExpired
	}
	var s sealed
	if json.Unmarshal(plain, &s) != nil || s.N == "" || s.S == "" {
		return nil, ErrChallengeExpired
	}
	c := &Challenge{Name: s.N, Parameters: s.P, Available: s.A, session: s.S, username: s.U, redirect: safePath(s.R),
		loginID: s.L, secret: s.T, userAuth: s.F, expires: time.Unix(s.E, 0)}
	if !m.now().Before(c.expires) {
		return nil, ErrChallengeExpired
	}
	if c.Parameters == nil {
		c.Parameters = map[string]string{}
	}
	return c, nil
}

// CSRFToken returns the CSRF token for the password and challenge forms
// (the value of their CSRFField field), setting its cookie (a host-only,
// HttpOnly, SameSite=Strict browser-session cookie holding a random
// value; the token is its HMAC under a key derived from
// Config.SecretKey) when there is none yet. Call it before writing the
// response.
func (m *Manager) CSRFToken(w http.ResponseWriter, r *http.Request) string {
	// The key is fixed at New, so Token cannot fail.
	token, _ := m.csrf.Token(w, r)
	return token
}

// newCSRF is the forms' CSRF protection: the auxiliary cookie's name and
// Secure flag, and the app's Origin as the only trusted one, like every
// other same-origin check of the Manager.
func (m *Manager) newCSRF(secret []byte) *csrf.Protector {
	var key []byte
	if len(secret) > 0 {
		sum := sha256.Sum256(append([]byte("cognate-session-csrf-v1\x00"), secret...))
		key = sum[:]
	}
	return csrf.New(csrf.Options{
		CookieName: m.auxName + csrfCookie, FieldName: CSRFField, Key: key,
		Secure:  func(*http.Request) bool { return m.pol.secure },
		Origins: []string{m.origin}, OriginsOnly: true,
	})
}

// newAEAD derives the challenge-sealing key.
func newAEAD(secret []byte) (cipher.AEAD, error) {
	key := make([]byte, 32)
	if len(secret) == 0 {
		rand.Read(key)
	} else {
		sum := sha256.Sum256(append([]byte("cognate-session-v1\x00"), secret...))
		key = sum[:]
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("session: %w", err)
	}
	return cipher.NewGCM(block)
}

// headersWritten reports whether w is (or wraps) the Middleware's writer
// and the response's headers went out.
func headersWritten(w http.ResponseWriter) bool {
	rw := findWriter(w, nil)
	return rw != nil && rw.wrote.Load()
}
