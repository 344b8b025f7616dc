package oauth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"

	"github.com/cognate-auth/cognate/federation"
	"github.com/cognate-auth/cognate/federation/saml"
)

// SAML's own routes next to the callback: the IdP's LogoutResponse, and
// the service provider metadata of a pool's SAML provider.
const (
	SAMLLogoutPath   = saml.LogoutPath
	SAMLMetadataPath = saml.MetadataPath
)

// samlUpstream is what the SAML protocol offers beyond the seam: its
// service provider metadata and single logout.
type samlUpstream interface {
	Metadata(ctx context.Context) ([]byte, error)
	BeginSignOut(ctx context.Context, req federation.Request, who saml.SignOut) (federation.Start, error)
	FinishSignOut(ctx context.Context, req federation.Request, binding string, params url.Values) error
}

// samlUpstreamOf builds the Upstream of a SAML provider.
func (h *Handler) samlUpstreamOf(ctx context.Context, prov federation.Provider) (samlUpstream, error) {
	if h.fed == nil {
		return nil, errors.New("federation is not configured")
	}
	up, err := h.fed.Upstream(ctx, prov)
	if err != nil {
		return nil, err
	}
	su, ok := up.(samlUpstream)
	if !ok {
		return nil, errors.New("not a SAML provider")
	}
	return su, nil
}

// samlMetadata is GET /saml2/metadata?user_pool_id=…&provider_name=…: the
// service provider metadata to register the pool with at the IdP (a
// Cognate addition; Cognito gives the same facts through its API).
func (h *Handler) samlMetadata(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	q := r.URL.Query()
	prov, err := h.svc.SAMLProvider(ctx, single(q, "user_pool_id"), single(q, "provider_name"))
	if err != nil {
		if isInternal(err) {
			h.internalError(w, r, "load identity provider", err)
			return
		}
		http.NotFound(w, r)
		return
	}
	up, err := h.samlUpstreamOf(ctx, prov)
	if err != nil {
		h.upstreamFail(w, r, prov.Name, "metadata", err)
		return
	}
	doc, err := up.Metadata(ctx)
	if err != nil {
		h.upstreamFail(w, r, prov.Name, "metadata", err)
		return
	}
	w.Header().Set("Content-Type", "application/samlmetadata+xml")
	w.Header().Set("Cache-Control", "no-cache")
	_, _ = w.Write(doc)
}

// unsolicitedSAML finishes an IdP-initiated SAML sign-in: a response
// posted to the ACS by a browser with no sign-in of its own for that
// RelayState, whose RelayState is, as with Cognito, the authorization
// request (identity_provider, client_id, redirect_uri, response_type,
// scope). It reports false, doing nothing, for anything else. The
// provider's Upstream refuses it unless IDPInit is true; its assertion
// id, claimed once, makes it single-use.
func (h *Handler) unsolicitedSAML(w http.ResponseWriter, r *http.Request, params url.Values) bool {
	relay := params.Get("RelayState")
	if r.Method != http.MethodPost || r.URL.Path != SAMLResponsePath || relay == "" || len(relay) > 4096 {
		return false
	}
	if _, err := r.Cookie(fedCookieName(relay)); err == nil {
		return false
	}
	q, err := url.ParseQuery(relay)
	if err != nil || single(q, "identity_provider") == "" || single(q, "client_id") == "" {
		return false
	}
	ctx := r.Context()
	name := q.Get("identity_provider")
	q.Del("identity_provider")
	ar, e := h.resolve(ctx, q)
	if e != nil {
		h.authzFail(w, r, &ar, e)
		return true
	}
	prov, err := h.svc.FederationProvider(ctx, ar.client.ClientID, name, "")
	if err == nil && prov.Type != federation.TypeSAML {
		err = errors.New("not a SAML provider")
	}
	if err != nil {
		if isInternal(err) {
			h.internalError(w, r, "load identity provider", err)
			return true
		}
		h.fedFail(w, r, http.StatusBadRequest, "config", name, err)
		return true
	}
	h.finishFederation(w, r, &ar, fedFlow{State: relay, Provider: prov.Name, Callback: h.publicBase(r) + SAMLResponsePath}, params)
	return true
}

