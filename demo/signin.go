package demo

import (
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"strings"

	"github.com/cognate-auth/cognate/internal/qr"
	"github.com/cognate-auth/cognate/session"
)

// maxCredential bounds usernames, passwords and answers (Cognito allows
// 256 characters for a password, 128 for a username).
const maxCredential = 256

type signInData struct {
	CSRF, Redirect, Username, Error string
	HostedSignIn                    string
}

// signIn serves the password sign-in page (GET) and its form (POST): the
// server proves the password to the user pool with SRP and sets the
// session cookies, with no hosted page involved.
func (a *app) signIn(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		redirect := safeRedirect(r.URL.Query().Get("redirect"))
		if session.FromContext(r.Context()) != nil {
			http.Redirect(w, r, redirect, http.StatusSeeOther)
			return
		}
		a.renderSignIn(w, r, http.StatusOK, signInData{Redirect: redirect})
	case http.MethodPost:
		a.signInPost(w, r)
	default:
		w.Header().Set("Allow", "GET, HEAD, POST")
		a.renderError(w, r, http.StatusMethodNotAllowed)
	}
}

func (a *app) signInPost(w http.ResponseWriter, r *http.Request) {
	status, msg := a.readForm(w, r)
	d := signInData{
		Redirect: safeRedirect(r.PostFormValue("redirect")),
		Username: strings.TrimSpace(r.PostFormValue("username")),
	}
	password := r.PostFormValue("password")
	switch {
	case status != 0:
		d.Error = msg
	case d.Username == "" || password == "":
		status, d.Error = http.StatusBadRequest, "Enter your email and password."
	case len(d.Username) > maxCredential || len(password) > maxCredential:
		status, d.Error = http.StatusUnauthorized, "Incorrect email or password."
	}
	if status != 0 {
		a.renderSignIn(w, r, status, d)
		return
	}
	ch, err := a.s.SignInWithPassword(w, r, d.Username, password)
	switch {
	case err != nil:
		status, d.Error = a.authFailure(r, err)
		a.renderSignIn(w, r, status, d)
	case ch != nil:
		a.toChallenge(w, r, ch, d)
	default:
		http.Redirect(w, r, d.Redirect, http.StatusSeeOther)
	}
}

func (a *app) renderSignIn(w http.ResponseWriter, r *http.Request, status int, d signInData) {
	d.CSRF = a.csrfToken(w, r)
	d.HostedSignIn = a.s.SignInURL(d.Redirect)
	if len(d.Username) > maxCredential {
		d.Username = ""
	}
	a.render(w, r, status, "signin", &view{
		Title: "Sign in", Eyebrow: "Server-side password sign-in",
		Lede: "An alternative to the hosted page: this form posts to the Go server, which signs you in against the user pool.",
		Data: d,
	})
}

// toChallenge sends the browser to answer the pool's next step (the
// session library keeps it in a sealed cookie), or explains why this
// page cannot.
func (a *app) toChallenge(w http.ResponseWriter, r *http.Request, ch *session.Challenge, d signInData) {
	if len(ch.Fields()) == 0 {
		d.Error = "This account needs a sign-in step (" + ch.Name + ") this page does not support. Use the hosted sign-in page."
		a.renderSignIn(w, r, http.StatusNotImplemented, d)
		return
	}
	http.Redirect(w, r, signInPath+"/challenge?redirect="+url.QueryEscape(d.Redirect), http.StatusSeeOther)
}

type challengeData struct {
	CSRF, Redirect, Error, Name, Kind, CodeLabel string
	Attributes                                   []attrField
	// Options are the choices of a "choice" step; Password says the
	// password is one of them (SELECT_CHALLENGE).
	Options  []option
	Password bool
	// QR and Secret show an authenticator app's setup ("totp-setup").
	QR     template.HTML
	Secret string
}

type option struct{ Value, Label string }

type attrField struct{ Name, Label, Value string }

// codeLabels name the code each challenge asks for.
var codeLabels = map[string]string{
	"SMS_MFA":            "Code from the text message",
	"SMS_OTP":            "Code from the text message",
	"SOFTWARE_TOKEN_MFA": "Code from your authenticator app",
	"EMAIL_OTP":          "Code from the email we sent",
	"CUSTOM_CHALLENGE":   "Answer",
}

