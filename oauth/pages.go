package oauth

// The hosted pages and their stable form fields (for browser tests and
// anyone automating them; ids equal names):
//
//	/login                  username, password; submit #signin
//	/signup                 username, password, name (optional); submit #signup
//	                        (pools that do not sign in by email also have email)
//	/confirm                code; submit #confirm, resend #resend
//	                        (username is a hidden field when known, else visible)
//	/forgotPassword         username; submit #send-code
//	/confirmForgotPassword  code, password; submit #reset (username as /confirm)
//	/newPassword            password; submit #set-password (session hidden)
//
// Every form also carries the hidden csrf_token. Error messages are in
// elements with class "error": one per field, next to it (id
// "<field>-error", referenced by the field's aria-describedby), or one for
// the whole form (id "form-error"). Notices have class "notice". Every
// page carries the authorization request in its query string, and its
// links (sign up, forgot password…) keep it.

import (
	"embed"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"strings"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed assets
var assetFS embed.FS

var pageTemplates = map[string]*template.Template{
	"form":  template.Must(template.ParseFS(templateFS, "templates/layout.html", "templates/form.html")),
	"error": template.Must(template.ParseFS(templateFS, "templates/layout.html", "templates/error.html")),
}

func assetHandler() http.Handler {
	sub, _ := fs.Sub(assetFS, "assets")
	files := http.StripPrefix(AssetsPath, http.FileServerFS(sub))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The stylesheet changes only with a release.
		w.Header().Set("Cache-Control", "public, max-age=3600")
		files.ServeHTTP(w, r)
	})
}

// view is what the layout renders.
type view struct {
	loc      *locale
	Lang     string
	Dir      string
	Title    string
	Heading  string
	Subtitle string
	Mark     string // the client's initial, for the badge
	Alert    bool   // the badge warns (error page)
	Notice   string
	Error    string
	Form     *form
	Links    []link
	// Providers are the login page's identity-provider buttons, and
	// Corporate its sign-in by email domain.
	Providers []link
	Corporate *corporateForm
	// formOrigins are further origins the page's forms may lead to (the
	// identity providers a submitted form redirects to).
	formOrigins []string
	Languages   []link
	// An authenticator app's setup: its QR code and secret.
	QR     template.HTML
	Secret string
	// PasskeyOptions are a passkey step's request options (JSON), which
	// assets/passkey.js hands to navigator.credentials.get.
	PasskeyOptions string
	// Error page only.
	Detail string
	Retry  string
}

// T translates in templates: {{.T "key"}}.
func (v *view) T(key string, args ...string) string { return v.loc.T(key, args...) }

type form struct {
	Action string
	CSRF   string
	Hidden []hidden
	Fields []*field
	Submit button
	Extra  *button // a second submit (resend), exempt from validation
}

type hidden struct{ Name, Value string }

type button struct{ ID, Label string }

type link struct {
	Prefix string // text before the link
	Label  string
	URL    string
	Active bool
}

// field is one labelled input. ID doubles as its name.
type field struct {
	ID           string
	Type         string
	Label        string
	Optional     string // "(optional)" text, if the field is
	Autocomplete string
	InputMode    string
	Value        string
	Hint         string
	HintList     []string
	Error        string
	ErrorList    []string
	MaxLength    int
	Autofocus    bool
	After        *link // a link right under the input (forgot password)
	// Choices make the field a set of radio buttons.
	Choices []choice
}

type choice struct{ Value, Label string }

// DescribedBy lists the ids of the hint and error tied to the input.
func (f *field) DescribedBy() string {
	var ids []string
	if f.Hint != "" || len(f.HintList) > 0 {
		ids = append(ids, f.ID+"-hint")
	}
	if f.Error != "" {
		ids = append(ids, f.ID+"-error")
	}
	return strings.Join(ids, " ")
}

func (f *form) field(id string) *field {
	for _, x := range f.Fields {
		if x.ID == id {
			return x
		}
	}
	return nil
}

// focus puts autofocus on the first field with an error, else the first
// field, unless the form-level error should be read first.
func (f *form) focus() {
	for _, x := range f.Fields {
		if x.Error != "" {
			x.Autofocus = true
			return
		}
	}
	if len(f.Fields) > 0 {
		f.Fields[0].Autofocus = true
	}
}

// newView starts a page in the request's language.
func newView(r *http.Request, titleKey string) *view {
	l := pickLocale(single(r.URL.Query(), "lang"), r.Header.Get("Accept-Language"))
	v := &view{loc: l, Lang: l.tag, Dir: l.dir}
	v.Title = l.T(titleKey)
	v.Heading = v.Title
	v.Languages = languageLinks(r, l)
	return v
}

