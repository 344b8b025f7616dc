package oauth

// /mfa: the MFA step of a sign-in on the managed pages (the code of an
// authenticator app, a text or an email; the choice between factors;
// setting one up, with the app's QR code drawn on the server).
//
//	/mfa   code (or answer, or email); submit #verify; challenge and
//	       session hidden

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/cognate-auth/cognate/internal/qr"
	"github.com/cognate-auth/cognate/userpool"
)

// Challenges the page answers, and the answer each takes.
const (
	challengeTOTP   = "SOFTWARE_TOKEN_MFA"
	challengeSMS    = "SMS_MFA"
	challengeEmail  = "EMAIL_OTP"
	challengeSelect = "SELECT_MFA_TYPE"
	// challengeFirst is choice-based sign-in's choice of first factor
	// (/loginCode); challengeSMSCode its code by text.
	challengeFirst   = "SELECT_CHALLENGE"
	challengeSMSCode = "SMS_OTP"
	challengeSetup   = "MFA_SETUP"
	// setupTOTP and setupEmail mark the second half of an MFA_SETUP
	// step: the app's first code, or the address for codes.
	setupTOTP  = "totp"
	setupEmail = "email"
)

// mfaView is the page of step; setup is "", setupTOTP (with the app's
// secret) or setupEmail.
func (h *Handler) mfaView(r *http.Request, ar *authzRequest, step *userpool.LoginStep, setup, secret string) *view {
	v := startView(r, ar, "mfa.title", "mfa.heading")
	f := &form{
		Action: pageURL("/mfa", ar),
		Hidden: []hidden{{Name: "challenge", Value: step.Challenge}, {Name: "session", Value: step.Session},
			{Name: "account", Value: step.Parameters["USER_ID_FOR_SRP"]}},
		Submit: button{ID: "verify", Label: v.T("mfa.submit")},
	}
	dest := step.Parameters["CODE_DELIVERY_DESTINATION"]
	switch {
	case step.Challenge == challengeTOTP:
		v.Subtitle = v.T("mfa.totp")
		f.Fields = []*field{codeField(v)}
	case step.Challenge == challengeSMS || step.Challenge == challengeSMSCode:
		v.Subtitle = v.T("mfa.sms", "destination", dest)
		f.Fields = []*field{codeField(v)}
	case step.Challenge == challengeFirst:
		v.Heading, v.Subtitle = v.T("codelogin.heading"), v.T("codelogin.choose")
		choices := step.Parameters["AvailableChallenges"]
		f.Hidden = append(f.Hidden, hidden{Name: "choices", Value: choices})
		f.Fields = []*field{choiceField(v, "mfa.choose_first", jsonList(choices))}
		if strings.Contains(choices, `"PASSWORD"`) {
			f.Fields = append(f.Fields, &field{ID: "password", Type: "password", Label: v.T("field.password"),
				Optional: v.T("codelogin.password_optional"), Autocomplete: "current-password", MaxLength: 256})
		}
		f.Submit.Label = v.T("mfa.continue")
	case step.Challenge == challengeEmail:
		v.Subtitle = v.T("mfa.email", "destination", dest)
		f.Fields = []*field{codeField(v)}
	case step.Challenge == challengeSelect:
		v.Subtitle = v.T("mfa.select")
		f.Fields = []*field{choiceField(v, "mfa.choose", jsonList(step.Parameters["MFAS_CAN_CHOOSE"]))}
		f.Submit.Label = v.T("mfa.continue")
	case setup == setupTOTP:
		v.Heading, v.Subtitle = v.T("mfa.setup.heading"), v.T("mfa.setup.totp")
		v.QR, _ = qr.SVG(qr.TOTPURI(ar.client.Name, step.Parameters["USER_ID_FOR_SRP"], secret), v.T("mfa.setup.totp"))
		v.Secret = secret
		f.Hidden = append(f.Hidden, hidden{Name: "setup", Value: setupTOTP}, hidden{Name: "secret", Value: secret})
		f.Fields = []*field{codeField(v)}
	case setup == setupEmail:
		v.Heading, v.Subtitle = v.T("mfa.setup.heading"), v.T("mfa.setup.email")
		f.Hidden = append(f.Hidden, hidden{Name: "setup", Value: setupEmail})
		f.Fields = []*field{{ID: "email", Type: "email", Label: v.T("field.email"), Autocomplete: "email", MaxLength: 2048}}
		f.Submit.Label = v.T("mfa.setup.send")
	default: // MFA_SETUP: which factor to set up
		v.Heading, v.Subtitle = v.T("mfa.setup.heading"), v.T("mfa.setup.choose")
		f.Fields = []*field{choiceField(v, "mfa.choose", jsonList(step.Parameters["MFAS_CAN_SETUP"]))}
		f.Submit.Label = v.T("mfa.continue")
	}
	f.Fields[0].Autofocus = true
	v.Form = f
	v.Links = []link{{Label: v.T("back.login"), URL: pageURL("/login", ar)}}
	return v
}

func choiceField(v *view, labelKey string, values []string) *field {
	f := &field{ID: "answer", Label: v.T(labelKey)}
	for _, c := range values {
		f.Choices = append(f.Choices, choice{Value: c, Label: v.T("mfa.option." + c)})
	}
	return f
}

func jsonList(s string) []string {
	var out []string
	_ = json.Unmarshal([]byte(s), &out)
	return out
}

