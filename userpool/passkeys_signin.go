package userpool

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"time"

	"github.com/go-webauthn/webauthn/protocol"

	"github.com/cognate-auth/cognate/storage"
)

// sealWebAuthnSignIn is the sealed-state purpose of a WEB_AUTHN
// challenge's Session.
const sealWebAuthnSignIn = "webauthn-sign-in"

// webAuthnState is what a WEB_AUTHN challenge's Session carries.
type webAuthnState struct {
	Username string `json:"u"`
	Sub      string `json:"s"`
	// Challenge is the base64url challenge the assertion must sign.
	Challenge string `json:"c"`
	// Hosted marks a managed-login step (login_passkey.go): it ends in
	// the browser's login session, never in API tokens, and the other
	// way round.
	Hosted bool `json:"h,omitempty"`
}

// requestOptions is the JSON form of PublicKeyCredentialRequestOptions,
// sent as the challenge's CREDENTIAL_REQUEST_OPTIONS.
type requestOptions struct {
	Challenge        string                 `json:"challenge"`
	Timeout          int64                  `json:"timeout"`
	RPID             string                 `json:"rpId"`
	AllowCredentials []credentialDescriptor `json:"allowCredentials"`
	UserVerification string                 `json:"userVerification"`
}

// errWebAuthnRefused answers an assertion that does not prove the user:
// which check failed is logged, not told.
var errWebAuthnRefused = errorf(ErrNotAuthorized, "Incorrect passkey credential.")

// passkeySignIn is passkeys' part in choice-based sign-in (USER_AUTH).
type passkeySignIn struct{ s *Service }

// hasCredential reports whether u has registered a passkey.
func (ps passkeySignIn) hasCredential(ctx context.Context, u storage.User) (bool, error) {
	creds, err := ps.s.store.ListWebAuthnCredentials(ctx, u.PoolID, u.Username, nil, 1)
	return len(creds) > 0, err
}

// startWebAuthn is the WEB_AUTHN challenge: request options naming the
// user's passkeys and a fresh challenge, which the Session carries.
func (ps passkeySignIn) startWebAuthn(ctx context.Context, c storage.Client, p storage.Pool, u storage.User) (AuthOutput, error) {
	creds, err := ps.s.store.ListWebAuthnCredentials(ctx, p.ID, u.Username, nil, 0)
	if err != nil {
		return AuthOutput{}, internal("list passkeys", err)
	}
	if len(creds) == 0 {
		return AuthOutput{}, errorf(ErrNotAuthorized, "The user has no passkey.")
	}
	return ps.s.webAuthnChallenge(c, p, webAuthnState{Username: u.Username, Sub: u.Sub}, descriptors(creds))
}

// webAuthnChallenge seals st with a fresh challenge into the WEB_AUTHN
// step's Session, with request options allowing creds.
func (s *Service) webAuthnChallenge(c storage.Client, p storage.Pool, st webAuthnState, creds []credentialDescriptor) (AuthOutput, error) {
	rp, err := s.relyingParty(p)
	if err != nil {
		return AuthOutput{}, err
	}
	challenge := make([]byte, 32)
	if _, err := rand.Read(challenge); err != nil {
		return AuthOutput{}, internal("challenge", err)
	}
	st.Challenge = b64url.EncodeToString(challenge)
	sess, err := s.sealer.seal(sealWebAuthnSignIn, p.ID+"|"+c.ClientID, s.now(), st)
	if err != nil {
		return AuthOutput{}, internal("seal session", err)
	}
	opts, err := json.Marshal(requestOptions{
		Challenge: st.Challenge, Timeout: sessionTTL(c).Milliseconds(), RPID: rp.id,
		AllowCredentials: creds, UserVerification: rp.uv,
	})
	if err != nil {
		return AuthOutput{}, internal("request options", err)
	}
	return AuthOutput{
		ChallengeName: factorWebAuthn, Session: sess,
		ChallengeParameters: map[string]string{"CREDENTIAL_REQUEST_OPTIONS": string(opts)},
	}, nil
}

// respondWebAuthn answers the WEB_AUTHN challenge: the assertion in
// CREDENTIAL must come from one of the Session's user's passkeys, over
// the Session's challenge, from an allowed origin for the pool's RP id,
// with a valid signature, user presence (and verification when the pool
// requires it) and a sign count above the stored one. The challenge is
// used once, and the new count stored, in one transaction before tokens
// are issued; a refused assertion writes nothing.
func (s *Service) respondWebAuthn(ctx context.Context, c storage.Client, p storage.Pool, session string, cr map[string]string) (AuthOutput, error) {
	u, err := s.proveWebAuthn(ctx, c, p, session, cr["CREDENTIAL"], false)
	if err != nil {
		return AuthOutput{}, err
	}
	res, err := s.signIn(ctx, c, p, u, grant{scope: ScopeSignInUserAdmin, newDevice: tracksDevices(p)})
	if err != nil {
		return AuthOutput{}, err
	}
	return AuthOutput{AuthenticationResult: res}, nil
}

