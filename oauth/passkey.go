package oauth

// /passkey: signing in with a passkey on the managed pages. The login
// form's passkey button (a second submit, so the typed username comes
// along) starts the step; this page holds the request options, and its
// script (assets/passkey.js: the pages' CSP allows no inline script)
// runs navigator.credentials.get and posts the assertion here.
//
//	/passkey   credential (the assertion's JSON, filled by the script);
//	           submit #passkey-continue; session hidden

import (
	"net/http"

	"github.com/cognate-auth/cognate/userpool"
)

// actionPasskey is the login form's passkey button.
const actionPasskey = "passkey"

// passkeyView is the page that runs the ceremony of step.
func (h *Handler) passkeyView(r *http.Request, ar *authzRequest, step *userpool.LoginStep) *view {
	v := startView(r, ar, "passkey.title", "passkey.heading")
	v.Subtitle = v.T("passkey.subtitle")
	v.PasskeyOptions = step.Parameters["CREDENTIAL_REQUEST_OPTIONS"]
	v.Form = &form{
		Action: pageURL("/passkey", ar),
		Hidden: []hidden{{Name: "session", Value: step.Session}, {Name: "credential"}},
		Submit: button{ID: "passkey-continue", Label: v.T("passkey.submit")},
	}
	v.Links = []link{{Label: v.T("back.login"), URL: pageURL("/login", ar)}}
	return v
}

// passkeyStart answers the login form's passkey button: the ceremony's
// page for the typed username (v is the login page, for its errors).
func (h *Handler) passkeyStart(w http.ResponseWriter, r *http.Request, ar *authzRequest, v *view, username string) {
	if !required(v, ar, r, "username") {
		h.render(w, r, http.StatusBadRequest, v, ar.redirect)
		return
	}
	step, err := h.svc.PasskeyLogin(r.Context(), ar.client.ClientID, username)
	if err != nil {
		h.passkeyFail(w, r, v, ar, err)
		return
	}
	h.count("/login", "passkey")
	h.render(w, r, http.StatusOK, h.passkeyView(r, ar, step), ar.redirect)
}

// passkeyGET has no step to continue: back to the login page.
func (h *Handler) passkeyGET(w http.ResponseWriter, r *http.Request) {
	if ar, ok := h.pageRequest(w, r); ok {
		redirect(w, pageURL("/login", ar))
	}
}

// passkeyPOST verifies the assertion (as the API's WEB_AUTHN step: one
// use of the challenge, an increasing sign count) and signs in.
func (h *Handler) passkeyPOST(w http.ResponseWriter, r *http.Request) {
	ar, ok := h.pageRequest(w, r)
	if !ok {
		return
	}
	res, err := h.svc.LoginRespond(r.Context(), ar.client.ClientID, "WEB_AUTHN", r.PostForm.Get("session"),
		map[string]string{"CREDENTIAL": r.PostForm.Get("credential")})
	if err != nil {
		h.passkeyFail(w, r, h.loginView(r, ar, ""), ar, err)
		return
	}
	h.count("/passkey", "ok")
	h.signIn(w, r, ar, res.Username)
}

// passkeyFail shows one message for every refusal (no passkey, a wrong
// or replayed assertion, a cancelled ceremony): which check failed is
// logged by userpool, not told.
func (h *Handler) passkeyFail(w http.ResponseWriter, r *http.Request, v *view, ar *authzRequest, err error) {
	if isInternal(err) {
		h.internalError(w, r, "hosted page "+r.URL.Path, err)
		return
	}
	h.count(r.URL.Path, "err.passkey")
	h.showProblem(w, r, v, ar, problem{key: "err.passkey", status: http.StatusBadRequest})
}
