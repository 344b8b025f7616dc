package oauth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/cognate-auth/cognate/federation"
)

// The callbacks of the identity providers, at Cognito's paths.
const (
	IDPResponsePath  = "/oauth2/idpresponse"
	SAMLResponsePath = "/saml2/idpresponse"
)

// A sign-in at a provider is bound to the browser that started it by a
// cookie named after the state it sent the provider (so parallel sign-ins
// in several tabs do not clash), holding the sealed flow: the state
// itself, compared in constant time with what comes back, the provider,
// the app's authorization request and the Upstream's binding (nonce,
// PKCE verifier, SAML request id). The callback claims the state once
// across nodes, so a replayed callback is refused even with the cookie.
const fedCookiePrefix = "cognate_fed_"

// maxCallbackForm bounds a provider's form post (a SAML response with
// its certificates is some tens of kilobytes).
const maxCallbackForm = 512 << 10

type fedFlow struct {
	State    string `json:"s"`
	Provider string `json:"p"`
	Query    string `json:"q"`
	Binding  string `json:"b"`
	Callback string `json:"c"`
}

func fedCookieName(state string) string {
	sum := sha256.Sum256([]byte(state))
	return fedCookiePrefix + hex.EncodeToString(sum[:8])
}

// wantsFederation reports whether an authorization names a provider other
// than the pool's own sign-in.
func (ar *authzRequest) wantsFederation() bool {
	return (ar.IdentityProvider != "" && !strings.EqualFold(ar.IdentityProvider, "COGNITO")) || ar.IDPIdentifier != ""
}

