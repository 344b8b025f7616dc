package userpool

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/cognate-auth/cognate/storage"
)

// Passkeys (WebAuthn), as Cognito does them: a pool's relying party, the
// origins it accepts, and the listing and removal of a user's passkeys.
// Registration is in passkeys_register.go, the WEB_AUTHN sign-in step in
// passkeys_signin.go; the WebAuthn checks themselves are
// github.com/go-webauthn/webauthn's.

// The exceptions of Cognito's passkey operations.
var (
	ErrWebAuthnChallengeNotFound = newErr("WebAuthnChallengeNotFoundException",
		"The passkey registration challenge was not found or has expired.")
	ErrWebAuthnClientMismatch = newErr("WebAuthnClientMismatchException",
		"The access token is for a different client than the one that started the passkey registration.")
	ErrWebAuthnConfigurationMissing = newErr("WebAuthnConfigurationMissingException",
		"The user pool has no passkey relying party id and no domain.")
	ErrWebAuthnCredentialNotSupported = newErr("WebAuthnCredentialNotSupportedException",
		"The passkey credential is not supported.")
	ErrWebAuthnNotEnabled = newErr("WebAuthnNotEnabledException",
		"Passkeys are not enabled for this user pool.")
	ErrWebAuthnOriginNotAllowed = newErr("WebAuthnOriginNotAllowedException",
		"The passkey credential's origin does not match the user pool's relying party id.")
	ErrWebAuthnRelyingPartyMismatch = newErr("WebAuthnRelyingPartyMismatchException",
		"The passkey credential is for a different relying party id than the user pool's.")
)

const (
	// maxPasskeys is Cognito's limit of passkeys per user.
	maxPasskeys = 20
	// registrationTTL is how long a StartWebAuthnRegistration challenge
	// may be answered (Cognito: 5 minutes).
	registrationTTL = 5 * time.Minute
	// User verification requirements (WebAuthnConfiguration).
	uvRequired  = "required"
	uvPreferred = "preferred"
)

// relyingParty is a pool's WebAuthn relying party.
type relyingParty struct {
	id string
	// uv is "required" or "preferred": required makes the authenticator's
	// user-verified flag mandatory in every ceremony.
	uv string
	// localHTTP accepts http://localhost:<port> origins for the RP id
	// "localhost" (outside --production).
	localHTTP bool
}

// relyingParty returns p's relying party: its WebAuthnConfiguration's
// RelyingPartyId, else the host of the public URL the managed login pages
// are served at (loopback addresses become "localhost", the one RP id
// browsers give a local page). Pools whose sign-in policy lacks WEB_AUTHN
// have passkeys turned off.
func (s *Service) relyingParty(p storage.Pool) (relyingParty, error) {
	if !contains(allowedFirstFactors(p), factorWebAuthn) {
		return relyingParty{}, ErrWebAuthnNotEnabled
	}
	// Host names are case-insensitive; the RP id hash is of the lower-case
	// form browsers use.
	rp := relyingParty{id: strings.ToLower(p.Settings.WebAuthnRelyingPartyID), uv: uvPreferred, localHTTP: s.passkeyLocalHTTP}
	if rp.id == "" {
		rp.id = defaultRPID(s.issuerBase)
	}
	if rp.id == "" {
		return relyingParty{}, ErrWebAuthnConfigurationMissing
	}
	if p.Settings.WebAuthnUserVerification == uvRequired {
		rp.uv = uvRequired
	}
	return rp, nil
}

// defaultRPID is the RP id of a pool that names none: the public URL's
// host, "localhost" for a loopback address or none.
func defaultRPID(publicURL string) string {
	u, err := url.Parse(publicURL)
	if err != nil {
		return ""
	}
	host := strings.ToLower(u.Hostname())
	if ip := net.ParseIP(host); ip != nil {
		if ip.IsLoopback() {
			return "localhost"
		}
		return ""
	}
	return host
}

// originAllowed reports whether a ceremony run by a page of origin may
// use rp's id: https://<rpid> or any subdomain's https origin, on any
// port (what browsers themselves allow); and http://localhost:<any port>
// when the RP id is localhost and rp.localHTTP is on.
func (rp relyingParty) originAllowed(origin string) bool {
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" || u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return false
	}
	host := u.Hostname()
	if port := u.Port(); port != "" && !validPort(port) {
		return false
	}
	switch u.Scheme {
	case "https":
		return host == rp.id || strings.HasSuffix(host, "."+rp.id)
	case "http":
		return rp.localHTTP && rp.id == "localhost" && host == "localhost"
	}
	return false
}

func validPort(port string) bool {
	if len(port) > 5 {
		return false
	}
	n := 0
	for _, c := range port {
		if c < '0' || c > '9' {
			return false
		}
		n = n*10 + int(c-'0')
	}
	return n > 0 && n < 1<<16
}

// rpIDHashMatches reports whether an authenticator data's rpIdHash is
// SHA-256 of rp's id.
func (rp relyingParty) rpIDHashMatches(hash []byte) bool {
	want := sha256.Sum256([]byte(rp.id))
	return subtle.ConstantTimeCompare(hash, want[:]) == 1
}