// languageLinks point at the current page (as a GET, keeping its query)
// in each other language.
func languageLinks(r *http.Request, cur *locale) []link {
	var out []link
	for _, l := range sortedLocales() {
		q := r.URL.Query()
		q.Set("lang", l.key)
		out = append(out, link{Label: l.name, URL: r.URL.Path + "?" + q.Encode(), Active: l == cur})
	}
	return out
}

// pageHeaders are the security headers of every page.
//
// form-action must also allow the callback's origin: Chrome applies
// form-action to the redirect that follows a form post, and a successful
// sign-in post answers with a redirect to the callback.
//
// Referrer-Policy is same-origin rather than no-referrer: under
// no-referrer browsers send "Origin: null" with our own form posts, which
// would defeat the Origin check. same-origin still sends nothing to other
// origins (the callback, links out), so the query strings of these pages
// (state, login_hint) do not leak.
func pageHeaders(w http.ResponseWriter, callback string, more ...string) {
	formAction := "'self'"
	for _, u := range append([]string{callback}, more...) {
		if src := cspSource(u); src != "" {
			formAction += " " + src
		}
	}
	hd := w.Header()
	hd.Set("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'; form-action "+formAction+"; base-uri 'none'")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Referrer-Policy", "same-origin")
	hd.Set("Cache-Control", "no-store")
	hd.Set("Content-Type", "text/html; charset=utf-8")
}

// cspSource is a CSP source expression for a callback URL: its origin
// for http(s), its scheme for an app's custom scheme. Anything that is not
// plainly safe to put in the header yields "".
func cspSource(callback string) string {
	u, err := url.Parse(callback)
	if err != nil || u.Scheme == "" {
		return ""
	}
	src := u.Scheme + ":"
	if u.Scheme == "http" || u.Scheme == "https" {
		src = u.Scheme + "://" + u.Host
	}
	if strings.Trim(strings.ToLower(src), "abcdefghijklmnopqrstuvwxyz0123456789+-.:/[]") != "" {
		return ""
	}
	return src
}

// render writes a page. callback is the redirect URI a post of the page
// may end at ("" if none).
func (h *Handler) render(w http.ResponseWriter, r *http.Request, status int, v *view, callback string) {
	if v.Form != nil {
		token, err := h.csrf.Token(w, r)
		if err != nil {
			h.internalError(w, r, "csrf key", err)
			return
		}
		v.Form.CSRF = token
		v.Form.focus()
	}
	pageHeaders(w, callback, v.formOrigins...)
	name := "form"
	if v.Form == nil {
		name = "error"
	}
	w.WriteHeader(status)
	if err := pageTemplates[name].ExecuteTemplate(w, "layout", v); err != nil {
		h.log.ErrorContext(r.Context(), "render page", "err", err)
	}
}

// errorPage shows a failure the user cannot fix by editing a form. detail
// is a technical explanation for the app's developer.
func (h *Handler) errorPage(w http.ResponseWriter, r *http.Request, status int, key, detail string) {
	v := newView(r, "error.title")
	v.Mark, v.Alert = "!", true
	v.Error = v.T(key)
	v.Detail = detail
	if r.Method == http.MethodPost {
		v.Retry = r.URL.RequestURI()
	}
	if status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", retryAfterSeconds)
	}
	h.render(w, r, status, v, "")
}

// internalError logs a server fault and shows a generic page: a 503 that
// asks to retry when storage could not be reached.
func (h *Handler) internalError(w http.ResponseWriter, r *http.Request, op string, err error) {
	if unavailable(err) {
		h.log.WarnContext(r.Context(), op+": storage unavailable", "err", err)
		h.errorPage(w, r, http.StatusServiceUnavailable, "error.unavailable", "")
		return
	}
	h.log.ErrorContext(r.Context(), op, "err", err)
	h.errorPage(w, r, http.StatusInternalServerError, "error.internal", "")
}

// errorRoute is GET /error?error=<code>: a known code's explanation, a
// generic one otherwise (the text never comes from the URL).
func (h *Handler) errorRoute(w http.ResponseWriter, r *http.Request) {
	key := "error.generic"
	switch code := single(r.URL.Query(), "error"); code {
	case "invalid_client", "redirect_mismatch", "invalid_request", "csrf", "logout":
		key = "error." + code
	}
	h.errorPage(w, r, http.StatusBadRequest, key, "")
}
