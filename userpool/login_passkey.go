package userpool

// Passkey sign-in on the managed login pages: the WEB_AUTHN step of
// passkeys_signin.go, started from a typed username and answered through
// LoginRespond, on Sessions marked hosted.

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"

	"github.com/cognate-auth/cognate/storage"
)

// PasskeySignInAllowed reports whether the managed login pages of
// clientID offer passkey sign-in: as Cognito's managed login, when the
// pool's sign-in policy allows WEB_AUTHN and the client choice-based
// sign-in (ALLOW_USER_AUTH).
func (s *Service) PasskeySignInAllowed(ctx context.Context, clientID string) bool {
	c, p, err := s.client(ctx, clientID)
	return err == nil && s.passkeys != nil && contains(allowedFirstFactors(p), factorWebAuthn) && flowAllowed(c, flowUserAuth)
}

// PasskeyLogin starts a passkey sign-in on the managed pages: a WEB_AUTHN
// step (CREDENTIAL_REQUEST_OPTIONS, and a hosted Session answered with
// LoginRespond's CREDENTIAL). A name with no user, or a user with no
// passkey, gets the same step, naming a decoy credential derived from the
// name, which no assertion satisfies: the answer tells nothing more.
func (s *Service) PasskeyLogin(ctx context.Context, clientID, username string) (*LoginStep, error) {
	if !s.PasskeySignInAllowed(ctx, clientID) {
		return nil, ErrWebAuthnNotEnabled
	}
	c, p, err := s.client(ctx, clientID)
	if err != nil {
		return nil, err
	}
	if username == "" {
		return nil, invalidParam("Missing required parameter USERNAME")
	}
	u, err := s.findUser(ctx, p, username)
	var creds []storage.WebAuthnCredential
	switch {
	case errors.Is(err, ErrUserNotFound):
	case err != nil:
		return nil, err
	default:
		if creds, err = s.store.ListWebAuthnCredentials(ctx, p.ID, u.Username, nil, 0); err != nil {
			return nil, internal("list passkeys", err)
		}
	}
	st, allow := webAuthnState{Username: u.Username, Sub: u.Sub, Hosted: true}, descriptors(creds)
	if len(creds) == 0 {
		key, err := s.Secret(ctx, "passkey-decoy")
		if err != nil {
			return nil, internal("decoy key", err)
		}
		mac := hmac.New(sha256.New, key)
		mac.Write([]byte(p.ID + "\x00" + lookupName(p, username)))
		// No Sub: the Session's user is never found.
		st = webAuthnState{Username: lookupName(p, username), Hosted: true}
		allow = []credentialDescriptor{{Type: "public-key", ID: b64url.EncodeToString(mac.Sum(nil))}}
	}
	out, err := s.webAuthnChallenge(c, p, st, allow)
	if err != nil {
		return nil, err
	}
	return &LoginStep{Challenge: out.ChallengeName, Session: out.Session, Parameters: out.ChallengeParameters}, nil
}

// loginPasskey answers a hosted WEB_AUTHN step: the API's checks (one
// use, sign count), then post authentication, as a password sign-in.
func (s *Service) loginPasskey(ctx context.Context, c storage.Client, p storage.Pool, session, credential string) (LoginResult, error) {
	u, err := s.proveWebAuthn(ctx, c, p, session, credential, true)
	if err != nil {
		return LoginResult{}, err
	}
	if err := s.postAuthentication(ctx, p, c.ClientID, u); err != nil {
		return LoginResult{}, err
	}
	return LoginResult{Username: u.Username}, nil
}
