package demo

import (
	"bytes"
	"crypto/rand"
	"embed"
	"encoding/base64"
	"html/template"
	"io/fs"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cognate-auth/cognate/session"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed assets
var assetFS embed.FS

// pages are parsed once, on first use: each is the layout plus its own
// "content". Parsed at init, their trees (some 400 KB of pointers) would
// stay live in every server, demo on or off, and every garbage collection
// would mark them: that cost GetUser 7 % more instructions.
var pages = sync.OnceValue(func() map[string]*template.Template {
	files := map[string][]string{
		"home":       {"home.html"},
		"dashboard":  {"dashboard.html"},
		"admin":      {"admin.html"},
		"session":    {"session.html"},
		"signin":     {"signin.html"},
		"challenge":  {"challenge.html"},
		"security":   {"security.html"},
		"amplify":    {"amplify_parts.html", "amplify.html"},
		"amplify-me": {"amplify_parts.html", "amplify_me.html"},
		"error":      {"error.html"},
	}
	out := make(map[string]*template.Template, len(files))
	for name, names := range files {
		paths := []string{"templates/layout.html"}
		for _, f := range names {
			paths = append(paths, "templates/"+f)
		}
		out[name] = template.Must(template.New(name).Funcs(funcs).ParseFS(templateFS, paths...))
	}
	return out
})

var funcs = template.FuncMap{
	"icon":        icon,
	"displayName": displayName,
	"initial": func(s *session.Session) string {
		for _, r := range displayName(s) {
			return string(r)
		}
		return "?"
	},
	"rfc3339": func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"stamp":   stamp,
	"until":   until,
	"join":    strings.Join,
	"claimsCard": func(title, id string, claims []claim) claimsCard {
		return claimsCard{Title: title, ID: id, Claims: claims}
	},
}

type claimsCard struct {
	Title, ID string
	Claims    []claim
}

// displayName is what the app calls the user: the email, else the username.
func displayName(s *session.Session) string {
	if s == nil {
		return ""
	}
	if s.Email != "" {
		return s.Email
	}
	return s.Username
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

// until is the server-rendered text of a countdown (app.js keeps it live).
func until(t, now time.Time) string {
	d := t.Sub(now).Truncate(time.Second)
	switch {
	case d <= 0:
		return "expired"
	case d >= time.Hour:
		return "in " + strconv.Itoa(int(d.Hours())) + "h " + strconv.Itoa(int(d.Minutes())%60) + "m"
	case d >= time.Minute:
		return "in " + strconv.Itoa(int(d.Minutes())) + "m " + strconv.Itoa(int(d.Seconds())%60) + "s"
	}
	return "in " + strconv.Itoa(int(d.Seconds())) + "s"
}

// view is what the layout renders.
type view struct {
	Title, Eyebrow, Lede, Notice string
	Nav                          string // the sidebar entry to mark current
	User                         *session.Session
	Client                       bool // a client-mode page: User comes from Amplify's cookies
	Links                        links
	Nonce                        string
	Data                         any
	back                         string // where sign-in returns to; "" → this page
}

type links struct{ SignIn, SignUp, SignOut string }

// render writes a page. The session is read from the request context only:
// the middleware has resolved (and if need be refreshed) it already.
func (a *app) render(w http.ResponseWriter, r *http.Request, status int, page string, v *view) {
	if v.User == nil {
		v.User = session.FromContext(r.Context())
	}
	here := r.URL.Path
	switch {
	case v.back != "":
		here = v.back
	case v.Client:
		here = "/amplify/"
	}
	v.Links = links{SignIn: a.s.SignInURL(here), SignUp: a.s.SignUpURL(here), SignOut: a.s.SignOutURL()}
	v.Nonce = nonce()
	var buf bytes.Buffer
	if err := pages()[page].ExecuteTemplate(&buf, "layout", v); err != nil {
		a.log.ErrorContext(r.Context(), "demo: render", "page", page, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	// Pages show who is signed in: never cached by a shared cache.
	h.Set("Cache-Control", "private, no-store")
	h.Set("Content-Security-Policy", strings.Replace(a.csp, "'nonce'", "'nonce-"+v.Nonce+"'", 1))
	h.Del("Content-Length")
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		w.Write(buf.Bytes())
	}
}

type errorData struct {
	Status int
	Action *link
}

type link struct{ URL, Label string }

var errorTexts = map[int][2]string{
	http.StatusBadRequest:            {"Bad request", "The request could not be understood."},
	http.StatusForbidden:             {"You don't have access", "This page is for members of the admin group. Ask an administrator to add you, then sign in again."},
	http.StatusNotFound:              {"Page not found", "There is nothing at this address."},
	http.StatusMethodNotAllowed:      {"Method not allowed", "This page does not accept that kind of request."},
	http.StatusRequestEntityTooLarge: {"Request too large", "The form was larger than this site accepts."},
}

func (a *app) renderError(w http.ResponseWriter, r *http.Request, status int) {
	t, ok := errorTexts[status]
	if !ok {
		t = [2]string{http.StatusText(status), "Something went wrong."}
	}
	v := &view{Title: t[0], Lede: t[1], Client: strings.HasPrefix(r.URL.Path, "/amplify/")}
	d := errorData{Status: status}
	switch status {
	case http.StatusForbidden:
		d.Action = &link{URL: "/session", Label: "View your session"}
	case http.StatusNotFound, http.StatusMethodNotAllowed:
		// Signing in from here should not come back to a missing page.
		v.back = "/"
	}
	v.Data = d
	a.render(w, r, status, "error", v)
}

// styledForbidden replaces a plain 403 from the session library (for
// pages, not JSON) with the app's own page.
func (a *app) styledForbidden(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(&forbiddenWriter{ResponseWriter: w, a: a, r: r}, r)
	})
}

type forbiddenWriter struct {
	http.ResponseWriter
	a        *app
	r        *http.Request
	replaced bool
}

func (f *forbiddenWriter) WriteHeader(code int) {
	if code == http.StatusForbidden && !strings.Contains(f.Header().Get("Content-Type"), "json") {
		f.replaced = true
		f.a.renderError(f.ResponseWriter, f.r, code)
		return
	}
	f.ResponseWriter.WriteHeader(code)
}

func (f *forbiddenWriter) Write(b []byte) (int, error) {
	if f.replaced {
		return len(b), nil
	}
	return f.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the real writer.
func (f *forbiddenWriter) Unwrap() http.ResponseWriter { return f.ResponseWriter }

func setSecurityHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("X-Frame-Options", "DENY")
}

// contentSecurityPolicy allows this origin, the per-response nonce of the
// client-mode page's inline script ('nonce' is replaced per response), and
// connections to the events API and the user pool's endpoint.
func contentSecurityPolicy(opts Options) string {
	connect := []string{"'self'"}
	for _, u := range []string{opts.EventsHTTPURL, opts.EventsRealtimeURL, opts.ClientConfig.Endpoint} {
		if o, err := origin(u, "http", "https", "ws", "wss"); err == nil {
			connect = append(connect, o)
		}
	}
	if opts.ClientConfig.Endpoint == "" && opts.ClientConfig.Region != "" {
		connect = append(connect, "https://cognito-idp."+opts.ClientConfig.Region+".amazonaws.com")
	}
	return "default-src 'none'; script-src 'self' 'nonce'; style-src 'self'; img-src 'self' data:; " +
		"connect-src " + strings.Join(connect, " ") + "; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
}

func nonce() string {
	b := make([]byte, 16)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func assetHandler() http.Handler {
	sub, err := fs.Sub(assetFS, "assets")
	if err != nil {
		panic(err) // the embedded tree always has assets/
	}
	files := http.StripPrefix("/assets/", http.FileServerFS(sub))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=300")
		files.ServeHTTP(w, r)
	})
}