var b64url = base64.RawURLEncoding

// WebAuthnCredentialDescription is one of ListWebAuthnCredentials'
// Credentials.
type WebAuthnCredentialDescription struct {
	CredentialId            string   `json:"CredentialId"`
	FriendlyCredentialName  string   `json:"FriendlyCredentialName"`
	RelyingPartyId          string   `json:"RelyingPartyId"`
	AuthenticatorAttachment string   `json:"AuthenticatorAttachment,omitempty"`
	AuthenticatorTransports []string `json:"AuthenticatorTransports"`
	CreatedAt               Epoch    `json:"CreatedAt"`
}

// ListWebAuthnCredentialsInput is ListWebAuthnCredentials' request.
type ListWebAuthnCredentialsInput struct {
	AccessToken string `json:"AccessToken"`
	MaxResults  *int   `json:"MaxResults"`
	NextToken   string `json:"NextToken"`
}

// ListWebAuthnCredentialsOutput is ListWebAuthnCredentials' response.
type ListWebAuthnCredentialsOutput struct {
	Credentials []WebAuthnCredentialDescription `json:"Credentials"`
	NextToken   string                          `json:"NextToken,omitempty"`
}

// ListWebAuthnCredentials lists the signed-in user's passkeys, a page of
// MaxResults (1-20, 20 by default) at a time, in credential-id order;
// NextToken is the last listed credential's id.
func (s *Service) ListWebAuthnCredentials(ctx context.Context, in ListWebAuthnCredentialsInput) (ListWebAuthnCredentialsOutput, error) {
	ts, err := s.authorize(ctx, in.AccessToken)
	if err != nil {
		return ListWebAuthnCredentialsOutput{}, err
	}
	limit := maxPasskeys
	if in.MaxResults != nil {
		if *in.MaxResults < 1 || *in.MaxResults > maxPasskeys {
			return ListWebAuthnCredentialsOutput{}, invalidParam("1 validation error detected: Value '%d' at 'maxResults' failed to satisfy constraint: Member must have value between 1 and %d", *in.MaxResults, maxPasskeys)
		}
		limit = *in.MaxResults
	}
	var after []byte
	if in.NextToken != "" {
		if after, err = b64url.DecodeString(in.NextToken); err != nil || len(after) == 0 || len(after) > 1023 {
			return ListWebAuthnCredentialsOutput{}, invalidParam("Invalid NextToken")
		}
	}
	creds, err := s.store.ListWebAuthnCredentials(ctx, ts.pool.ID, ts.user.Username, after, limit+1)
	if err != nil {
		return ListWebAuthnCredentialsOutput{}, internal("list passkeys", err)
	}
	out := ListWebAuthnCredentialsOutput{Credentials: []WebAuthnCredentialDescription{}}
	if len(creds) > limit {
		creds = creds[:limit]
		out.NextToken = b64url.EncodeToString(creds[limit-1].ID)
	}
	for _, c := range creds {
		out.Credentials = append(out.Credentials, WebAuthnCredentialDescription{
			CredentialId: b64url.EncodeToString(c.ID), FriendlyCredentialName: c.FriendlyName,
			RelyingPartyId: c.RelyingPartyID, AuthenticatorAttachment: c.Attachment,
			AuthenticatorTransports: append([]string{}, c.Transports...), CreatedAt: Epoch(c.CreatedAt),
		})
	}
	return out, nil
}

// DeleteWebAuthnCredentialInput is DeleteWebAuthnCredential's request.
type DeleteWebAuthnCredentialInput struct {
	AccessToken  string `json:"AccessToken"`
	CredentialId string `json:"CredentialId"`
}

// DeleteWebAuthnCredential removes one of the signed-in user's passkeys;
// another user's, or an unknown id, is ResourceNotFoundException.
func (s *Service) DeleteWebAuthnCredential(ctx context.Context, in DeleteWebAuthnCredentialInput) (Empty, error) {
	ts, err := s.authorize(ctx, in.AccessToken)
	if err != nil {
		return Empty{}, err
	}
	if in.CredentialId == "" {
		return Empty{}, invalidParam("1 validation error detected: Value at 'credentialId' failed to satisfy constraint: Member must not be null")
	}
	notFound := errorf(ErrResourceNotFound, "Credential not found.")
	id, err := b64url.DecodeString(in.CredentialId)
	if err != nil || len(id) == 0 {
		return Empty{}, notFound
	}
	err = s.store.Atomic(ctx, func(ctx context.Context, tx storage.Storage) error {
		c, err := tx.GetWebAuthnCredential(ctx, ts.pool.ID, id)
		if err != nil {
			return err
		}
		if c.Username != ts.user.Username {
			return storage.ErrNotFound
		}
		return tx.DeleteWebAuthnCredential(ctx, ts.pool.ID, id)
	})
	if errors.Is(err, storage.ErrNotFound) {
		return Empty{}, notFound
	}
	if err != nil {
		return Empty{}, internal("delete passkey", err)
	}
	return Empty{}, nil
}
