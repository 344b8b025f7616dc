package oauth

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/cognate-auth/cognate/storage"
	"github.com/cognate-auth/cognate/userpool"
)

// problem is what to tell the user about a failed operation: a catalog
// message, the field it concerns ("" for the whole form) and, for a weak
// password, the rules it breaks.
type problem struct {
	key    string
	field  string
	list   []string
	status int
}

// explain maps a domain error to a problem. notAuthorized is the message
// for a NotAuthorizedException the page has no better reading of (wrong
// password on /login, an expired session on /newPassword).
func explain(v *view, oc userpool.OAuthClient, err error, notAuthorized problem) problem {
	var e *userpool.Error
	if !errors.As(err, &e) {
		return problem{key: "err.generic", status: http.StatusInternalServerError}
	}
	msg := strings.ToLower(e.Message)
	bad := http.StatusBadRequest
	switch e.Type {
	case userpool.ErrNotAuthorized.Type:
		switch {
		case strings.Contains(msg, "attempts exceeded"):
			return problem{key: "err.locked", status: http.StatusTooManyRequests}
		case strings.Contains(msg, "disabled"):
			return problem{key: "err.disabled", status: http.StatusForbidden}
		case strings.Contains(msg, "temporary password has expired"):
			return problem{key: "err.temp_expired", status: bad}
		case strings.Contains(msg, "cannot be confirmed"):
			return problem{key: "err.already_confirmed", status: bad}
		case strings.Contains(msg, "signup is not permitted"):
			return problem{key: "err.signup_disabled", status: http.StatusForbidden}
		}
		return notAuthorized
	case userpool.ErrUserNotFound.Type:
		return notAuthorized
	case userpool.ErrUsernameExists.Type, userpool.ErrAliasExists.Type:
		return problem{key: "err.exists", field: "username", status: bad}
	case userpool.ErrCodeMismatch.Type:
		return problem{key: "err.code_mismatch", field: "code", status: bad}
	case userpool.ErrExpiredCode.Type:
		return problem{key: "err.code_expired", field: "code", status: bad}
	case userpool.ErrInvalidPassword.Type:
		return problem{key: "err.password_policy", field: "password", list: brokenRules(v, oc.Policy, e.Message), status: bad}
	case userpool.ErrInvalidParameter.Type:
		return explainParameter(msg)
	case userpool.ErrLimitExceeded.Type, userpool.ErrTooManyFailedAttempts.Type, userpool.ErrTooManyRequests.Type:
		return problem{key: "err.limit", status: http.StatusTooManyRequests}
	case userpool.ErrUserLambdaValidation.Type:
		return problem{key: "err.invalid_input", status: bad}
	}
	return problem{key: "err.generic", status: bad}
}

// explainParameter reads InvalidParameterException, whose messages name
// the offending member the way Cognito does.
func explainParameter(msg string) problem {
	bad := http.StatusBadRequest
	switch {
	case strings.Contains(msg, "should be an email"), strings.Contains(msg, "email address"):
		return problem{key: "err.email_invalid", field: "username", status: bad}
	case strings.Contains(msg, "'username'"):
		return problem{key: "err.username_invalid", field: "username", status: bad}
	case strings.Contains(msg, "'password'"):
		return problem{key: "err.password_length", field: "password", status: bad}
	case strings.Contains(msg, "no registered/verified email"):
		return problem{key: "err.no_verified_email", field: "username", status: bad}
	case strings.Contains(msg, "already confirmed"):
		return problem{key: "err.already_confirmed", status: bad}
	}
	return problem{key: "err.invalid_input", status: bad}
}

// brokenRules lists, in the user's language, the password rules the
// InvalidPasswordException names; all of them if it names none we know.
func brokenRules(v *view, p storage.PasswordPolicy, msg string) []string {
	msg = strings.ToLower(msg)
	var out []string
	for _, r := range []struct{ marker, rule string }{
		{"not long enough", "length"}, {"uppercase", "upper"}, {"lowercase", "lower"},
		{"numeric", "number"}, {"symbol", "symbol"}, {"begin or end with a space", "spaces"},
	} {
		if strings.Contains(msg, r.marker) {
			out = append(out, ruleText(v, p, r.rule))
		}
	}
	if len(out) == 0 {
		return policyRules(v, p)
	}
	return out
}

// policyRules spells out a pool's password policy.
func policyRules(v *view, p storage.PasswordPolicy) []string {
	var out []string
	if p.MinimumLength > 0 {
		out = append(out, ruleText(v, p, "length"))
	}
	for _, r := range []struct {
		on   bool
		rule string
	}{{p.RequireLowercase, "lower"}, {p.RequireUppercase, "upper"}, {p.RequireNumbers, "number"}, {p.RequireSymbols, "symbol"}} {
		if r.on {
			out = append(out, ruleText(v, p, r.rule))
		}
	}
	return out
}

func ruleText(v *view, p storage.PasswordPolicy, rule string) string {
	return v.T("policy."+rule, "n", strconv.Itoa(max(p.MinimumLength, 1)))
}

// notices are the messages a page may be asked to show by its query
// (?notice=confirmed after a redirect); the text never comes from the URL.
var notices = map[string]bool{
	"confirmed": true, "reset": true, "signed_out": true, "not_confirmed": true,
	"reset_required": true, "pending": true, "signed_up": true,
}

func noticeFor(v *view, r *http.Request) string {
	if n := single(r.URL.Query(), "notice"); notices[n] {
		return v.T("notice." + n)
	}
	return ""
}

// fail shows a failed operation on the page it came from: next to its
// field, or above the form. Server faults get the error page instead.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, v *view, ar *authzRequest, err error, notAuthorized problem) {
	if isInternal(err) {
		h.internalError(w, r, "hosted page "+r.URL.Path, err)
		return
	}
	p := explain(v, ar.client, err, notAuthorized)
	h.count(r.URL.Path, p.key)
	h.showProblem(w, r, v, ar, p)
}

// showProblem renders v with p in place.
func (h *Handler) showProblem(w http.ResponseWriter, r *http.Request, v *view, ar *authzRequest, p problem) {
	msg := v.T(p.key)
	if p.key == "err.email_invalid" && v.Form.field("email") != nil {
		p.field = "email" // a username pool's sign-up asks for the email apart
	}
	if f := v.Form.field(p.field); f != nil && p.field != "" {
		f.Error, f.ErrorList = msg, p.list
		if len(p.list) > 0 { // the broken rules replace the full list
			f.Hint, f.HintList = "", nil
		}
	} else {
		v.Error = msg
	}
	h.render(w, r, p.status, v, ar.redirect)
}