// mfaGET has no step to continue (it only comes from a sign-in post):
// back to the login page.
func (h *Handler) mfaGET(w http.ResponseWriter, r *http.Request) {
	if ar, ok := h.pageRequest(w, r); ok {
		redirect(w, pageURL("/login", ar))
	}
}

// mfaPOST answers the step and signs in, or shows the next step.
func (h *Handler) mfaPOST(w http.ResponseWriter, r *http.Request) {
	ar, ok := h.pageRequest(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	step := &userpool.LoginStep{Challenge: r.PostForm.Get("challenge"), Session: r.PostForm.Get("session"),
		Parameters: map[string]string{"USER_ID_FOR_SRP": r.PostForm.Get("account"), "AvailableChallenges": r.PostForm.Get("choices")}}
	setup, secret := r.PostForm.Get("setup"), r.PostForm.Get("secret")
	v := h.mfaView(r, ar, step, setup, secret)
	answer := strings.TrimSpace(r.PostForm.Get("answer"))
	var res userpool.LoginResult
	var err error
	switch {
	case step.Challenge == challengeSetup && setup == "" && answer == challengeTOTP:
		var out userpool.AssociateSoftwareTokenOutput
		out, err = h.svc.AssociateSoftwareToken(ctx, userpool.AssociateSoftwareTokenInput{Session: step.Session})
		if err == nil {
			step.Session = out.Session
			h.render(w, r, http.StatusOK, h.mfaView(r, ar, step, setupTOTP, out.SecretCode), ar.redirect)
			return
		}
	case step.Challenge == challengeSetup && setup == "" && answer == challengeEmail:
		h.render(w, r, http.StatusOK, h.mfaView(r, ar, step, setupEmail, ""), ar.redirect)
		return
	case step.Challenge == challengeSetup && setup == setupTOTP:
		if !required(v, ar, r, "code") {
			h.render(w, r, http.StatusBadRequest, v, ar.redirect)
			return
		}
		var out userpool.VerifySoftwareTokenOutput
		out, err = h.svc.VerifySoftwareToken(ctx, userpool.VerifySoftwareTokenInput{Session: step.Session, UserCode: strings.TrimSpace(r.PostForm.Get("code"))})
		if err == nil {
			res, err = h.svc.LoginRespond(ctx, ar.client.ClientID, challengeSetup, out.Session, nil)
		}
	case step.Challenge == challengeSetup && setup == setupEmail:
		if !required(v, ar, r, "email") {
			h.render(w, r, http.StatusBadRequest, v, ar.redirect)
			return
		}
		res, err = h.svc.LoginRespond(ctx, ar.client.ClientID, challengeSetup, step.Session, map[string]string{"EMAIL": strings.TrimSpace(r.PostForm.Get("email"))})
	case step.Challenge == challengeFirst:
		responses := map[string]string{"ANSWER": answer}
		if answer == "PASSWORD" {
			if !required(v, ar, r, "password") {
				h.render(w, r, http.StatusBadRequest, v, ar.redirect)
				return
			}
			responses["PASSWORD"] = r.PostForm.Get("password")
		}
		res, err = h.svc.LoginRespond(ctx, ar.client.ClientID, step.Challenge, step.Session, responses)
	case step.Challenge == challengeSelect || step.Challenge == challengeSetup:
		res, err = h.svc.LoginRespond(ctx, ar.client.ClientID, step.Challenge, step.Session, map[string]string{"ANSWER": answer})
	default:
		if !required(v, ar, r, "code") {
			h.render(w, r, http.StatusBadRequest, v, ar.redirect)
			return
		}
		res, err = h.svc.LoginRespond(ctx, ar.client.ClientID, step.Challenge, step.Session, map[string]string{
			step.Challenge + "_CODE": strings.TrimSpace(r.PostForm.Get("code")),
		})
	}
	switch {
	case err == nil && res.NewPasswordSession != "":
		h.count("/mfa", "new_password")
		h.render(w, r, http.StatusOK, h.newPasswordView(r, ar, res.NewPasswordSession), ar.redirect)
	case err == nil && res.Step != nil:
		h.count("/mfa", "next")
		h.render(w, r, http.StatusOK, h.mfaView(r, ar, res.Step, "", ""), ar.redirect)
	case err == nil:
		h.count("/mfa", "ok")
		h.signIn(w, r, ar, res.Username)
	case step.Challenge == challengeFirst && answer == "PASSWORD" && isType(err, userpool.ErrNotAuthorized):
		key := "err.credentials_username"
		if ar.client.EmailSignIn {
			key = "err.credentials_email"
		}
		h.fail(w, r, v, ar, err, problem{key: key, field: "password", status: http.StatusBadRequest})
	case isType(err, userpool.ErrNotAuthorized):
		// The Session is spent (expired, answered, or too many wrong
		// codes): only a new sign-in helps.
		h.fail(w, r, h.loginView(r, ar, ""), ar, err, problem{key: "err.session_expired", status: http.StatusBadRequest})
	case isType(err, userpool.ErrCodeMismatch), isType(err, userpool.ErrSoftwareTokenMismatch):
		h.count("/mfa", "err.mfa_code")
		h.showProblem(w, r, v, ar, problem{key: "err.mfa_code", field: "code", status: http.StatusBadRequest})
	default:
		h.fail(w, r, v, ar, err, problem{key: "err.mfa_code", field: "code", status: http.StatusBadRequest})
	}
}

// isType reports whether err is a client error of kind's Cognito type.
func isType(err error, kind *userpool.Error) bool {
	var e *userpool.Error
	return errors.As(err, &e) && !e.Internal && e.Type == kind.Type
}
