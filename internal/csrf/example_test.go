package csrf_test

import (
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"

	"github.com/cognate-auth/cognate/internal/csrf"
)

var signInForm = template.Must(template.New("").Parse(
	`<form method="post"><input type="hidden" name="csrf_token" value="{{.}}"><button>Sign in</button></form>`))

// A form page puts Token in a hidden field; its POST handler parses the
// form under a size limit and refuses it unless Check passes.
func Example() {
	guard := csrf.New(csrf.Options{CookieName: "app_csrf"})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /sign-in", func(w http.ResponseWriter, r *http.Request) {
		token, err := guard.Token(w, r)
		if err != nil {
			http.Error(w, "Try again later.", http.StatusInternalServerError)
			return
		}
		_ = signInForm.Execute(w, token)
	})
	mux.HandleFunc("POST /sign-in", func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
		if err := r.ParseForm(); err != nil {
			http.Error(w, "The form could not be read.", http.StatusBadRequest)
			return
		}
		if err := guard.Check(r); errors.Is(err, csrf.ErrCrossOrigin) {
			http.Error(w, "Cross-origin form post.", http.StatusForbidden)
			return
		} else if err != nil {
			http.Error(w, "This form has expired; please try again.", http.StatusForbidden)
			return
		}
		fmt.Fprintln(w, "signed in")
	})

	// The browser loads the page, then posts its form from it.
	page := httptest.NewRecorder()
	mux.ServeHTTP(page, httptest.NewRequest(http.MethodGet, "http://app.example/sign-in", nil))
	cookie := page.Result().Cookies()[0]
	token := strings.Split(strings.Split(page.Body.String(), `value="`)[1], `"`)[0]

	submit := func(origin string) {
		r := httptest.NewRequest(http.MethodPost, "http://app.example/sign-in", strings.NewReader(url.Values{"csrf_token": {token}}.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.Header.Set("Origin", origin)
		r.AddCookie(cookie)
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, r)
		fmt.Print(w.Code, " ", w.Body.String())
	}
	submit("http://app.example")
	submit("https://evil.example")
	// Output:
	// 200 signed in
	// 403 Cross-origin form post.
}