// challenge serves the challenge page (GET) and takes its answer (POST).
func (a *app) challenge(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		ch, err := a.s.PendingChallenge(r)
		if err != nil || len(ch.Fields()) == 0 {
			http.Redirect(w, r, signInPath, http.StatusSeeOther)
			return
		}
		a.renderChallenge(w, r, http.StatusOK, ch, safeRedirect(r.URL.Query().Get("redirect")), "")
	case http.MethodPost:
		a.challengePost(w, r)
	default:
		w.Header().Set("Allow", "GET, HEAD, POST")
		a.renderError(w, r, http.StatusMethodNotAllowed)
	}
}

func (a *app) challengePost(w http.ResponseWriter, r *http.Request) {
	status, msg := a.readForm(w, r)
	redirect := safeRedirect(r.PostFormValue("redirect"))
	ch, err := a.s.PendingChallenge(r)
	if err != nil || len(ch.Fields()) == 0 {
		a.renderSignIn(w, r, http.StatusBadRequest, signInData{Redirect: redirect, Error: "Your sign-in has expired. Please sign in again."})
		return
	}
	if status != 0 {
		a.renderChallenge(w, r, status, ch, redirect, msg)
		return
	}
	responses, msg := challengeResponses(ch, r)
	if msg != "" {
		a.renderChallenge(w, r, http.StatusBadRequest, ch, redirect, msg)
		return
	}
	next, err := a.s.RespondToChallenge(w, r, ch, responses)
	switch {
	case err != nil && restart(err):
		a.renderSignIn(w, r, http.StatusBadRequest, signInData{Redirect: redirect, Error: "Your sign-in has expired. Please sign in again."})
	case err != nil:
		status, msg := a.authFailure(r, err)
		a.renderChallenge(w, r, status, ch, redirect, msg)
	case next != nil:
		a.toChallenge(w, r, next, signInData{Redirect: redirect})
	default:
		http.Redirect(w, r, redirect, http.StatusSeeOther)
	}
}

// restart reports whether a challenge answer failed because the pool's
// sign-in session is gone, so the user must start over.
func restart(err error) bool {
	var ae *session.AuthError
	return errors.Is(err, session.ErrChallengeExpired) ||
		errors.As(err, &ae) && (ae.Code == "ChallengeExpired" || ae.Code == "NotAuthorizedException")
}

// challengeResponses builds RespondToChallenge's map from the form (the
// fields the challenge names), or says what is wrong with it.
func challengeResponses(ch *session.Challenge, r *http.Request) (map[string]string, string) {
	out := make(map[string]string)
	for _, f := range ch.Fields() {
		switch {
		case f == "NEW_PASSWORD":
			pw := r.PostFormValue("new_password")
			switch {
			case pw == "":
				return nil, "Choose a new password."
			case len(pw) > maxCredential:
				return nil, "That password is too long."
			case pw != r.PostFormValue("confirm_password"):
				return nil, "The passwords do not match."
			}
			out[f] = pw
		case strings.HasPrefix(f, "userAttributes."):
			v := strings.TrimSpace(r.PostFormValue("attr." + strings.TrimPrefix(f, "userAttributes.")))
			if v == "" || len(v) > 2048 {
				return nil, "Fill in every field."
			}
			out[f] = v
		case f == "ANSWER" && len(ch.Options()) > 0:
			out[f] = r.PostFormValue("answer")
		case f == "PASSWORD":
			if pw := r.PostFormValue("password"); pw != "" && len(pw) <= maxCredential {
				out[f] = pw
			} else if out["ANSWER"] == "PASSWORD" {
				return nil, "Enter your password."
			}
		case f == "EMAIL":
			v := strings.TrimSpace(r.PostFormValue("email"))
			if v == "" || len(v) > 2048 {
				return nil, "Enter your email address."
			}
			out[f] = v
		default: // <NAME>_CODE or ANSWER
			v := strings.TrimSpace(r.PostFormValue("code"))
			if v == "" || len(v) > maxCredential {
				return nil, "Enter the code."
			}
			out[f] = v
		}
	}
	return out, ""
}

