package oauth

import (
	"net/http"
	"strings"

	"github.com/cognate-auth/cognate/userpool"
)

func (h *Handler) signupView(r *http.Request, ar *authzRequest, username, name, email string) *view {
	v := startView(r, ar, "signup.title", "signup.heading")
	f := &form{Action: pageURL("/signup", ar), Submit: button{ID: "signup", Label: v.T("signup.submit")}}
	f.Fields = append(f.Fields, usernameField(v, ar.client, username))
	if !ar.client.EmailSignIn {
		f.Fields = append(f.Fields, &field{ID: "email", Type: "email", Label: v.T("field.email"), Autocomplete: "email", Value: email, MaxLength: 256})
	}
	f.Fields = append(f.Fields,
		&field{ID: "name", Type: "text", Label: v.T("field.name"), Optional: v.T("field.optional"), Autocomplete: "name", Value: name, MaxLength: 256},
		newPasswordField(v, ar.client, "field.password"))
	v.Form = f
	v.Links = []link{{Prefix: v.T("signup.have_account"), Label: v.T("signup.login"), URL: pageURL("/login", ar)}}
	return v
}

// signupGET shows the sign-up form, unless the pool only lets
// administrators create users.
func (h *Handler) signupGET(w http.ResponseWriter, r *http.Request) {
	ar, ok := h.pageRequest(w, r)
	if !ok {
		return
	}
	if !ar.client.SignUpAllowed {
		h.errorPage(w, r, http.StatusForbidden, "err.signup_disabled", "")
		return
	}
	h.render(w, r, http.StatusOK, h.signupView(r, ar, ar.LoginHint, "", ""), ar.redirect)
}

// signupPOST registers the user and goes on to confirm the code sent.
func (h *Handler) signupPOST(w http.ResponseWriter, r *http.Request) {
	ar, ok := h.pageRequest(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	pf := r.PostForm
	username, name, email := strings.TrimSpace(pf.Get("username")), strings.TrimSpace(pf.Get("name")), strings.TrimSpace(pf.Get("email"))
	v := h.signupView(r, ar, username, name, email)
	if !required(v, ar, r, "username", "email", "password") {
		h.render(w, r, http.StatusBadRequest, v, ar.redirect)
		return
	}
	if !h.allowGuess(r) {
		h.showProblem(w, r, v, ar, problem{key: "err.limit", status: http.StatusTooManyRequests})
		return
	}
	var attrs []userpool.AttributeType
	if name != "" {
		attrs = append(attrs, userpool.AttributeType{Name: "name", Value: name})
	}
	if !ar.client.EmailSignIn {
		attrs = append(attrs, userpool.AttributeType{Name: "email", Value: email})
	}
	hash, err := h.secretHash(ctx, ar.client, username)
	var out userpool.SignUpOutput
	if err == nil {
		out, err = h.svc.SignUp(ctx, userpool.SignUpInput{
			ClientId: ar.client.ClientID, SecretHash: hash, Username: username, Password: pf.Get("password"), UserAttributes: attrs,
		})
	}
	if err != nil {
		h.fail(w, r, v, ar, err, problem{key: "err.signup_disabled", status: http.StatusForbidden})
		return
	}
	h.count("/signup", "ok")
	switch {
	case out.UserConfirmed:
		redirect(w, pageURL("/login", ar, "username", username, "notice", "signed_up"))
	case out.CodeDeliveryDetails != nil:
		redirect(w, pageURL("/confirm", ar, "username", username))
	default:
		// Nothing was sent: an administrator confirms such accounts.
		redirect(w, pageURL("/login", ar, "username", username, "notice", "pending"))
	}
}

// codeSentTo says where the code went: to the address the user typed,
// when it is one.
func codeSentTo(v *view, username string) string {
	if strings.Contains(username, "@") {
		return v.T("code.sent_to", "destination", username)
	}
	return v.T("code.sent")
}

func codeField(v *view) *field {
	return &field{ID: "code", Type: "text", Label: v.T("field.code"), Autocomplete: "one-time-code", InputMode: "numeric", MaxLength: 16}
}

// withUsername carries a known username as a hidden field, or asks for it.
func withUsername(v *view, f *form, oc userpool.OAuthClient, username string) {
	if username != "" {
		f.Hidden = append(f.Hidden, hidden{Name: "username", Value: username})
		v.Subtitle = codeSentTo(v, username)
		return
	}
	f.Fields = append(f.Fields, usernameField(v, oc, ""))
	v.Subtitle = v.T("code.enter")
}

func (h *Handler) confirmView(r *http.Request, ar *authzRequest, username string) *view {
	v := startView(r, ar, "confirm.title", "confirm.heading")
	f := &form{
		Action: pageURL("/confirm", ar),
		Submit: button{ID: "confirm", Label: v.T("confirm.submit")},
		Extra:  &button{ID: "resend", Label: v.T("confirm.resend")},
	}
	withUsername(v, f, ar.client, username)
	f.Fields = append(f.Fields, codeField(v))
	v.Form = f
	v.Links = []link{{Label: v.T("back.login"), URL: pageURL("/login", ar)}}
	return v
}

func (h *Handler) confirmGET(w http.ResponseWriter, r *http.Request) {
	ar, ok := h.pageRequest(w, r)
	if !ok {
		return
	}
	v := h.confirmView(r, ar, single(r.URL.Query(), "username"))
	v.Notice = noticeFor(v, r)
	h.render(w, r, http.StatusOK, v, ar.redirect)
}

// confirmPOST confirms the account with its code (then the user signs
// in), or sends a new code.
func (h *Handler) confirmPOST(w http.ResponseWriter, r *http.Request) {
	ar, ok := h.pageRequest(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	username := strings.TrimSpace(r.PostForm.Get("username"))
	v := h.confirmView(r, ar, username)
	resend := r.PostForm.Get("action") == "resend"
	ids := []string{"username", "code"}
	if resend {
		ids = ids[:1]
	}
	if !required(v, ar, r, ids...) {
		h.render(w, r, http.StatusBadRequest, v, ar.redirect)
		return
	}
	if !h.allowGuess(r) {
		h.showProblem(w, r, v, ar, problem{key: "err.limit", status: http.StatusTooManyRequests})
		return
	}
	hash, err := h.secretHash(ctx, ar.client, username)
	if err == nil && resend {
		_, err = h.svc.ResendConfirmationCode(ctx, userpool.ResendConfirmationCodeInput{ClientId: ar.client.ClientID, SecretHash: hash, Username: username})
		if err == nil {
			v.Notice = v.T("notice.code_resent")
			h.render(w, r, http.StatusOK, v, ar.redirect)
			return
		}
	}
	if err == nil {
		_, err = h.svc.ConfirmSignUp(ctx, userpool.ConfirmSignUpInput{
			ClientId: ar.client.ClientID, SecretHash: hash, Username: username, ConfirmationCode: strings.TrimSpace(r.PostForm.Get("code")),
		})
	}
	if err != nil {
		h.fail(w, r, v, ar, err, problem{key: "err.code_mismatch", field: "code", status: http.StatusBadRequest})
		return
	}
	h.count("/confirm", "ok")
	redirect(w, pageURL("/login", ar, "username", username, "notice", "confirmed"))
}
