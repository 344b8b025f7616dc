package userpool

// The managed login pages' further steps: the MFA challenges of
// challenges.go, answered through the pages rather than the JSON API.
// Their Sessions are marked hosted, so each kind ends where it began: a
// hosted step in the browser's login session, an API step in tokens.

import (
	"context"

	"github.com/cognate-auth/cognate/storage"
)

// LoginStep is a further step of a managed-login sign-in: Challenge is
// SOFTWARE_TOKEN_MFA, SMS_MFA, EMAIL_OTP, SELECT_MFA_TYPE or MFA_SETUP,
// with Cognito's ChallengeParameters, and Session goes back with the
// answer (LoginRespond). An MFA_SETUP step's authenticator app is set up
// with AssociateSoftwareToken and VerifySoftwareToken on Session.
type LoginStep struct {
	Challenge  string
	Session    string
	Parameters map[string]string
}

// loginNext is what follows a proven password on the pages: the user
// signed in, or the MFA step the pool asks for.
func (s *Service) loginNext(ctx context.Context, c storage.Client, p storage.Pool, u storage.User) (LoginResult, error) {
	out, err := s.hostedNext(ctx, c, p, u, oneTimeClaim{})
	if err != nil {
		return LoginResult{}, err
	}
	return loginResultOf(u.Username, out), nil
}

// hostedNext ends a page's first factor: claim is made, then the user is
// signed in (no tokens), or gets the MFA step the pool asks for on a
// Session marked hosted.
func (s *Service) hostedNext(ctx context.Context, c storage.Client, p storage.Pool, u storage.User, claim oneTimeClaim) (AuthOutput, error) {
	next := nextAfterFirstFactor(p, u)
	if next.challenge == challengeMFASetup && len(next.choices) == 0 {
		return AuthOutput{}, errorf(ErrNotAuthorized, "MFA is required, but the user pool offers no factor this user can set up.")
	}
	if err := s.claimAlone(ctx, claim); err != nil {
		return AuthOutput{}, err
	}
	if next.challenge == "" {
		return AuthOutput{signedIn: u.Username}, nil
	}
	return s.mfaChallenge(ctx, c, p, u, mfaState{Challenge: next.challenge, Choices: next.choices, Hosted: true})
}

// LoginRespond answers a managed-login step (responses as
// RespondToAuthChallenge's ChallengeResponses: SOFTWARE_TOKEN_MFA_CODE,
// SMS_MFA_CODE, EMAIL_OTP_CODE, ANSWER, EMAIL; a passkey step's
// CREDENTIAL). The result names the user once signed in, or the next
// step.
func (s *Service) LoginRespond(ctx context.Context, clientID, challenge, session string, responses map[string]string) (LoginResult, error) {
	c, p, err := s.client(ctx, clientID)
	if err != nil {
		return LoginResult{}, err
	}
	if challenge == factorWebAuthn {
		return s.loginPasskey(ctx, c, p, session, responses["CREDENTIAL"])
	}
	if res, ok, err := s.loginChoiceRespond(ctx, c, p, challenge, session, responses); ok {
		return res, err
	}
	st, err := s.openMFAState(p, c, session, challenge)
	if err != nil {
		return LoginResult{}, err
	}
	cr := make(map[string]string, len(responses)+1)
	for k, v := range responses {
		cr[k] = v
	}
	cr["USERNAME"] = st.Username
	out, err := s.respondMFA(ctx, c, p, challenge, session, cr, true)
	switch {
	case err != nil:
		return LoginResult{}, err
	case out.signedIn != "":
		return LoginResult{Username: out.signedIn}, nil
	}
	return LoginResult{Username: st.Username, Step: &LoginStep{
		Challenge: out.ChallengeName, Session: out.Session, Parameters: out.ChallengeParameters,
	}}, nil
}
