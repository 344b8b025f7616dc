package oauth

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/cognate-auth/cognate/userpool"
)

// authzRequest is an authorization request as /oauth2/authorize takes it
// and as /login and the other pages carry it along in their query.
type authzRequest struct {
	ResponseType        string
	ClientID            string
	RedirectURI         string
	State               string
	Scope               string
	Nonce               string
	CodeChallenge       string
	CodeChallengeMethod string
	Prompt              string
	Lang                string
	LoginHint           string
	IdentityProvider    string
	IDPIdentifier       string

	// Set once the request is checked against its client.
	client      userpool.OAuthClient
	redirect    string // RedirectURI, or the client's default
	granted     string // the scopes granted
	promptNone  bool
	promptLogin bool
}

// authzFields bounds every parameter. Lengths are bytes; the longest
// legitimate values (redirect URIs, Amplify's state with a custom part)
// are far below them, and the bounds keep query strings and what the
// pages echo back small.
var authzFields = []struct {
	name string
	max  int
	ptr  func(*authzRequest) *string
}{
	{"response_type", 32, func(a *authzRequest) *string { return &a.ResponseType }},
	{"client_id", 128, func(a *authzRequest) *string { return &a.ClientID }},
	{"redirect_uri", 2048, func(a *authzRequest) *string { return &a.RedirectURI }},
	{"state", 2048, func(a *authzRequest) *string { return &a.State }},
	{"scope", 2048, func(a *authzRequest) *string { return &a.Scope }},
	{"nonce", 512, func(a *authzRequest) *string { return &a.Nonce }},
	{"code_challenge", 43, func(a *authzRequest) *string { return &a.CodeChallenge }},
	{"code_challenge_method", 16, func(a *authzRequest) *string { return &a.CodeChallengeMethod }},
	{"prompt", 64, func(a *authzRequest) *string { return &a.Prompt }},
	{"lang", 35, func(a *authzRequest) *string { return &a.Lang }},
	{"login_hint", 2048, func(a *authzRequest) *string { return &a.LoginHint }},
	{"identity_provider", 128, func(a *authzRequest) *string { return &a.IdentityProvider }},
	{"idp_identifier", 128, func(a *authzRequest) *string { return &a.IDPIdentifier }},
}

// authzError is a failed authorization request. A page error is shown to
// the user: without a trusted client and redirect URI, redirecting would
// make the server an open redirector. Others go back to the client.
type authzError struct {
	code   string // OAuth error code
	desc   string // English, for the developer
	page   bool
	status int    // for page errors
	key    string // catalog key of the page's explanation
}

func pageErr(status int, code, key, desc string) *authzError {
	return &authzError{code: code, desc: desc, page: true, status: status, key: key}
}

func redirErr(code, desc string) *authzError { return &authzError{code: code, desc: desc} }

// readAuthorize extracts the parameters, refusing repeated (RFC 6749
// §3.1) or oversized ones. A bad client_id or redirect_uri is a page
// error; anything else is reported after them so it can be redirected.
// An unusable state is dropped rather than echoed.
func readAuthorize(q url.Values) (authzRequest, *authzError) {
	var ar authzRequest
	var pageE, redirE *authzError
	for _, f := range authzFields {
		vals := q[f.name]
		bad := ""
		switch {
		case len(vals) > 1:
			bad = f.name + " must not be repeated."
		case len(vals) == 1 && len(vals[0]) > f.max:
			bad = f.name + " is too long."
		case len(vals) == 1:
			*f.ptr(&ar) = vals[0]
		}
		switch {
		case bad == "":
		case f.name == "client_id" || f.name == "redirect_uri":
			if pageE == nil {
				pageE = pageErr(http.StatusBadRequest, "invalid_request", "error.invalid_request", bad)
			}
		default:
			if redirE == nil {
				redirE = redirErr("invalid_request", bad)
			}
		}
	}
	if pageE != nil {
		return ar, pageE
	}
	return ar, redirE
}

