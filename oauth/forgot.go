package oauth

import (
	"net/http"
	"strings"

	"github.com/cognate-auth/cognate/userpool"
)

func (h *Handler) forgotView(r *http.Request, ar *authzRequest, username string) *view {
	v := startView(r, ar, "forgot.title", "forgot.heading")
	v.Subtitle = v.T("forgot.subtitle")
	v.Form = &form{
		Action: pageURL("/forgotPassword", ar),
		Fields: []*field{usernameField(v, ar.client, username)},
		Submit: button{ID: "send-code", Label: v.T("forgot.submit")},
	}
	v.Links = []link{{Label: v.T("back.login"), URL: pageURL("/login", ar)}}
	return v
}

func (h *Handler) forgotGET(w http.ResponseWriter, r *http.Request) {
	ar, ok := h.pageRequest(w, r)
	if !ok {
		return
	}
	username := single(r.URL.Query(), "username")
	if username == "" {
		username = ar.LoginHint
	}
	h.render(w, r, http.StatusOK, h.forgotView(r, ar, username), ar.redirect)
}

// forgotPOST sends a reset code. Whether the account exists is not
// revealed (the domain answers alike for unknown users), so the next
// page says where a code went only as far as the user told us.
func (h *Handler) forgotPOST(w http.ResponseWriter, r *http.Request) {
	ar, ok := h.pageRequest(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	username := strings.TrimSpace(r.PostForm.Get("username"))
	v := h.forgotView(r, ar, username)
	if !required(v, ar, r, "username") {
		h.render(w, r, http.StatusBadRequest, v, ar.redirect)
		return
	}
	if !h.allowGuess(r) {
		h.showProblem(w, r, v, ar, problem{key: "err.limit", status: http.StatusTooManyRequests})
		return
	}
	hash, err := h.secretHash(ctx, ar.client, username)
	if err == nil {
		_, err = h.svc.ForgotPassword(ctx, userpool.ForgotPasswordInput{ClientId: ar.client.ClientID, SecretHash: hash, Username: username})
	}
	if err != nil {
		h.fail(w, r, v, ar, err, problem{key: "err.user_not_found", field: "username", status: http.StatusBadRequest})
		return
	}
	h.count("/forgotPassword", "ok")
	redirect(w, pageURL("/confirmForgotPassword", ar, "username", username))
}

func (h *Handler) resetView(r *http.Request, ar *authzRequest, username string) *view {
	v := startView(r, ar, "reset.title", "reset.heading")
	f := &form{Action: pageURL("/confirmForgotPassword", ar), Submit: button{ID: "reset", Label: v.T("reset.submit")}}
	withUsername(v, f, ar.client, username)
	f.Fields = append(f.Fields, codeField(v), newPasswordField(v, ar.client, "field.new_password"))
	v.Form = f
	v.Links = []link{
		{Prefix: v.T("reset.no_code"), Label: v.T("reset.send_again"), URL: pageURL("/forgotPassword", ar, "username", username)},
		{Label: v.T("back.login"), URL: pageURL("/login", ar)},
	}
	return v
}

func (h *Handler) resetGET(w http.ResponseWriter, r *http.Request) {
	ar, ok := h.pageRequest(w, r)
	if !ok {
		return
	}
	v := h.resetView(r, ar, single(r.URL.Query(), "username"))
	v.Notice = noticeFor(v, r)
	h.render(w, r, http.StatusOK, v, ar.redirect)
}

// resetPOST sets the new password with the code; the user then signs in
// with it.
func (h *Handler) resetPOST(w http.ResponseWriter, r *http.Request) {
	ar, ok := h.pageRequest(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	username := strings.TrimSpace(r.PostForm.Get("username"))
	v := h.resetView(r, ar, username)
	if !required(v, ar, r, "username", "code", "password") {
		h.render(w, r, http.StatusBadRequest, v, ar.redirect)
		return
	}
	if !h.allowGuess(r) {
		h.showProblem(w, r, v, ar, problem{key: "err.limit", status: http.StatusTooManyRequests})
		return
	}
	hash, err := h.secretHash(ctx, ar.client, username)
	if err == nil {
		_, err = h.svc.ConfirmForgotPassword(ctx, userpool.ConfirmForgotPasswordInput{
			ClientId: ar.client.ClientID, SecretHash: hash, Username: username,
			ConfirmationCode: strings.TrimSpace(r.PostForm.Get("code")), Password: r.PostForm.Get("password"),
		})
	}
	if err != nil {
		h.fail(w, r, v, ar, err, problem{key: "err.code_mismatch", field: "code", status: http.StatusBadRequest})
		return
	}
	h.count("/confirmForgotPassword", "ok")
	redirect(w, pageURL("/login", ar, "username", username, "notice", "reset"))
}
