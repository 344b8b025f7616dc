package userpool

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/protocol/webauthncose"

	"github.com/cognate-auth/cognate/storage"
)

// sealWebAuthnRegistration is the sealed-state purpose of a registration
// challenge.
const sealWebAuthnRegistration = "webauthn-registration"

// registrationState is what a registration challenge carries. The
// challenge handed to the authenticator is this state sealed (see
// seal.go): CompleteWebAuthnRegistration has no Session, and the browser
// returns the challenge inside clientDataJSON, so the state travels there,
// and a one-time claim on its hash makes it single-use across nodes.
type registrationState struct {
	Username string `json:"u"`
	Sub      string `json:"s"`
	ClientID string `json:"c"`
	// Nonce makes every challenge unique even within one millisecond.
	Nonce []byte `json:"n"`
}

// credentialParameters are the public-key algorithms passkeys may use:
// ES256 and RS256, as Cognito offers.
var credentialParameters = []protocol.CredentialParameter{
	{Type: protocol.PublicKeyCredentialType, Algorithm: webauthncose.AlgES256},
	{Type: protocol.PublicKeyCredentialType, Algorithm: webauthncose.AlgRS256},
}

// authenticatorTransports are the transports a credential may list.
var authenticatorTransports = []string{"usb", "nfc", "ble", "smart-card", "hybrid", "internal"}

// Registration options, the JSON form of PublicKeyCredentialCreationOptions
// Cognito returns as CredentialCreationOptions.
type (
	creationOptions struct {
		Challenge              string                 `json:"challenge"`
		RP                     rpEntity               `json:"rp"`
		User                   userEntity             `json:"user"`
		PubKeyCredParams       []credParam            `json:"pubKeyCredParams"`
		Timeout                int64                  `json:"timeout"`
		ExcludeCredentials     []credentialDescriptor `json:"excludeCredentials"`
		AuthenticatorSelection authenticatorSelection `json:"authenticatorSelection"`
		Attestation            string                 `json:"attestation"`
		Extensions             map[string]bool        `json:"extensions"`
	}
	rpEntity struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	}
	userEntity struct {
		ID          string `json:"id"`
		Name        string `json:"name"`
		DisplayName string `json:"displayName"`
	}
	credParam struct {
		Type string `json:"type"`
		Alg  int64  `json:"alg"`
	}
	credentialDescriptor struct {
		Type       string   `json:"type"`
		ID         string   `json:"id"`
		Transports []string `json:"transports,omitempty"`
	}
	authenticatorSelection struct {
		RequireResidentKey bool   `json:"requireResidentKey"`
		ResidentKey        string `json:"residentKey"`
		UserVerification   string `json:"userVerification"`
	}
)

// StartWebAuthnRegistrationOutput is StartWebAuthnRegistration's response.
type StartWebAuthnRegistrationOutput struct {
	CredentialCreationOptions any `json:"CredentialCreationOptions"`
}

