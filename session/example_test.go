package session_test

import (
	"errors"
	"fmt"
	"html/template"
	"io"
	"log"
	"net/http"
	"net/http/httptest"

	"github.com/cognate-auth/cognate/session"
)

// A server-rendered app with hosted sign-in, a protected page, and a
// layout that shows who is signed in.
func Example() {
	m, err := session.New(session.Config{
		UserPoolID:  "us-east-1_EXAMPLE",
		ClientID:    "exampleclient",
		OAuthDomain: "https://auth.example.com",
		Origin:      "https://app.example.com",
	})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle(m.Config().MountPath, m.Handler()) // /api/auth/sign-in, sign-out, …
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if s := session.FromContext(r.Context()); s != nil {
			fmt.Fprintf(w, "Signed in as %s", template.HTMLEscapeString(s.Email))
			return
		}
		fmt.Fprintf(w, `<a href="%s">Sign in</a>`, m.SignInURL(r.URL.Path))
	})
	mux.Handle("/dashboard", m.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "Hello, %s", session.FromContext(r.Context()).Username)
	})))
	app := m.Middleware(mux) // serve this: http.ListenAndServe(addr, app)

	// A signed-out visit to the dashboard goes to sign-in and comes back.
	rec := httptest.NewRecorder()
	app.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "https://app.example.com/dashboard", nil))
	fmt.Println(rec.Code, rec.Header().Get("Location"))
	// Output: 303 /api/auth/sign-in?redirect=%2Fdashboard
}

// Calling the app's own API as the signed-in user: the transport adds
// the access token (refreshing it first if needed).
func ExampleManager_Transport() {
	m, err := session.New(session.Config{
		UserPoolID: "us-east-1_EXAMPLE", ClientID: "exampleclient", Origin: "https://app.example.com",
	})
	if err != nil {
		log.Fatal(err)
	}
	api := &http.Client{Transport: m.Transport(nil)}
	handler := func(w http.ResponseWriter, r *http.Request) {
		req, _ := http.NewRequestWithContext(r.Context(), http.MethodGet, "https://api.example.com/orders", nil)
		resp, err := api.Do(req)
		if errors.Is(err, session.ErrNoSession) {
			http.Redirect(w, r, m.SignInURL(r.URL.Path), http.StatusSeeOther)
			return
		}
		if err != nil {
			http.Error(w, "orders are unavailable", http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		io.Copy(w, resp.Body)
	}
	rec := httptest.NewRecorder()
	m.Middleware(http.HandlerFunc(handler)).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/orders", nil))
	fmt.Println(rec.Code, rec.Header().Get("Location"))
	// Output: 303 /api/auth/sign-in?redirect=%2Forders
}

// An app's own sign-in form, handled by the app: the password is checked
// by SRP against the pool, and extra steps come back as a Challenge.
func ExampleManager_SignInWithPassword() {
	m, err := session.New(session.Config{
		UserPoolID: "us-east-1_EXAMPLE", ClientID: "exampleclient", Origin: "https://app.example.com",
	})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /sign-in", func(w http.ResponseWriter, r *http.Request) {
		// (Check a CSRF token here: see Manager.CSRFToken.)
		c, err := m.SignInWithPassword(w, r, r.PostFormValue("username"), r.PostFormValue("password"))
		var ae *session.AuthError
		switch {
		case errors.As(err, &ae):
			http.Redirect(w, r, "/sign-in?error="+ae.Code, http.StatusSeeOther)
		case err != nil:
			http.Error(w, "sign-in failed", http.StatusInternalServerError)
		case c != nil && c.Name == "NEW_PASSWORD_REQUIRED":
			http.Redirect(w, r, "/new-password", http.StatusSeeOther) // renders c.Fields()
		case c != nil:
			http.Redirect(w, r, "/code", http.StatusSeeOther)
		default:
			http.Redirect(w, r, "/", http.StatusSeeOther)
		}
	})
	mux.HandleFunc("POST /new-password", func(w http.ResponseWriter, r *http.Request) {
		_, err := m.RespondToChallenge(w, r, nil, map[string]string{"NEW_PASSWORD": r.PostFormValue("password")})
		if err != nil {
			http.Redirect(w, r, "/sign-in?error=ChallengeExpired", http.StatusSeeOther)
			return
		}
		http.Redirect(w, r, "/", http.StatusSeeOther)
	})
	log.Fatal(http.ListenAndServe("localhost:3000", m.Middleware(mux)))
}