func (a *app) renderChallenge(w http.ResponseWriter, r *http.Request, status int, ch *session.Challenge, redirect, msg string) {
	d := challengeData{CSRF: a.csrfToken(w, r), Redirect: redirect, Error: msg, Name: ch.Name, Kind: "code", CodeLabel: codeLabels[ch.Name]}
	title, lede := "Verify it's you", "Enter the code to finish signing in."
	if d.CodeLabel == "" {
		d.CodeLabel = "Code"
	}
	switch {
	case len(ch.Options()) > 0:
		d.Kind = "choice"
		title, lede = "Verify it's you", "Choose how to continue."
		if ch.Name == "MFA_SETUP" {
			title, lede = "Set up a second step", "This account needs a second step at sign-in. Choose one to set up."
		}
		for _, o := range ch.Options() {
			d.Options = append(d.Options, option{Value: o, Label: optionLabels[o]})
			d.Password = d.Password || o == "PASSWORD"
		}
	case ch.TOTPSecret() != "":
		d.Kind, d.Secret = "totp-setup", ch.TOTPSecret()
		title, lede = "Set up your authenticator app", "Scan the code with an authenticator app, then enter the code it shows."
		d.QR, _ = qr.SVG(ch.TOTPSetupURI("Cognate demo"), "QR code to scan with an authenticator app")
	case ch.Name == "MFA_SETUP":
		d.Kind = "email-setup"
		title, lede = "Set up email codes", "Enter the email address to send sign-in codes to."
	case ch.Name == "NEW_PASSWORD_REQUIRED":
		d.Kind = "new-password"
		title, lede = "Choose a new password", "Your account was created with a temporary password."
		for _, f := range ch.Fields() {
			name, ok := strings.CutPrefix(f, "userAttributes.")
			if !ok {
				continue
			}
			v := ""
			if r.Method == http.MethodPost {
				v = r.PostFormValue("attr." + name)
			}
			d.Attributes = append(d.Attributes, attrField{Name: name, Label: attrLabel(name), Value: v})
		}
	}
	a.render(w, r, status, "challenge", &view{Title: title, Eyebrow: "Sign in", Lede: lede, Data: d})
}

// optionLabels name the choices of SELECT_MFA_TYPE, SELECT_CHALLENGE and
// MFA_SETUP.
var optionLabels = map[string]string{
	"SOFTWARE_TOKEN_MFA": "Authenticator app", "SMS_MFA": "Text message", "EMAIL_OTP": "Email a code",
	"SMS_OTP": "Text me a code", "PASSWORD": "Password",
}

// attrLabel turns an attribute name (given_name, custom:team) into a label.
func attrLabel(name string) string {
	name = strings.ReplaceAll(strings.TrimPrefix(name, "custom:"), "_", " ")
	if name == "" {
		return "Value"
	}
	return strings.ToUpper(name[:1]) + name[1:]
}

// authFailure maps a sign-in failure (a *session.AuthError) to a status
// and a message for the form. Unknown accounts read like wrong passwords.
func (a *app) authFailure(r *http.Request, err error) (int, string) {
	var ae *session.AuthError
	if !errors.As(err, &ae) {
		a.log.ErrorContext(r.Context(), "demo: sign-in", "err", err)
		return http.StatusBadGateway, "Sign-in failed. Try again, or use the hosted sign-in page."
	}
	switch ae.Code {
	case "NotAuthorizedException", "UserNotFoundException":
		return http.StatusUnauthorized, "Incorrect email or password."
	case "UserNotConfirmedException":
		return http.StatusForbidden, "This account is not confirmed yet. Finish signing up on the hosted page."
	case "PasswordResetRequiredException":
		return http.StatusForbidden, "This account needs a password reset. Use “Forgot your password?” on the hosted sign-in page."
	case "CodeMismatchException":
		return http.StatusBadRequest, "That code is not right. Try again."
	case "ExpiredCodeException":
		return http.StatusBadRequest, "That code has expired."
	case "ChallengeExpired":
		return http.StatusBadRequest, "Your sign-in has expired. Please sign in again."
	case "TooManyRequestsException", "LimitExceededException", "TooManyFailedAttemptsException":
		return http.StatusTooManyRequests, "Too many attempts. Wait a minute and try again."
	case "ServiceUnavailable":
		a.log.WarnContext(r.Context(), "demo: sign-in: issuer unavailable", "err", err)
		return http.StatusServiceUnavailable, "The sign-in service is unavailable right now. Try again shortly."
	case "NotSupported":
		return http.StatusNotImplemented, "Password sign-in is not available here. Use the hosted sign-in page."
	}
	a.log.InfoContext(r.Context(), "demo: sign-in refused", "code", ae.Code, "message", ae.Message)
	if ae.Message == "" {
		return http.StatusBadRequest, "Sign-in failed (" + ae.Code + ")."
	}
	return http.StatusBadRequest, ae.Message
}