// StartWebAuthnRegistration returns the options the signed-in user's
// authenticator creates a passkey with: the pool's relying party, a
// challenge valid for five minutes, the user's handle (the sub) and the
// passkeys the user has already, which the authenticator declines to
// register twice.
func (s *Service) StartWebAuthnRegistration(ctx context.Context, in AccessTokenInput) (StartWebAuthnRegistrationOutput, error) {
	ts, err := s.authorize(ctx, in.AccessToken)
	if err != nil {
		return StartWebAuthnRegistrationOutput{}, err
	}
	rp, err := s.relyingParty(ts.pool)
	if err != nil {
		return StartWebAuthnRegistrationOutput{}, err
	}
	have, err := s.store.ListWebAuthnCredentials(ctx, ts.pool.ID, ts.user.Username, nil, 0)
	if err != nil {
		return StartWebAuthnRegistrationOutput{}, internal("list passkeys", err)
	}
	if len(have) >= maxPasskeys {
		return StartWebAuthnRegistrationOutput{}, errorf(ErrLimitExceeded, "A user can register at most %d passkeys.", maxPasskeys)
	}
	st := registrationState{Username: ts.user.Username, Sub: ts.user.Sub, ClientID: ts.claims.ClientID, Nonce: make([]byte, 16)}
	if _, err := rand.Read(st.Nonce); err != nil {
		return StartWebAuthnRegistrationOutput{}, internal("challenge", err)
	}
	sealed, err := s.sealer.seal(sealWebAuthnRegistration, ts.pool.ID, s.now(), st)
	if err != nil {
		return StartWebAuthnRegistrationOutput{}, internal("seal challenge", err)
	}
	raw, err := base64.StdEncoding.DecodeString(sealed)
	if err != nil {
		return StartWebAuthnRegistrationOutput{}, internal("seal challenge", err)
	}
	name := ts.user.Username
	if e := ts.user.Attributes["email"]; e != "" && signsInByEmail(ts.pool) {
		name = e
	}
	opts := creationOptions{
		Challenge: b64url.EncodeToString(raw),
		RP:        rpEntity{ID: rp.id, Name: rp.id},
		User:      userEntity{ID: b64url.EncodeToString([]byte(ts.user.Sub)), Name: name, DisplayName: name},
		Timeout:   registrationTTL.Milliseconds(),
		AuthenticatorSelection: authenticatorSelection{
			RequireResidentKey: true, ResidentKey: "required", UserVerification: rp.uv,
		},
		ExcludeCredentials: descriptors(have),
		Attestation:        "none",
		Extensions:         map[string]bool{"credProps": true},
	}
	for _, p := range credentialParameters {
		opts.PubKeyCredParams = append(opts.PubKeyCredParams, credParam{Type: string(p.Type), Alg: int64(p.Algorithm)})
	}
	return StartWebAuthnRegistrationOutput{CredentialCreationOptions: opts}, nil
}

func descriptors(creds []storage.WebAuthnCredential) []credentialDescriptor {
	out := []credentialDescriptor{}
	for _, c := range creds {
		out = append(out, credentialDescriptor{Type: "public-key", ID: b64url.EncodeToString(c.ID), Transports: c.Transports})
	}
	return out
}

// CompleteWebAuthnRegistrationInput is CompleteWebAuthnRegistration's
// request; Credential is a RegistrationResponseJSON document.
type CompleteWebAuthnRegistrationInput struct {
	AccessToken string          `json:"AccessToken"`
	Credential  json.RawMessage `json:"Credential"`
}