// icons are the sidebar's 24×24 stroke icons.
var icons = map[string]string{
	"home":   `<path d="M3 10.5 12 3l9 7.5"/><path d="M5 9.5V21h14V9.5"/><path d="M10 21v-6h4v6"/>`,
	"grid":   `<rect x="3" y="3" width="7" height="7" rx="1.5"/><rect x="14" y="3" width="7" height="7" rx="1.5"/><rect x="3" y="14" width="7" height="7" rx="1.5"/><rect x="14" y="14" width="7" height="7" rx="1.5"/>`,
	"key":    `<circle cx="8" cy="15" r="4"/><path d="m10.8 12.2 8.7-8.7"/><path d="m16 7 3 3"/><path d="m14 9 2 2"/>`,
	"shield": `<path d="M12 3 4 6v6c0 4.5 3.4 8.3 8 9 4.6-.7 8-4.5 8-9V6l-8-3Z"/><path d="m9 12 2 2 4-4"/>`,
	"bolt":   `<path d="M13 2 4 14h7l-1 8 9-12h-7l1-8Z"/>`,
	"user":   `<circle cx="12" cy="8" r="4"/><path d="M4 21c0-4 3.6-7 8-7s8 3 8 7"/>`,
}

func icon(name string) template.HTML {
	// The paths are constants above, never user input.
	return template.HTML(`<svg class="icon" viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true">` +
		icons[name] + `</svg>`)
}
