package oauth

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/cognate-auth/cognate/userpool"
)

// pageRequest checks the authorization request a page continues; when it
// is broken the response has been written.
func (h *Handler) pageRequest(w http.ResponseWriter, r *http.Request) (*authzRequest, bool) {
	ar, e := h.resolve(r.Context(), r.URL.Query())
	if e != nil {
		h.authzFail(w, r, &ar, e)
		return nil, false
	}
	return &ar, true
}

// pageURL links to another page of the same authorization request, with
// extra name/value pairs (empty values left out).
func pageURL(path string, ar *authzRequest, extra ...string) string {
	q := ar.query()
	for i := 0; i+1 < len(extra); i += 2 {
		if extra[i+1] != "" {
			q.Set(extra[i], extra[i+1])
		}
	}
	return path + "?" + q.Encode()
}

// startView is a page of ar's client: its name in the heading, its
// initial in the badge.
func startView(r *http.Request, ar *authzRequest, titleKey, headingKey string) *view {
	v := newView(r, titleKey)
	name := ar.client.Name
	if name == "" {
		name = ar.client.ClientID
	}
	v.Heading = v.T(headingKey, "client", name)
	if c, _ := utf8.DecodeRuneInString(name); c != utf8.RuneError {
		v.Mark = strings.ToUpper(string(c))
	}
	return v
}

func usernameField(v *view, oc userpool.OAuthClient, value string) *field {
	if oc.EmailSignIn {
		return &field{ID: "username", Type: "email", Label: v.T("field.email"), Autocomplete: "email", Value: value, MaxLength: 128}
	}
	return &field{ID: "username", Type: "text", Label: v.T("field.username"), Autocomplete: "username", Value: value, MaxLength: 128}
}

// newPasswordField is a password being chosen, with the pool's rules.
func newPasswordField(v *view, oc userpool.OAuthClient, labelKey string) *field {
	return &field{
		ID: "password", Type: "password", Label: v.T(labelKey), Autocomplete: "new-password", MaxLength: 256,
		Hint: v.T("policy.intro"), HintList: policyRules(v, oc.Policy),
	}
}

// required flags the listed fields left empty; it reports whether all
// were filled.
func required(v *view, ar *authzRequest, r *http.Request, ids ...string) bool {
	ok := true
	for _, id := range ids {
		f := v.Form.field(id)
		if f == nil || strings.TrimSpace(r.PostForm.Get(id)) != "" {
			continue
		}
		key := "err.required_" + id
		if id == "username" && ar.client.EmailSignIn {
			key = "err.required_email"
		}
		f.Error, ok = v.T(key), false
	}
	return ok
}

// secretHash is the SECRET_HASH a confidential client's calls need.
func (h *Handler) secretHash(ctx context.Context, oc userpool.OAuthClient, username string) (string, error) {
	secret, err := h.clientSecret(ctx, oc)
	if err != nil || secret == "" {
		return "", err
	}
	return userpool.SecretHash(secret, username, oc.ClientID), nil
}

func (h *Handler) loginView(r *http.Request, ar *authzRequest, username string) *view {
	v := startView(r, ar, "login.title", "login.heading")
	pw := &field{ID: "password", Type: "password", Label: v.T("field.password"), Autocomplete: "current-password", MaxLength: 256}
	pw.After = &link{Label: v.T("login.forgot"), URL: pageURL("/forgotPassword", ar, "username", username)}
	v.Form = &form{
		Action: pageURL("/login", ar),
		Fields: []*field{usernameField(v, ar.client, username), pw},
		Submit: button{ID: "signin", Label: v.T("login.submit")},
	}
	if h.svc.PasskeySignInAllowed(r.Context(), ar.client.ClientID) {
		v.Form.Extra = &button{ID: actionPasskey, Label: v.T("login.passkey")}
	}
	v.formOrigins = h.loginProviders(r.Context(), v, ar)
	if h.svc.CodeSignInAllowed(r.Context(), ar.client.ClientID) {
		v.Links = append(v.Links, link{Label: v.T("login.code"), URL: pageURL("/loginCode", ar)})
	}
	if ar.client.SignUpAllowed {
		v.Links = append(v.Links, link{Prefix: v.T("login.no_account"), Label: v.T("login.signup"), URL: pageURL("/signup", ar)})
	}
	return v
}

// loginGET shows the sign-in form, pre-filled from login_hint (or the
// username a previous step carried).
func (h *Handler) loginGET(w http.ResponseWriter, r *http.Request) {
	ar, ok := h.pageRequest(w, r)
	if !ok {
		return
	}
	username := single(r.URL.Query(), "username")
	if username == "" {
		username = ar.LoginHint
	}
	v := h.loginView(r, ar, username)
	v.Notice = noticeFor(v, r)
	h.render(w, r, http.StatusOK, v, ar.redirect)
}

