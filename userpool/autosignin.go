package userpool

// Sign-in straight after sign-up (Amplify's autoSignIn): SignUp and
// ConfirmSignUp return a Session, and InitiateAuth USER_AUTH with that
// Session signs the user in without asking for a factor again, once, and
// without MFA.

import (
	"context"
	"errors"

	"github.com/cognate-auth/cognate/storage"
)

// Sealed-state purposes of the sign-up Sessions.
const (
	sealSignedUp  = "signed-up"
	sealConfirmed = "confirmed"
)

// signUpState names the user a sign-up Session belongs to.
type signUpState struct {
	Username string `json:"u"`
	Sub      string `json:"s"`
}

// signUpSession seals the Session a sign-up step returns, for clients
// that may use choice-based sign-in; others get none.
func (s *Service) signUpSession(c storage.Client, p storage.Pool, u storage.User, purpose string) (string, error) {
	if !flowAllowed(c, flowUserAuth) {
		return "", nil
	}
	sess, err := s.sealer.seal(purpose, p.ID+"|"+c.ClientID, s.now(), signUpState{Username: u.Username, Sub: u.Sub})
	if err != nil {
		return "", internal("seal session", err)
	}
	return sess, nil
}

// autoSignIn answers InitiateAuth USER_AUTH with a sign-up Session: the
// one ConfirmSignUp returned, or SignUp's own for a user confirmed at
// sign-up. The Session must name the user in USERNAME, be fresh, and
// not have been used.
func (s *Service) autoSignIn(ctx context.Context, c storage.Client, p storage.Pool, name, session string) (AuthOutput, error) {
	var st signUpState
	bind, ttl, now := p.ID+"|"+c.ClientID, sessionTTL(c), s.now()
	if s.sealer.open(sealConfirmed, bind, session, ttl, now, &st) != nil && s.sealer.open(sealSignedUp, bind, session, ttl, now, &st) != nil {
		return AuthOutput{}, errSessionExpired
	}
	u, err := s.findUser(ctx, p, name)
	switch {
	case errors.Is(err, ErrUserNotFound):
		return AuthOutput{}, errSessionExpired
	case err != nil:
		return AuthOutput{}, err
	case u.Username != st.Username || u.Sub != st.Sub:
		return AuthOutput{}, errSessionExpired
	}
	switch err := s.gate(u); {
	case errors.Is(err, errNewPasswordRequired):
		// An administrator gave the user a temporary password since.
		return AuthOutput{}, errSessionExpired
	case err != nil:
		return AuthOutput{}, err
	}
	// No MFA: as in Cognito, confirming the sign-up was the second
	// factor of this first sign-in.
	claim := oneTimeClaim{key: append([]byte("sign-up/"), hashToken(session)...), until: now.Add(ttl + srpClaimMargin)}
	res, err := s.signIn(ctx, c, p, u, grant{scope: ScopeSignInUserAdmin, claim: claim, newDevice: tracksDevices(p)})
	if err != nil {
		return AuthOutput{}, err
	}
	return AuthOutput{AuthenticationResult: res}, nil
}
