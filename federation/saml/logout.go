package saml

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	crewsaml "github.com/crewjam/saml"

	"github.com/cognate-auth/cognate/federation"
)

// SignOut is a user's SAML session with a provider, kept from the sign-in
// for sign-out.
type SignOut struct {
	NameID       string
	NameIDFormat string
	// SessionIndex, when known, names the session at the IdP.
	SessionIndex string
}

// BeginSignOut starts SP-initiated sign-out at the IdP, as Cognito's
// /logout does for a SAML user when the provider has IDPSignout true: the
// IdP's SingleLogoutService URL with a signed LogoutRequest (HTTP-Redirect
// binding) and req.State as RelayState. The request id is the Binding for
// FinishSignOut; req.CallbackURL is the sign-out endpoint (LogoutPath).
// ErrNoSignOut means the provider has no SAML sign-out.
func (u *Upstream) BeginSignOut(ctx context.Context, req federation.Request, who SignOut) (federation.Start, error) {
	if !u.d.signOut {
		return federation.Start{}, ErrNoSignOut
	}
	sp, err := u.serviceProvider(ctx, "")
	if err != nil {
		return federation.Start{}, err
	}
	if req.CallbackURL != "" {
		slo, err := url.Parse(req.CallbackURL)
		if err != nil || !slo.IsAbs() {
			return federation.Start{}, fmt.Errorf("saml: callback URL %q is not absolute", req.CallbackURL)
		}
		sp.SloURL = *slo
	}
	sloURL := sp.GetSLOBindingLocation(crewsaml.HTTPRedirectBinding)
	if sloURL == "" {
		return federation.Start{}, fmt.Errorf("%w: no SingleLogoutService with the HTTP-Redirect binding", ErrNoSignOut)
	}
	var opts []crewsaml.LogoutRequestOption
	if who.SessionIndex != "" {
		opts = append(opts, crewsaml.WithSessionIndex(who.SessionIndex))
	}
	lr, err := sp.MakeLogoutRequest(sloURL, who.NameID, opts...)
	if err != nil {
		return federation.Start{}, fmt.Errorf("saml: logout request: %w", err)
	}
	if who.NameIDFormat != "" && lr.NameID != nil {
		lr.NameID.Format = who.NameIDFormat
	}
	to, err := sp.RedirectLogoutRequestURL(lr, req.State)
	if err != nil {
		return federation.Start{}, fmt.Errorf("saml: logout redirect: %w", err)
	}
	u.svc.log.InfoContext(ctx, "saml sign-out started", "pool", u.p.PoolID, "provider", u.p.Name, "request", lr.ID)
	return federation.Start{URL: to.String(), Binding: lr.ID, FormPost: true}, nil
}

// FinishSignOut checks the LogoutResponse the IdP posted (params: the
// form's SAMLResponse and RelayState): it must be signed by the IdP and
// answer the LogoutRequest whose id is binding.
func (u *Upstream) FinishSignOut(ctx context.Context, req federation.Request, binding string, params url.Values) error {
	sp, err := u.serviceProvider(ctx, "")
	if err != nil {
		return err
	}
	if req.CallbackURL != "" {
		slo, err := url.Parse(req.CallbackURL)
		if err != nil || !slo.IsAbs() {
			return fmt.Errorf("saml: callback URL %q is not absolute", req.CallbackURL)
		}
		sp.SloURL = *slo
	}
	// crewjam/saml reads a logout response from a request: give it the
	// form as the IdP posted it.
	form := url.Values{"SAMLResponse": {params.Get("SAMLResponse")}}
	if rs := params.Get("RelayState"); rs != "" {
		form.Set("RelayState", rs)
	}
	r, err := http.NewRequestWithContext(ctx, http.MethodPost, sp.SloURL.String(), strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if _, err := sp.ParseLogoutResponse(r, []string{binding}); err != nil {
		err = classify(err)
		u.svc.log.WarnContext(ctx, "saml logout response refused", "pool", u.p.PoolID, "provider", u.p.Name, "err", err)
		return err
	}
	u.svc.log.InfoContext(ctx, "saml sign-out", "pool", u.p.PoolID, "provider", u.p.Name)
	return nil
}
