package userpool

// Choice-based sign-in on the managed login pages: the username alone,
// then a code by email or text, or the password (SELECT_CHALLENGE), on
// Sessions marked hosted like the pages' MFA steps (login_steps.go).

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/cognate-auth/cognate/storage"
)

// pageFactors are the first factors a managed page answers with a form:
// a passkey has its own button (PasskeyLogin), and SRP needs a client.
var pageFactors = []string{factorEmailOTP, factorSMSOTP, factorPassword}

// CodeSignInAllowed reports whether the managed pages offer sign-in with
// a one-time code for clientID: the pool's sign-in policy has EMAIL_OTP
// or SMS_OTP and the client allows USER_AUTH.
func (s *Service) CodeSignInAllowed(ctx context.Context, clientID string) bool {
	c, p, err := s.client(ctx, clientID)
	if err != nil || !flowAllowed(c, flowUserAuth) {
		return false
	}
	f := allowedFirstFactors(p)
	return contains(f, factorEmailOTP) || contains(f, factorSMSOTP)
}

// LoginChoose starts a choice-based sign-in on the managed pages: a
// SELECT_CHALLENGE step whose Parameters["AvailableChallenges"] (JSON)
// lists what the user can answer on a page (EMAIL_OTP, SMS_OTP,
// PASSWORD). A name with no user gets a decoy step of the same shape,
// as the API's USER_AUTH does. Answer it with LoginRespond.
func (s *Service) LoginChoose(ctx context.Context, clientID, username string) (LoginResult, error) {
	if !s.CodeSignInAllowed(ctx, clientID) {
		return LoginResult{}, errorf(ErrNotAuthorized, "USER_AUTH flow not enabled for this client")
	}
	c, p, err := s.client(ctx, clientID)
	if err != nil {
		return LoginResult{}, err
	}
	out, err := s.startUserAuth(ctx, c, p, map[string]string{"USERNAME": username}, "", true)
	if err != nil {
		return LoginResult{}, err
	}
	return loginResultOf(username, out), nil
}

// loginChoiceRespond answers a step of LoginChoose's sign-in; ok is
// false when session is not one of its Sessions.
func (s *Service) loginChoiceRespond(ctx context.Context, c storage.Client, p storage.Pool, challenge, session string, responses map[string]string) (res LoginResult, ok bool, err error) {
	var st userAuthState
	if s.sealer.open(sealUserAuth, p.ID+"|"+c.ClientID, session, sessionTTL(c), s.now(), &st) != nil {
		return LoginResult{}, false, nil
	}
	if challenge == challengeSelect && !contains(pageFactors, responses["ANSWER"]) {
		return LoginResult{}, true, invalidParam("Invalid ANSWER %.32q: a page answers with one of %v", responses["ANSWER"], pageFactors)
	}
	cr := make(map[string]string, len(responses)+1)
	for k, v := range responses {
		cr[k] = v
	}
	cr["USERNAME"] = st.Username
	out, _, err := s.respondUserAuth(ctx, c, p, RespondToAuthChallengeInput{ChallengeName: challenge, Session: session, ChallengeResponses: cr}, true)
	if err != nil {
		return LoginResult{}, true, err
	}
	return loginResultOf(st.Username, out), true, nil
}

// hostedAfterPassword is afterPassword for a page's choice-based sign-in:
// the MFA step the pool asks for, or the user signed in (no tokens).
func (s *Service) hostedAfterPassword(ctx context.Context, c storage.Client, p storage.Pool, u storage.User, claim oneTimeClaim) (AuthOutput, error) {
	switch err := s.gate(u); {
	case errors.Is(err, errNewPasswordRequired):
		if err := s.claimAlone(ctx, claim); err != nil {
			return AuthOutput{}, err
		}
		return s.newPasswordChallenge(c, p, u)
	case err != nil:
		return AuthOutput{}, err
	}
	if err := s.postAuthentication(ctx, p, c.ClientID, u); err != nil {
		return AuthOutput{}, err
	}
	return s.hostedNext(ctx, c, p, u, claim)
}

// loginResultOf turns a hosted step's answer into the pages' result.
func loginResultOf(username string, out AuthOutput) LoginResult {
	switch {
	case out.signedIn != "":
		return LoginResult{Username: out.signedIn}
	case out.ChallengeName == "NEW_PASSWORD_REQUIRED":
		return LoginResult{Username: username, NewPasswordSession: out.Session}
	}
	params := make(map[string]string, len(out.ChallengeParameters)+1)
	for k, v := range out.ChallengeParameters {
		params[k] = v
	}
	if out.ChallengeName == challengeSelect {
		var page []string
		for _, f := range out.AvailableChallenges {
			if contains(pageFactors, f) {
				page = append(page, f)
			}
		}
		b, _ := json.Marshal(page)
		params["AvailableChallenges"] = string(b)
	}
	return LoginResult{Username: username, Step: &LoginStep{Challenge: out.ChallengeName, Session: out.Session, Parameters: params}}
}