// proveWebAuthn runs respondWebAuthn's checks on the assertion raw
// against a Session of the same kind (hosted or API) and returns the user
// it proves.
func (s *Service) proveWebAuthn(ctx context.Context, c storage.Client, p storage.Pool, session, raw string, hosted bool) (storage.User, error) {
	var st webAuthnState
	if err := s.sealer.open(sealWebAuthnSignIn, p.ID+"|"+c.ClientID, session, sessionTTL(c), s.now(), &st); err != nil || st.Hosted != hosted {
		return storage.User{}, errReplayed
	}
	rp, err := s.relyingParty(p)
	if err != nil {
		return storage.User{}, err
	}
	if raw == "" {
		return storage.User{}, invalidParam("Missing required parameter CREDENTIAL")
	}
	par, err := protocol.ParseCredentialRequestResponseBytes([]byte(raw))
	if err != nil {
		return storage.User{}, invalidParam("Invalid CREDENTIAL: %s", protocolReason(err))
	}
	u, cred, err := s.assertionSubject(ctx, p, st, par)
	if err != nil {
		return storage.User{}, err
	}
	if err := s.verifyAssertion(rp, st, par, cred); err != nil {
		return storage.User{}, err
	}
	switch err := s.gate(u); {
	case errors.Is(err, errNewPasswordRequired):
		return storage.User{}, errWebAuthnRefused
	case err != nil:
		return storage.User{}, err
	}
	if err := s.useAssertion(ctx, c, p, st, cred, par.Response.AuthenticatorData.Counter); err != nil {
		return storage.User{}, err
	}
	return u, nil
}

// assertionSubject finds the Session's user and the passkey the assertion
// names, which must be that user's: by credential id and, when the
// authenticator sent one, by user handle (the sub).
func (s *Service) assertionSubject(ctx context.Context, p storage.Pool, st webAuthnState, par *protocol.ParsedCredentialAssertionData) (storage.User, storage.WebAuthnCredential, error) {
	u, err := s.store.GetUser(ctx, p.ID, st.Username)
	if errors.Is(err, storage.ErrNotFound) {
		return u, storage.WebAuthnCredential{}, errReplayed
	}
	if err != nil {
		return u, storage.WebAuthnCredential{}, internal("get user", err)
	}
	if u.Sub != st.Sub {
		return u, storage.WebAuthnCredential{}, errReplayed
	}
	cred, err := s.store.GetWebAuthnCredential(ctx, p.ID, par.RawID)
	if errors.Is(err, storage.ErrNotFound) || (err == nil && cred.Username != u.Username) {
		s.log.InfoContext(ctx, "passkey sign-in refused", "pool", p.ID, "reason", "credential not the user's")
		return u, cred, errWebAuthnRefused
	}
	if err != nil {
		return u, cred, internal("get passkey", err)
	}
	if h := par.Response.UserHandle; len(h) > 0 && subtle.ConstantTimeCompare(h, []byte(u.Sub)) != 1 {
		s.log.InfoContext(ctx, "passkey sign-in refused", "pool", p.ID, "reason", "user handle")
		return u, cred, errWebAuthnRefused
	}
	return u, cred, nil
}

// verifyAssertion runs the ceremony's checks that need no storage.
func (s *Service) verifyAssertion(rp relyingParty, st webAuthnState, par *protocol.ParsedCredentialAssertionData, cred storage.WebAuthnCredential) error {
	cd := par.Response.CollectedClientData
	if subtle.ConstantTimeCompare([]byte(cd.Challenge), []byte(st.Challenge)) != 1 {
		s.log.Info("passkey sign-in refused", "reason", "challenge")
		return errWebAuthnRefused
	}
	if !rp.originAllowed(cd.Origin) {
		return ErrWebAuthnOriginNotAllowed
	}
	if !rp.rpIDHashMatches(par.Response.AuthenticatorData.RPIDHash) || cred.RelyingPartyID != rp.id {
		return ErrWebAuthnRelyingPartyMismatch
	}
	if err := par.Verify(st.Challenge, rp.id, "", []string{cd.Origin}, nil, nil, protocol.TopOriginExplicitVerificationMode,
		false, rp.uv == uvRequired, true, cred.PublicKey, protocol.SignaturePolicy{}); err != nil {
		s.log.Info("passkey sign-in refused", "reason", protocolReason(err))
		return errWebAuthnRefused
	}
	return nil
}

// useAssertion spends the challenge and stores the new sign count, in one
// transaction: a count not above the stored one (unless the authenticator
// keeps none, both 0) may be a cloned authenticator and is refused, as is
// a second use of the challenge.
func (s *Service) useAssertion(ctx context.Context, c storage.Client, p storage.Pool, st webAuthnState, cred storage.WebAuthnCredential, count uint32) error {
	now := s.now()
	key := sha256.Sum256([]byte(sealWebAuthnSignIn + "\x00" + p.ID + "\x00" + st.Challenge))
	errCount := errorf(ErrNotAuthorized, "Incorrect passkey credential.")
	err := s.store.Atomic(ctx, func(ctx context.Context, tx storage.Storage) error {
		won, err := tx.ClaimOnce(ctx, key[:], now.Add(sessionTTL(c)+2*time.Minute))
		if err != nil {
			return err
		}
		if !won {
			return errReplayed
		}
		return tx.UpdateWebAuthnCredential(ctx, p.ID, cred.ID, func(w storage.WebAuthnCredential) (storage.WebAuthnCredential, error) {
			if (count != 0 || w.SignCount != 0) && int64(count) <= w.SignCount {
				return w, errCount
			}
			w.SignCount, w.LastUsedAt = int64(count), now
			return w, nil
		})
	})
	var e *Error
	switch {
	case errors.As(err, &e):
		if e == errCount {
			s.log.WarnContext(ctx, "passkey sign-in refused: sign count not increasing (a cloned authenticator?)", "pool", p.ID, "stored", cred.SignCount, "got", count)
		}
		return err
	case errors.Is(err, storage.ErrNotFound):
		return errWebAuthnRefused
	case err != nil:
		return internal("use passkey", err)
	}
	return nil
}