// CompleteWebAuthnRegistration verifies the authenticator's answer to a
// StartWebAuthnRegistration challenge and stores the passkey: the
// challenge (sealed by this server, unexpired, for this user, from this
// client, unused), the origin and RP id, the attestation, and user
// verification when the pool requires it.
func (s *Service) CompleteWebAuthnRegistration(ctx context.Context, in CompleteWebAuthnRegistrationInput) (Empty, error) {
	ts, err := s.authorize(ctx, in.AccessToken)
	if err != nil {
		return Empty{}, err
	}
	rp, err := s.relyingParty(ts.pool)
	if err != nil {
		return Empty{}, err
	}
	if len(in.Credential) == 0 || string(in.Credential) == "null" {
		return Empty{}, invalidParam("1 validation error detected: Value at 'credential' failed to satisfy constraint: Member must not be null")
	}
	if in.Credential[0] != '{' {
		return Empty{}, invalidParam("Credential must be a RegistrationResponseJSON object.")
	}
	pcc, err := protocol.ParseCredentialCreationResponseBytes(in.Credential)
	if err != nil {
		return Empty{}, errorf(ErrWebAuthnCredentialNotSupported, "The passkey credential could not be read: %s", protocolReason(err))
	}
	cd := pcc.Response.CollectedClientData
	st, claim, err := s.openRegistration(ts, cd.Challenge)
	if err != nil {
		return Empty{}, err
	}
	if !rp.originAllowed(cd.Origin) {
		return Empty{}, ErrWebAuthnOriginNotAllowed
	}
	authData := pcc.Response.AttestationObject.AuthData
	if !rp.rpIDHashMatches(authData.RPIDHash) {
		return Empty{}, ErrWebAuthnRelyingPartyMismatch
	}
	if _, err := pcc.Verify(cd.Challenge, rp.id, []string{cd.Origin}, nil, nil, protocol.TopOriginExplicitVerificationMode,
		false, rp.uv == uvRequired, true, nil, credentialParameters, protocol.AttestationPolicy{}, protocol.SignaturePolicy{}); err != nil {
		return Empty{}, errorf(ErrWebAuthnCredentialNotSupported, "The passkey credential was refused: %s", protocolReason(err))
	}
	now := s.now()
	cred := storage.WebAuthnCredential{
		PoolID: ts.pool.ID, ID: authData.AttData.CredentialID, Username: st.Username,
		PublicKey: authData.AttData.CredentialPublicKey, SignCount: int64(authData.Counter),
		RelyingPartyID: rp.id, FriendlyName: friendlyName(pcc.AuthenticatorAttachment),
		Attachment: string(pcc.AuthenticatorAttachment), AAGUID: authData.AttData.AAGUID, CreatedAt: now,
	}
	for _, t := range pcc.Response.Transports {
		if slices.Contains(authenticatorTransports, string(t)) && !slices.Contains(cred.Transports, string(t)) {
			cred.Transports = append(cred.Transports, string(t))
		}
	}
	err = s.store.Atomic(ctx, func(ctx context.Context, tx storage.Storage) error {
		won, err := tx.ClaimOnce(ctx, claim.key, claim.until)
		if err != nil {
			return err
		}
		if !won {
			return ErrWebAuthnChallengeNotFound
		}
		have, err := tx.ListWebAuthnCredentials(ctx, ts.pool.ID, st.Username, nil, 0)
		if err != nil {
			return err
		}
		if len(have) >= maxPasskeys {
			return errorf(ErrLimitExceeded, "A user can register at most %d passkeys.", maxPasskeys)
		}
		return tx.CreateWebAuthnCredential(ctx, cred)
	})
	var e *Error
	switch {
	case errors.As(err, &e):
		return Empty{}, err
	case errors.Is(err, storage.ErrAlreadyExists):
		return Empty{}, errorf(ErrWebAuthnCredentialNotSupported, "This passkey is registered already.")
	case err != nil:
		return Empty{}, internal("store passkey", err)
	}
	return Empty{}, nil
}

// openRegistration opens the registration state a challenge carries and
// checks it was issued to this user through this client. The claim makes
// the challenge single-use.
func (s *Service) openRegistration(ts tokenSubject, challenge string) (registrationState, oneTimeClaim, error) {
	var st registrationState
	raw, err := b64url.DecodeString(challenge)
	if err != nil {
		return st, oneTimeClaim{}, ErrWebAuthnChallengeNotFound
	}
	now := s.now()
	if err := s.sealer.open(sealWebAuthnRegistration, ts.pool.ID, base64.StdEncoding.EncodeToString(raw), registrationTTL, now, &st); err != nil {
		return st, oneTimeClaim{}, ErrWebAuthnChallengeNotFound
	}
	if st.Username != ts.user.Username || st.Sub != ts.user.Sub {
		return st, oneTimeClaim{}, ErrWebAuthnChallengeNotFound
	}
	if st.ClientID != ts.claims.ClientID {
		return st, oneTimeClaim{}, ErrWebAuthnClientMismatch
	}
	key := sha256.Sum256(append([]byte(sealWebAuthnRegistration+"\x00"), raw...))
	// The seal refuses a challenge older than registrationTTL (and one
	// dated up to a minute ahead), so the claim need not outlive that.
	return st, oneTimeClaim{key: key[:], until: now.Add(registrationTTL + 2*time.Minute)}, nil
}

// friendlyName names a new passkey by where it lives; Cognito names it
// after the authenticator's make when it knows it.
func friendlyName(a protocol.AuthenticatorAttachment) string {
	switch a {
	case protocol.Platform:
		return "Platform passkey"
	case protocol.CrossPlatform:
		return "Security key"
	}
	return "Passkey"
}

// protocolReason is the library's short description of a refused
// ceremony, safe to return: it names the failed check, not key material.
func protocolReason(err error) string {
	var pe *protocol.Error
	if errors.As(err, &pe) && pe.Details != "" {
		return pe.Details
	}
	return "invalid credential"
}
