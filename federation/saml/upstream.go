package saml

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	crewsaml "github.com/crewjam/saml"

	"github.com/cognate-auth/cognate/federation"
)

// Begin starts a sign-in: the IdP's SSO URL with an AuthnRequest by the
// HTTP-Redirect binding (signed when RequestSigningAlgorithm is set) and
// req.State as the RelayState. The request's id is the Binding the flow
// keeps, sealed in the browser's state cookie, for Finish.
func (u *Upstream) Begin(ctx context.Context, req federation.Request) (federation.Start, error) {
	sp, err := u.serviceProvider(ctx, req.CallbackURL)
	if err != nil {
		return federation.Start{}, err
	}
	idpURL := sp.GetSSOBindingLocation(crewsaml.HTTPRedirectBinding)
	if idpURL == "" {
		return federation.Start{}, fmt.Errorf("%w: no SingleSignOnService with the HTTP-Redirect binding", ErrMetadata)
	}
	authn, err := sp.MakeAuthenticationRequest(idpURL, crewsaml.HTTPRedirectBinding, crewsaml.HTTPPostBinding)
	if err != nil {
		return federation.Start{}, fmt.Errorf("saml: authentication request: %w", err)
	}
	to, err := authn.Redirect(req.State, sp)
	if err != nil {
		return federation.Start{}, fmt.Errorf("saml: redirect binding: %w", err)
	}
	u.svc.log.InfoContext(ctx, "saml sign-in started", "pool", u.p.PoolID, "provider", u.p.Name, "request", authn.ID)
	return federation.Start{URL: to.String(), Binding: authn.ID, FormPost: true}, nil
}

// Finish checks the response the IdP posted (params: the form's
// SAMLResponse and RelayState) and returns the identity it asserts.
//
// binding is the id of the AuthnRequest Begin sent, which the response
// must answer; it is claimed once, so a second response to one request is
// refused. An empty binding is an IdP-initiated sign-in (the browser had
// no sign-in in progress), refused unless the provider has IDPInit true.
// The response or its assertion must be signed by a key in the IdP's
// metadata, addressed to this pool's entity id, sent to the callback,
// within its validity window (crewjam/saml allows MaxClockSkew), encrypted
// when EncryptedResponses is true, and its assertion id never seen
// before.
func (u *Upstream) Finish(ctx context.Context, req federation.Request, binding string, params url.Values) (federation.Identity, error) {
	id, err := u.finish(ctx, req, binding, params)
	if err != nil {
		u.svc.log.WarnContext(ctx, "saml response refused", "pool", u.p.PoolID, "provider", u.p.Name, "idp_initiated", binding == "", "err", err)
		return federation.Identity{}, err
	}
	u.svc.log.InfoContext(ctx, "saml sign-in", "pool", u.p.PoolID, "provider", u.p.Name, "idp_initiated", binding == "")
	return id, nil
}

func (u *Upstream) finish(ctx context.Context, req federation.Request, binding string, params url.Values) (federation.Identity, error) {
	if binding == "" && !u.d.idpInit {
		return federation.Identity{}, ErrUnsolicited
	}
	raw := params.Get("SAMLResponse")
	if raw == "" {
		return federation.Identity{}, fmt.Errorf("%w: no SAMLResponse", ErrMalformed)
	}
	doc, err := decodeResponse(raw)
	if err != nil {
		return federation.Identity{}, err
	}
	sh, err := inspect(doc)
	if err != nil {
		return federation.Identity{}, err
	}
	if u.d.encrypted && sh.assertions == 1 && !sh.encrypted {
		return federation.Identity{}, ErrNotEncrypted
	}
	if sh.assertions == 1 && !sh.encrypted && !sh.signed {
		return federation.Identity{}, fmt.Errorf("%w: neither the response nor the assertion is signed", ErrSignature)
	}
	sp, err := u.serviceProvider(ctx, req.CallbackURL)
	if err != nil {
		return federation.Identity{}, err
	}
	var ids []string
	if binding != "" {
		ids = []string{binding}
	}
	a, err := sp.ParseXMLResponse(doc, ids, sp.AcsURL)
	if err != nil {
		return federation.Identity{}, classify(err)
	}
	if binding != "" {
		// One response per request, across nodes, whatever the flow's own
		// state does.
		ok, err := u.svc.store.ClaimOnce(ctx, claimKey("saml-request", u.p.PoolID+"\x00"+u.p.Name, binding), u.svc.now().Add(pendingLife))
		if err != nil {
			return federation.Identity{}, fmt.Errorf("saml: claim request id: %w", err)
		}
		if !ok {
			return federation.Identity{}, fmt.Errorf("%w: request %s answered already", ErrReplayed, binding)
		}
	}
	return identityOf(a)
}

// pendingLife bounds the claim of a request id: longer than any sign-in
// at an IdP.
const pendingLife = 24 * time.Hour

// identityOf is the identity an accepted assertion asserts: the NameID as
// the subject, the IdP's entity id as the issuer, the attributes by Name
// (several values of one attribute joined as "[a, b]"). The email is never
// taken as verified.
func identityOf(a *crewsaml.Assertion) (federation.Identity, error) {
	if a.Subject == nil || a.Subject.NameID == nil || a.Subject.NameID.Value == "" {
		return federation.Identity{}, fmt.Errorf("%w: assertion has no NameID", ErrMalformed)
	}
	values := map[string][]string{}
	var order []string
	for _, st := range a.AttributeStatements {
		for _, at := range st.Attributes {
			if _, seen := values[at.Name]; !seen {
				order = append(order, at.Name)
			}
			for _, v := range at.Values {
				values[at.Name] = append(values[at.Name], v.Value)
			}
		}
	}
	id := federation.Identity{
		Subject:    a.Subject.NameID.Value,
		Issuer:     a.Issuer.Value,
		Attributes: make(map[string]string, len(order)),
	}
	for _, name := range order {
		vs := values[name]
		if len(vs) == 1 {
			id.Attributes[name] = vs[0]
		} else {
			id.Attributes[name] = "[" + strings.Join(vs, ", ") + "]"
		}
	}
	return id, nil
}
