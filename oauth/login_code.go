package oauth

// /loginCode: choice-based sign-in on the managed pages, for pools whose
// sign-in policy has a one-time code (EMAIL_OTP, SMS_OTP): the username
// alone, then /mfa's SELECT_CHALLENGE step (a code by email or text, or
// the password) and the code.
//
//	/loginCode   username; submit #send-code

import (
	"net/http"
	"strings"
)

func (h *Handler) loginCodeView(r *http.Request, ar *authzRequest, username string) *view {
	v := startView(r, ar, "codelogin.title", "codelogin.heading")
	v.Subtitle = v.T("codelogin.subtitle")
	v.Form = &form{
		Action: pageURL("/loginCode", ar),
		Fields: []*field{usernameField(v, ar.client, username)},
		Submit: button{ID: "send-code", Label: v.T("codelogin.submit")},
	}
	v.Links = []link{{Label: v.T("back.login"), URL: pageURL("/login", ar)}}
	return v
}

func (h *Handler) loginCodeGET(w http.ResponseWriter, r *http.Request) {
	ar, ok := h.pageRequest(w, r)
	if !ok {
		return
	}
	if !h.svc.CodeSignInAllowed(r.Context(), ar.client.ClientID) {
		redirect(w, pageURL("/login", ar))
		return
	}
	h.render(w, r, http.StatusOK, h.loginCodeView(r, ar, single(r.URL.Query(), "username")), ar.redirect)
}

// loginCodePOST starts the sign-in and shows its first step.
func (h *Handler) loginCodePOST(w http.ResponseWriter, r *http.Request) {
	ar, ok := h.pageRequest(w, r)
	if !ok {
		return
	}
	username := strings.TrimSpace(r.PostForm.Get("username"))
	v := h.loginCodeView(r, ar, username)
	if !required(v, ar, r, "username") {
		h.render(w, r, http.StatusBadRequest, v, ar.redirect)
		return
	}
	if !h.allowGuess(r) {
		h.showProblem(w, r, v, ar, problem{key: "err.limit", status: http.StatusTooManyRequests})
		return
	}
	res, err := h.svc.LoginChoose(r.Context(), ar.client.ClientID, username)
	if err != nil {
		h.fail(w, r, v, ar, err, problem{key: "err.generic", status: http.StatusBadRequest})
		return
	}
	h.count("/loginCode", "ok")
	h.render(w, r, http.StatusOK, h.mfaView(r, ar, res.Step, "", ""), ar.redirect)
}
