package demo

import (
	"context"
	"encoding/json"
	"net/http"
	"sort"
	"time"

	"github.com/cognate-auth/cognate/session"
)

type dashboardData struct {
	Now  time.Time
	Live *liveConfig
}

// signedIn returns the request's session. The pages calling it are behind
// Require, so nil only happens if they are mounted without it; then the
// browser is sent to sign in rather than shown a broken page.
func (a *app) signedIn(w http.ResponseWriter, r *http.Request) *session.Session {
	s := session.FromContext(r.Context())
	if s == nil {
		http.Redirect(w, r, a.s.SignInURL(r.URL.RequestURI()), http.StatusSeeOther)
	}
	return s
}

// dashboard is behind Require.
func (a *app) dashboard(w http.ResponseWriter, r *http.Request) {
	if a.signedIn(w, r) == nil {
		return
	}
	a.render(w, r, http.StatusOK, "dashboard", &view{
		Title: "Dashboard", Eyebrow: "Protected with Require", Nav: "dashboard",
		Lede: "Only signed-in users get here; everyone else is sent to sign in and brought back.",
		Data: dashboardData{Now: a.now(), Live: a.live},
	})
}

// admin is behind RequireGroup("admin").
func (a *app) admin(w http.ResponseWriter, r *http.Request) {
	if a.signedIn(w, r) == nil {
		return
	}
	a.render(w, r, http.StatusOK, "admin", &view{
		Title: "Admin", Eyebrow: "Protected with RequireGroup", Nav: "admin",
		Lede: "Visible to members of the admin group only.",
	})
}

type sessionData struct {
	Now                    time.Time
	IDClaims, AccessClaims []claim
	AttributesFetched      bool
	Attributes             []attribute
	AttributesError        string
}

type attribute struct{ Name, Value string }

// sessionPage shows the tokens' claims. With ?attributes=1 it also calls
// GetUser through FetchUserAttributes; with ?refresh=1 it was reached
// through the ForceRefresh middleware.
func (a *app) sessionPage(w http.ResponseWriter, r *http.Request) {
	s := a.signedIn(w, r)
	if s == nil {
		return
	}
	now := a.now()
	d := sessionData{Now: now, IDClaims: tokenClaims(s.IDToken), AccessClaims: tokenClaims(s.AccessToken)}
	q := r.URL.Query()
	if q.Get("attributes") == "1" {
		d.AttributesFetched = true
		d.Attributes, d.AttributesError = a.fetchAttributes(r.Context())
	}
	v := &view{
		Title: "Your session", Eyebrow: "session.FromContext", Nav: "session",
		Lede: "What the middleware verified for this request: the id token's and the access token's claims, and when they expire.",
		Data: d,
	}
	if q.Get("refresh") == "1" {
		v.Notice = refreshNotice(s, now)
	}
	a.render(w, r, http.StatusOK, "session", v)
}

// refreshNotice says whether the forced refresh produced new tokens.
func refreshNotice(s *session.Session, now time.Time) string {
	if now.Sub(s.IssuedAt) < 30*time.Second {
		return "Tokens refreshed: the new access token was issued " + stamp(s.IssuedAt) + " and its cookies came with this page."
	}
	return "The refresh produced no new tokens (the issuer may be unreachable); the session stays valid until it expires."
}

func (a *app) fetchAttributes(ctx context.Context) ([]attribute, string) {
	m, err := a.s.FetchUserAttributes(ctx)
	if err != nil {
		a.log.InfoContext(ctx, "demo: FetchUserAttributes", "err", err)
		return nil, "GetUser failed: " + err.Error()
	}
	out := make([]attribute, 0, len(m))
	for k, v := range m {
		out = append(out, attribute{Name: k, Value: v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, ""
}

type amplifyData struct {
	Enabled, Bundle bool
	Now             time.Time
	Config          amplifyConfig
	ConfigText      string
}

// amplifyConfig is Amplify Gen 2's configuration shape for Cognito; the
// bundle passes it to Amplify.configure(cfg, {ssr: true}).
type amplifyConfig struct {
	Auth struct {
		Cognito struct {
			UserPoolID       string `json:"userPoolId"`
			UserPoolClientID string `json:"userPoolClientId"`
			UserPoolEndpoint string `json:"userPoolEndpoint,omitempty"`
		} `json:"Cognito"`
	} `json:"Auth"`
}

func (a *app) amplifyData() amplifyData {
	d := amplifyData{Enabled: a.c != nil, Bundle: a.c != nil && a.bundle != nil, Now: a.now()}
	d.Config.Auth.Cognito.UserPoolID = a.clientCfg.UserPoolID
	d.Config.Auth.Cognito.UserPoolClientID = a.clientCfg.ClientID
	d.Config.Auth.Cognito.UserPoolEndpoint = a.clientCfg.Endpoint
	b, _ := json.MarshalIndent(d.Config, "", "  ")
	d.ConfigText = "Amplify.configure(" + string(b) + ", { ssr: true });"
	return d
}

// amplify is the client-mode sign-in page: aws-amplify in the browser.
func (a *app) amplify(w http.ResponseWriter, r *http.Request) {
	a.render(w, r, http.StatusOK, "amplify", &view{
		Title: "Sign in with aws-amplify", Eyebrow: "Client mode", Nav: "amplify", Client: true,
		Lede: "The real aws-amplify library signs you in from this page and stores the tokens in cookies; the Go server reads the same cookies.",
		Data: a.amplifyData(),
	})
}

// amplifyMe renders, on the server, the user found in Amplify's cookies.
func (a *app) amplifyMe(w http.ResponseWriter, r *http.Request) {
	v := &view{
		Title: "What the server sees", Eyebrow: "Client mode", Nav: "amplify-me", Client: true,
		Lede: "This page is rendered by Go from the cookies aws-amplify wrote; a refresh here rewrites them in Amplify's own format.",
		Data: a.amplifyData(),
	}
	if s := session.FromContext(r.Context()); s != nil && r.URL.Query().Get("refresh") == "1" {
		v.Notice = refreshNotice(s, a.now())
	}
	a.render(w, r, http.StatusOK, "amplify-me", v)
}