// samlSignOut starts the SAML single logout of /logout when the browser's
// user signed in through a SAML provider with IDPSignout: the pool
// session ends here, the browser goes to the IdP with a signed
// LogoutRequest, and the IdP's LogoutResponse at /saml2/logout sends it
// on to target. It reports false when there is nothing to do at an IdP
// (or the IdP cannot be reached: the sign-out here stands).
func (h *Handler) samlSignOut(w http.ResponseWriter, r *http.Request, poolID, target string) bool {
	ctx := r.Context()
	info, live, err := h.currentSession(r, poolID)
	if err != nil || !live || h.fed == nil {
		return false
	}
	prov, nameID, ok, err := h.svc.SAMLIdentity(ctx, poolID, info.Username)
	if err != nil || !ok {
		return false
	}
	up, err := h.samlUpstreamOf(ctx, prov)
	if err != nil {
		h.log.WarnContext(ctx, "saml sign-out skipped", "pool", poolID, "provider", prov.Name, "err", err)
		return false
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return false
	}
	state := base64.RawURLEncoding.EncodeToString(b)
	callback := h.publicBase(r) + SAMLLogoutPath
	start, err := up.BeginSignOut(ctx, federation.Request{State: state, CallbackURL: callback}, saml.SignOut{NameID: nameID})
	if err != nil {
		if !errors.Is(err, saml.ErrNoSignOut) {
			h.log.WarnContext(ctx, "saml sign-out skipped", "pool", poolID, "provider", prov.Name, "err", err)
		}
		return false
	}
	back := url.Values{"user_pool_id": {poolID}, "target": {target}}
	sealed, err := h.svc.SealFederationState(fedFlow{State: state, Provider: prov.Name, Query: back.Encode(), Binding: start.Binding, Callback: callback})
	if err != nil {
		return false
	}
	if err := h.endSession(ctx, w, r, poolID); err != nil {
		h.internalError(w, r, "end session", err)
		return true
	}
	http.SetCookie(w, &http.Cookie{
		Name: fedCookieName(state), Value: sealed, Path: "/", MaxAge: fedCookieMaxAge,
		HttpOnly: true, Secure: true, SameSite: http.SameSiteNoneMode,
	})
	h.count("logout", "saml")
	h.log.InfoContext(ctx, "saml sign-out sent to the IdP", "pool", poolID, "provider", prov.Name)
	w.Header().Set("Cache-Control", "no-store")
	redirect(w, start.URL)
	return true
}

// samlLogoutResponse is POST /saml2/logout: the IdP's answer to the
// LogoutRequest this browser's sign-out sent, checked, then on to where
// /logout was asked to go.
func (h *Handler) samlLogoutResponse(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	r.Body = http.MaxBytesReader(w, r.Body, maxCallbackForm)
	if err := r.ParseForm(); err != nil {
		h.fedFail(w, r, http.StatusBadRequest, "form", "", errors.New("unreadable form"))
		return
	}
	state := r.PostForm.Get("RelayState")
	c, err := r.Cookie(fedCookieName(state))
	if state == "" || err != nil {
		h.fedFail(w, r, http.StatusBadRequest, "state", "", errors.New("no sign-out of this browser has that RelayState"))
		return
	}
	http.SetCookie(w, &http.Cookie{Name: c.Name, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: true, SameSite: http.SameSiteNoneMode})
	var flow fedFlow
	if err := h.svc.OpenFederationState(c.Value, &flow); err != nil || subtle.ConstantTimeCompare([]byte(flow.State), []byte(state)) != 1 {
		h.fedFail(w, r, http.StatusBadRequest, "state", "", errors.New("the sign-out expired or its cookie was altered"))
		return
	}
	won, err := h.svc.ClaimFederationState(ctx, state)
	if err != nil {
		h.internalError(w, r, "claim federation state", err)
		return
	}
	if !won {
		h.fedFail(w, r, http.StatusBadRequest, "replay", flow.Provider, errors.New("logout response replayed"))
		return
	}
	back, _ := url.ParseQuery(flow.Query)
	prov, err := h.svc.SAMLProvider(ctx, back.Get("user_pool_id"), flow.Provider)
	if err != nil {
		h.fedFail(w, r, http.StatusBadRequest, "config", flow.Provider, err)
		return
	}
	up, err := h.samlUpstreamOf(ctx, prov)
	if err != nil {
		h.upstreamFail(w, r, prov.Name, "build", err)
		return
	}
	if err := up.FinishSignOut(ctx, federation.Request{State: state, CallbackURL: flow.Callback}, flow.Binding, r.PostForm); err != nil {
		h.upstreamFail(w, r, prov.Name, "logout", err)
		return
	}
	h.count("logout", "saml_ok")
	w.Header().Set("Cache-Control", "no-store")
	// Like a sign-in's callback, the last hop after the IdP's form post
	// is a page, not a 302 (continueAfter).
	redirect(continueAfter(w, r), back.Get("target"))
}