// loginPOST checks the password. Success signs the browser in and
// finishes the authorization in the same response; an account that needs
// something first goes to the page that does it.
func (h *Handler) loginPOST(w http.ResponseWriter, r *http.Request) {
	ar, ok := h.pageRequest(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	username := strings.TrimSpace(r.PostForm.Get("username"))
	v := h.loginView(r, ar, username)
	if r.PostForm.Get("action") == actionPasskey && v.Form.Extra != nil {
		h.passkeyStart(w, r, ar, v, username)
		return
	}
	if !required(v, ar, r, "username", "password") {
		h.render(w, r, http.StatusBadRequest, v, ar.redirect)
		return
	}
	if !h.allowGuess(r) {
		h.showProblem(w, r, v, ar, problem{key: "err.limit", status: http.StatusTooManyRequests})
		return
	}
	res, err := h.svc.PasswordLogin(ctx, ar.client.ClientID, username, r.PostForm.Get("password"))
	switch {
	case err == nil && res.NewPasswordSession != "":
		h.count("/login", "new_password")
		h.render(w, r, http.StatusOK, h.newPasswordView(r, ar, res.NewPasswordSession), ar.redirect)
	case err == nil && res.Step != nil:
		h.count("/login", "mfa")
		h.render(w, r, http.StatusOK, h.mfaView(r, ar, res.Step, "", ""), ar.redirect)
	case err == nil:
		h.count("/login", "ok")
		h.signIn(w, r, ar, res.Username)
	case errors.Is(err, userpool.ErrUserNotConfirmed):
		h.sendCode(ctx, ar, username, false)
		h.count("/login", "not_confirmed")
		redirect(w, pageURL("/confirm", ar, "username", username, "notice", "not_confirmed"))
	case errors.Is(err, userpool.ErrPasswordResetRequired):
		h.sendCode(ctx, ar, username, true)
		h.count("/login", "reset_required")
		redirect(w, pageURL("/confirmForgotPassword", ar, "username", username, "notice", "reset_required"))
	default:
		key := "err.credentials_username"
		if ar.client.EmailSignIn {
			key = "err.credentials_email"
		}
		h.fail(w, r, v, ar, err, problem{key: key, field: "password", status: http.StatusBadRequest})
	}
}

// sendCode sends a fresh confirmation (or password-reset) code on the
// way to the page that asks for it. A failure is only logged: that page
// can send another.
func (h *Handler) sendCode(ctx context.Context, ar *authzRequest, username string, reset bool) {
	hash, err := h.secretHash(ctx, ar.client, username)
	if err == nil {
		if reset {
			_, err = h.svc.ForgotPassword(ctx, userpool.ForgotPasswordInput{ClientId: ar.client.ClientID, SecretHash: hash, Username: username})
		} else {
			_, err = h.svc.ResendConfirmationCode(ctx, userpool.ResendConfirmationCodeInput{ClientId: ar.client.ClientID, SecretHash: hash, Username: username})
		}
	}
	if err != nil {
		h.log.WarnContext(ctx, "send code on sign-in", "client", ar.client.ClientID, "reset", reset, "err", err)
	}
}

func (h *Handler) newPasswordView(r *http.Request, ar *authzRequest, session string) *view {
	v := startView(r, ar, "newpw.title", "newpw.heading")
	v.Subtitle = v.T("newpw.subtitle")
	v.Form = &form{
		Action: pageURL("/newPassword", ar),
		Hidden: []hidden{{Name: "session", Value: session}},
		Fields: []*field{newPasswordField(v, ar.client, "field.new_password")},
		Submit: button{ID: "set-password", Label: v.T("newpw.submit")},
	}
	v.Links = []link{{Label: v.T("back.login"), URL: pageURL("/login", ar)}}
	return v
}

// newPasswordGET has no session to continue (it only comes from a sign-in
// post): back to the login page.
func (h *Handler) newPasswordGET(w http.ResponseWriter, r *http.Request) {
	if ar, ok := h.pageRequest(w, r); ok {
		redirect(w, pageURL("/login", ar))
	}
}

// newPasswordPOST replaces an admin-set temporary password and signs in.
func (h *Handler) newPasswordPOST(w http.ResponseWriter, r *http.Request) {
	ar, ok := h.pageRequest(w, r)
	if !ok {
		return
	}
	session := r.PostForm.Get("session")
	v := h.newPasswordView(r, ar, session)
	if !required(v, ar, r, "password") {
		h.render(w, r, http.StatusBadRequest, v, ar.redirect)
		return
	}
	res, err := h.svc.CompleteNewPassword(r.Context(), ar.client.ClientID, session, r.PostForm.Get("password"))
	switch {
	case err == nil && res.Step != nil:
		h.count("/newPassword", "mfa")
		h.render(w, r, http.StatusOK, h.mfaView(r, ar, res.Step, "", ""), ar.redirect)
		return
	case err == nil:
		h.count("/newPassword", "ok")
		h.signIn(w, r, ar, res.Username)
		return
	}
	var e *userpool.Error
	if errors.As(err, &e) && !e.Internal && e.Type != userpool.ErrInvalidPassword.Type && e.Type != userpool.ErrInvalidParameter.Type {
		// The session is spent or expired: only a new sign-in helps.
		v = h.loginView(r, ar, "")
		h.showProblem(w, r, v, ar, problem{key: "err.session_expired", status: http.StatusBadRequest})
		return
	}
	h.fail(w, r, v, ar, err, problem{key: "err.session_expired", status: http.StatusBadRequest})
}