// bindClient checks the client and resolves the redirect URI: exact
// match against the registered callbacks, or the client's default.
func bindClient(ar *authzRequest, oc userpool.OAuthClient) *authzError {
	ar.client = oc
	ar.redirect = ar.RedirectURI
	if ar.redirect == "" {
		ar.redirect = oc.DefaultURI
	}
	if ar.redirect == "" {
		return pageErr(http.StatusBadRequest, "invalid_request", "error.invalid_request", "redirect_uri is required.")
	}
	if !slices.Contains(oc.CallbackURLs, ar.redirect) {
		return pageErr(http.StatusBadRequest, "redirect_mismatch", "error.redirect_mismatch",
			"redirect_uri is not one of the app client's callback URLs.")
	}
	return nil
}

// checkAuthz applies the rules that, once the redirect URI is trusted,
// are reported to the client by redirect.
func checkAuthz(ar *authzRequest) *authzError {
	oc := ar.client
	var flow string
	switch ar.ResponseType {
	case "code":
		flow = "code"
	case "token":
		flow = "implicit"
	case "":
		return redirErr("invalid_request", "response_type is required.")
	default:
		return redirErr("unsupported_response_type", "response_type must be code or token.")
	}
	if !oc.AllowsFlow(flow) {
		return redirErr("unauthorized_client", "The app client is not allowed the "+flow+" flow.")
	}
	if e := checkPrompt(ar); e != nil {
		return e
	}
	if e := checkPKCE(ar); e != nil {
		return e
	}
	granted, err := oc.GrantScopes(ar.Scope)
	if err != nil {
		var ue *userpool.Error
		if errors.As(err, &ue) {
			return redirErr("invalid_scope", ue.Message)
		}
		return redirErr("invalid_scope", "Invalid scope.")
	}
	ar.granted = granted
	return nil
}

// checkPrompt accepts OIDC's prompt values, case-insensitively (Amplify
// lowercases them; other clients may not).
func checkPrompt(ar *authzRequest) *authzError {
	vals := strings.Fields(strings.ToLower(ar.Prompt))
	for _, p := range vals {
		switch p {
		case "none":
			ar.promptNone = true
		case "login":
			ar.promptLogin = true
		case "select_account", "consent":
		default:
			return redirErr("invalid_request", "prompt must be none, login, select_account or consent.")
		}
	}
	if ar.promptNone && len(vals) > 1 {
		return redirErr("invalid_request", "prompt=none cannot be combined with other values.")
	}
	return nil
}

// checkPKCE allows only S256 (RFC 7636): plain would hand the verifier to
// whoever sees the authorization request.
func checkPKCE(ar *authzRequest) *authzError {
	if ar.CodeChallenge == "" {
		if ar.CodeChallengeMethod != "" {
			return redirErr("invalid_request", "code_challenge_method requires code_challenge.")
		}
		return nil
	}
	if ar.CodeChallengeMethod != "S256" {
		return redirErr("invalid_request", "code_challenge_method must be S256; plain is not supported.")
	}
	if len(ar.CodeChallenge) != 43 || strings.Trim(ar.CodeChallenge, base64URLChars) != "" {
		return redirErr("invalid_request", "code_challenge must be 43 base64url characters (S256).")
	}
	return nil
}

const base64URLChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// query re-encodes the request's parameters as received, for the links
// and forms of the pages that continue it.
func (ar *authzRequest) query() url.Values {
	q := url.Values{}
	for _, f := range authzFields {
		if v := *f.ptr(ar); v != "" {
			q.Set(f.name, v)
		}
	}
	return q
}

// fragment reports whether results go back in the URL fragment: the
// implicit flow's tokens must not reach the client's server logs.
func (ar *authzRequest) fragment() bool { return ar.ResponseType == "token" }

// callbackURL appends params to a registered redirect URI, in its query
// or its fragment, keeping a query the URI was registered with.
func callbackURL(base string, params url.Values, fragment bool) string {
	if i := strings.IndexByte(base, '#'); i >= 0 {
		base = base[:i]
	}
	enc := params.Encode()
	switch {
	case fragment:
		return base + "#" + enc
	case strings.Contains(base, "?"):
		return base + "&" + enc
	default:
		return base + "?" + enc
	}
}

// errorURL is the redirect that reports e to the client.
func (ar *authzRequest) errorURL(e *authzError) string {
	p := url.Values{"error": {e.code}, "error_description": {e.desc}}
	if ar.State != "" {
		p.Set("state", ar.State)
	}
	return callbackURL(ar.redirect, p, ar.fragment() && e.code != "unsupported_response_type")
}