// identifierOf is the idp_identifier to look up: the domain of an email
// address (the managed login page's corporate sign-in), else as given.
func identifierOf(s string) string {
	if i := strings.LastIndexByte(s, '@'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// federate sends the browser to the provider the authorization names.
func (h *Handler) federate(w http.ResponseWriter, r *http.Request, ar *authzRequest) {
	ctx := r.Context()
	if h.fed == nil {
		h.authzFail(w, r, ar, redirErr("invalid_request", "identity_provider: federation is not configured on this server."))
		return
	}
	name, ident := ar.IdentityProvider, ""
	if ar.IDPIdentifier != "" && name == "" {
		ident = identifierOf(ar.IDPIdentifier)
	}
	prov, err := h.svc.FederationProvider(ctx, ar.client.ClientID, name, ident)
	if err != nil {
		if isInternal(err) {
			h.authzFail(w, r, ar, h.authzServiceError(ctx, err))
			return
		}
		h.log.InfoContext(ctx, "federation refused", "client", ar.client.ClientID, "provider", name, "identifier", ident, "err", err)
		h.authzFail(w, r, ar, redirErr("invalid_request", "identity_provider or idp_identifier names no identity provider of this app client."))
		return
	}
	up, err := h.fed.Upstream(ctx, prov)
	if err != nil {
		h.upstreamFail(w, r, prov.Name, "build", err)
		return
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		h.internalError(w, r, "federation state", err)
		return
	}
	state := base64.RawURLEncoding.EncodeToString(b)
	callback := h.publicBase(r) + IDPResponsePath
	if prov.Type == federation.TypeSAML {
		callback = h.publicBase(r) + SAMLResponsePath
	}
	start, err := up.Begin(ctx, federation.Request{State: state, CallbackURL: callback})
	if err != nil {
		h.upstreamFail(w, r, prov.Name, "begin", err)
		return
	}
	sealed, err := h.svc.SealFederationState(fedFlow{State: state, Provider: prov.Name, Query: ar.query().Encode(), Binding: start.Binding, Callback: callback})
	if err != nil {
		h.internalError(w, r, "seal federation state", err)
		return
	}
	c := &http.Cookie{
		Name: fedCookieName(state), Value: sealed, Path: "/", MaxAge: fedCookieMaxAge,
		HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode,
	}
	if start.FormPost {
		// The provider posts back cross-site: only SameSite=None (which
		// browsers take only with Secure) comes along.
		c.SameSite, c.Secure = http.SameSiteNoneMode, true
	}
	http.SetCookie(w, c)
	h.count("authorize", "federate")
	h.log.InfoContext(ctx, "federated sign-in started", "pool", ar.client.PoolID, "client", ar.client.ClientID, "provider", prov.Name)
	w.Header().Set("Cache-Control", "no-store")
	redirect(w, start.URL)
}

// publicBase is the origin browsers reach this server at.
func (h *Handler) publicBase(r *http.Request) string {
	if h.base != "" {
		return h.base
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// idpResponse is a provider's answer (GET, or a form POST for SAML and
// Apple's form_post): checked against the browser's flow, then the user
// signs in as a local sign-in does — a pool session, and the app's code
// with its original state.
func (h *Handler) idpResponse(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	params := r.URL.Query()
	if r.Method == http.MethodPost {
		r.Body = http.MaxBytesReader(w, r.Body, maxCallbackForm)
		if err := r.ParseForm(); err != nil {
			h.fedFail(w, r, http.StatusBadRequest, "form", "", errors.New("unreadable form"))
			return
		}
		params = r.PostForm
	}
	if h.unsolicitedSAML(w, r, params) {
		return
	}
	state := params.Get("state")
	if state == "" {
		state = params.Get("RelayState")
	}
	if state == "" || len(state) > 256 {
		h.fedFail(w, r, http.StatusBadRequest, "state", "", errors.New("no state"))
		return
	}
	c, err := r.Cookie(fedCookieName(state))
	if err != nil {
		h.fedFail(w, r, http.StatusBadRequest, "state", "", errors.New("no sign-in of this browser has that state"))
		return
	}
	http.SetCookie(w, &http.Cookie{Name: c.Name, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: r.TLS != nil})
	var flow fedFlow
	if err := h.svc.OpenFederationState(c.Value, &flow); err != nil {
		h.fedFail(w, r, http.StatusBadRequest, "state", "", errors.New("the sign-in expired or its cookie was altered"))
		return
	}
	if subtle.ConstantTimeCompare([]byte(flow.State), []byte(state)) != 1 {
		h.fedFail(w, r, http.StatusBadRequest, "state", flow.Provider, errors.New("state mismatch"))
		return
	}
	won, err := h.svc.ClaimFederationState(ctx, state)
	if err != nil {
		h.internalError(w, r, "claim federation state", err)
		return
	}
	if !won {
		h.fedFail(w, r, http.StatusBadRequest, "replay", flow.Provider, errors.New("callback replayed"))
		return
	}
	q, err := url.ParseQuery(flow.Query)
	if err != nil {
		h.fedFail(w, r, http.StatusBadRequest, "state", flow.Provider, err)
		return
	}
	ar, e := h.resolve(ctx, q)
	if e != nil {
		h.authzFail(w, r, &ar, e)
		return
	}
	h.finishFederation(w, r, &ar, flow, params)
}

// finishFederation has the provider's answer checked by its Upstream and
// signs in the user it names.
func (h *Handler) finishFederation(w http.ResponseWriter, r *http.Request, ar *authzRequest, flow fedFlow, params url.Values) {
	ctx := r.Context()
	if h.fed == nil {
		h.fedFail(w, r, http.StatusBadRequest, "config", flow.Provider, errors.New("federation is not configured"))
		return
	}
	prov, err := h.svc.FederationProvider(ctx, ar.client.ClientID, flow.Provider, "")
	if err != nil {
		if isInternal(err) {
			h.internalError(w, r, "load identity provider", err)
			return
		}
		h.fedFail(w, r, http.StatusBadRequest, "config", flow.Provider, err)
		return
	}
	up, err := h.fed.Upstream(ctx, prov)
	if err != nil {
		h.upstreamFail(w, r, prov.Name, "build", err)
		return
	}
	id, err := up.Finish(ctx, federation.Request{State: flow.State, CallbackURL: flow.Callback}, flow.Binding, params)
	if err != nil {
		h.upstreamFail(w, r, prov.Name, "finish", err)
		return
	}
	username, err := h.svc.FederatedSignIn(ctx, ar.client.ClientID, prov.Name, id)
	if err != nil {
		if isInternal(err) {
			h.internalError(w, r, "federated sign-in", err)
			return
		}
		h.fedFail(w, r, http.StatusForbidden, "user", prov.Name, err)
		return
	}
	h.count("idpresponse", "ok")
	h.log.InfoContext(ctx, "federated sign-in", "pool", ar.client.PoolID, "client", ar.client.ClientID, "provider", prov.Name)
	h.signIn(continueAfter(w, r), r, ar, username)
}

// upstreamFail answers a provider that refused, answered wrongly or could
// not be reached.
func (h *Handler) upstreamFail(w http.ResponseWriter, r *http.Request, provider, step string, err error) {
	switch {
	case errors.Is(err, federation.ErrDenied):
		h.fedFail(w, r, http.StatusForbidden, "denied", provider, err)
	case errors.Is(err, federation.ErrUnavailable):
		h.count("idpresponse", "unavailable")
		h.log.WarnContext(r.Context(), "identity provider unavailable", "provider", provider, "step", step, "err", err)
		h.errorPage(w, r, http.StatusBadGateway, "error.federation_unavailable", "")
	default:
		h.fedFail(w, r, http.StatusBadRequest, "invalid", provider, err)
	}
}

// fedFail refuses a federated sign-in with a page and a log line; the
// page tells the user what to do, the log the operator why.
func (h *Handler) fedFail(w http.ResponseWriter, r *http.Request, status int, reason, provider string, err error) {
	h.count("idpresponse", reason)
	h.log.WarnContext(r.Context(), "federated sign-in refused", "reason", reason, "provider", provider, "err", err)
	key := "error.federation"
	if reason == "denied" {
		key = "error.federation_denied"
	}
	h.errorPage(w, r, status, key, "")
}

// providerLinks are the login page's buttons, one per identity provider of
// the app client, and whether any routes by identifier (email domain).
func (h *Handler) providerLinks(ctx context.Context, v *view, ar *authzRequest) ([]link, bool, []string) {
	if h.fed == nil {
		return nil, false, nil
	}
	provs, err := h.svc.ClientProviders(ctx, ar.client.ClientID)
	if err != nil {
		h.log.WarnContext(ctx, "list the client's identity providers", "client", ar.client.ClientID, "err", err)
		return nil, false, nil
	}
	var links []link
	var corporate bool
	var origins []string
	for _, p := range provs {
		links = append(links, link{Label: v.T("login.provider", "provider", p.Name), URL: pageURL(AuthorizePath, ar, "identity_provider", p.Name)})
		corporate = corporate || p.Routed
		origins = append(origins, p.Origins...)
	}
	return links, corporate, origins
}

// loginProviders adds the providers to the login page: a button each, and
// the corporate sign-in (email → provider by domain) when one routes by
// identifier. The page may then be left by a redirect to a provider, so
// its form-action allows the providers' origins.
func (h *Handler) loginProviders(ctx context.Context, v *view, ar *authzRequest) []string {
	links, corporate, origins := h.providerLinks(ctx, v, ar)
	v.Providers = links
	if corporate {
		q := ar.query()
		q.Del("identity_provider")
		q.Del("idp_identifier")
		var hiddenFields []hidden
		for _, f := range authzFields {
			if val := q.Get(f.name); val != "" {
				hiddenFields = append(hiddenFields, hidden{Name: f.name, Value: val})
			}
		}
		v.Corporate = &corporateForm{
			Action: AuthorizePath, Hidden: hiddenFields,
			Field:  &field{ID: "idp_identifier", Type: "email", Label: v.T("login.corporate_email"), Autocomplete: "email", MaxLength: 128},
			Submit: button{ID: "corporate-signin", Label: v.T("login.corporate_submit")},
		}
	}
	return origins
}

// corporateForm is the login page's sign-in by email domain: a GET to
// /oauth2/authorize with idp_identifier.
type corporateForm struct {
	Action string
	Hidden []hidden
	Field  *field
	Submit button
}

// fedCookieMaxAge is the state cookie's life, which the sealed state's
// own expiry backs up.
var fedCookieMaxAge = int(10 * time.Minute / time.Second)

// continueTemplate is the page a browser's federated callback ends on:
// it moves on to the app at once by a meta refresh. A 302 there would be
// the last hop of a redirect chain that started with a form post on the
// provider's own sign-in page, and browsers check such hops against that
// page's Content-Security-Policy form-action, which names this server,
// not the app.
var continueTemplate = template.Must(template.New("continue").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="robots" content="noindex">
<meta http-equiv="refresh" content="0;url={{.}}"><title>…</title></head>
<body><p><a href="{{.}}">Continue</a></p></body></html>
`))

// continueWriter turns the 302 that finishes a federated sign-in into the
// continue page, for a browser's top-level navigation (Sec-Fetch-Mode
// navigate) that came from another site; other clients get the 302.
type continueWriter struct {
	http.ResponseWriter
	done bool
}

func (c *continueWriter) WriteHeader(status int) {
	loc := c.Header().Get("Location")
	if c.done || status != http.StatusFound || loc == "" {
		c.ResponseWriter.WriteHeader(status)
		return
	}
	c.done = true
	c.Header().Del("Location")
	pageHeaders(c.ResponseWriter, "")
	c.ResponseWriter.WriteHeader(http.StatusOK)
	_ = continueTemplate.Execute(c.ResponseWriter, template.URL(loc))
}

// continueAfter wraps w for a browser navigation from another site.
func continueAfter(w http.ResponseWriter, r *http.Request) http.ResponseWriter {
	if r.Header.Get("Sec-Fetch-Mode") != "navigate" || r.Header.Get("Sec-Fetch-Site") != "cross-site" {
		return w
	}
	return &continueWriter{ResponseWriter: w}
}
