package userpool

// Choice-based sign-in (USER_AUTH): the user names a first factor up
// front (PREFERRED_CHALLENGE) or picks one from SELECT_CHALLENGE's
// AvailableChallenges, then proves it — a password, an SRP exchange, a
// one-time code (otp.go), a passkey (the passkey code, through
// passkeyFactor) — or signs in with the Session of a completed sign-up
// (autosignin.go).

import (
	"context"
	"errors"

	"github.com/cognate-auth/cognate/storage"
)

const (
	flowUserAuth = "USER_AUTH"

	challengeSelect      = "SELECT_CHALLENGE"
	challengePasswordSRP = "PASSWORD_SRP"

	// sealUserAuth seals the Session of every USER_AUTH step.
	sealUserAuth = "user-auth"
)

// userAuthState is what a USER_AUTH Session carries: who is signing in
// and which challenge it answers. A name with no user (existence errors
// prevented) gets a decoy state that no answer satisfies.
type userAuthState struct {
	Username string `json:"u"`
	Sub      string `json:"s,omitempty"`
	// Name is the guess-counter subject of a decoy (see lookupName).
	Name      string `json:"n,omitempty"`
	Fake      bool   `json:"f,omitempty"`
	Challenge string `json:"c"`
	// Code fingerprints the one-time code the Session waits for, so that
	// a Session answers only the code sent with it.
	Code []byte `json:"k,omitempty"`
	// Hosted marks a sign-in on the managed login pages (LoginChoose):
	// it ends in the browser's login session, never in API tokens, and
	// an API Session is refused by the pages.
	Hosted bool `json:"h,omitempty"`
}

// subject is whose guesses and sends the state counts.
func (st userAuthState) subject() string {
	if st.Fake {
		return st.Name
	}
	return st.Username
}

func (s *Service) sealUserAuth(c storage.Client, p storage.Pool, st userAuthState) (string, error) {
	sess, err := s.sealer.seal(sealUserAuth, p.ID+"|"+c.ClientID, s.now(), st)
	if err != nil {
		return "", internal("seal session", err)
	}
	return sess, nil
}

// errSessionExpired answers a Session that is not (or no longer) valid.
var errSessionExpired = errorf(ErrNotAuthorized, "Invalid session for the user, session is expired.")

// openUserAuth opens a USER_AUTH Session for challenge, checks that
// USERNAME names its user, and reloads the user, who must be the one the
// Session was issued for (not deleted and created again since).
func (s *Service) openUserAuth(ctx context.Context, c storage.Client, p storage.Pool, session, challenge, username string) (userAuthState, storage.User, error) {
	var st userAuthState
	if err := s.sealer.open(sealUserAuth, p.ID+"|"+c.ClientID, session, sessionTTL(c), s.now(), &st); err != nil || st.Challenge != challenge {
		return st, storage.User{}, errSessionExpired
	}
	if username == "" {
		return st, storage.User{}, invalidParam("Missing required parameter USERNAME")
	}
	if st.Fake {
		if lookupName(p, username) != st.Name {
			return st, storage.User{}, errSessionExpired
		}
		return st, storage.User{}, nil
	}
	u, err := s.findUser(ctx, p, username)
	switch {
	case errors.Is(err, ErrUserNotFound):
		return st, u, errSessionExpired
	case err != nil:
		return st, u, err
	case u.Username != st.Username || u.Sub != st.Sub:
		return st, u, errSessionExpired
	}
	return st, u, nil
}

// sessionClaim makes a Session usable once: the step it completes claims
// it (see oneTimeClaim).
func (s *Service) sessionClaim(c storage.Client, session string) oneTimeClaim {
	return oneTimeClaim{key: append([]byte("user-auth/"), hashToken(session)...), until: s.now().Add(sessionTTL(c) + srpClaimMargin)}
}

// startUserAuth answers InitiateAuth USER_AUTH.
func (s *Service) startUserAuth(ctx context.Context, c storage.Client, p storage.Pool, ap map[string]string, session string, hosted bool) (AuthOutput, error) {
	name := ap["USERNAME"]
	if name == "" {
		return AuthOutput{}, invalidParam("Missing required parameter USERNAME")
	}
	if session != "" {
		return s.autoSignIn(ctx, c, p, name, session)
	}
	pref := ap["PREFERRED_CHALLENGE"]
	switch pref {
	case "", factorPassword, challengePasswordSRP, factorEmailOTP, factorSMSOTP, factorWebAuthn:
	default:
		return AuthOutput{}, invalidParam("Invalid PREFERRED_CHALLENGE %.64q: must be one of PASSWORD, PASSWORD_SRP, EMAIL_OTP, SMS_OTP, WEB_AUTHN", pref)
	}
	u, err := s.findUser(ctx, p, name)
	st := userAuthState{Username: u.Username, Sub: u.Sub, Hosted: hosted}
	var avail []string
	switch {
	case errors.Is(err, ErrUserNotFound) && preventsExistenceErrors(c):
		st = userAuthState{Username: name, Name: lookupName(p, name), Fake: true, Hosted: hosted}
		avail = decoyFactors(p)
	case err != nil:
		return AuthOutput{}, err
	default:
		if avail, err = s.firstFactors(ctx, p, u); err != nil {
			return AuthOutput{}, err
		}
	}
	if pref != "" && contains(avail, pref) {
		return s.startFactor(ctx, c, p, st, u, pref, ap, oneTimeClaim{})
	}
	st.Challenge = challengeSelect
	sess, err := s.sealUserAuth(c, p, st)
	if err != nil {
		return AuthOutput{}, err
	}
	if avail == nil {
		avail = []string{}
	}
	return AuthOutput{ChallengeName: challengeSelect, Session: sess, ChallengeParameters: map[string]string{}, AvailableChallenges: avail}, nil
}

// startFactor begins the first factor f: it is proven at once when the
// request carries its proof (PASSWORD, SRP_A), and otherwise answered
// with the challenge that asks for it. prev is the claim of the Session
// that chose f, made when f's step begins.
func (s *Service) startFactor(ctx context.Context, c storage.Client, p storage.Pool, st userAuthState, u storage.User, f string, params map[string]string, prev oneTimeClaim) (AuthOutput, error) {
	switch f {
	case factorPassword:
		if pw := params["PASSWORD"]; pw != "" {
			return s.userAuthPassword(ctx, c, p, st, pw, params["DEVICE_KEY"], prev)
		}
	case challengePasswordSRP:
		if a := params["SRP_A"]; a != "" {
			if err := s.claimAlone(ctx, prev); err != nil {
				return AuthOutput{}, err
			}
			return s.startSRP(ctx, c, p, st.Username, a)
		}
	case factorEmailOTP, factorSMSOTP:
		if err := s.claimAlone(ctx, prev); err != nil {
			return AuthOutput{}, err
		}
		return s.sendSignInCode(ctx, c, p, st, u, f)
	case factorWebAuthn:
		if st.Fake || s.passkeys == nil || st.Hosted {
			return AuthOutput{}, errSessionExpired
		}
		if err := s.claimAlone(ctx, prev); err != nil {
			return AuthOutput{}, err
		}
		return s.passkeys.startWebAuthn(ctx, c, p, u)
	}
	if err := s.claimAlone(ctx, prev); err != nil {
		return AuthOutput{}, err
	}
	st.Challenge = f
	sess, err := s.sealUserAuth(c, p, st)
	if err != nil {
		return AuthOutput{}, err
	}
	return AuthOutput{ChallengeName: f, Session: sess, ChallengeParameters: map[string]string{"USERNAME": st.Username}}, nil
}

// userAuthPassword proves a password as the first factor; the Session
// that asked for it (claim) is used up by the sign-in it completes.
func (s *Service) userAuthPassword(ctx context.Context, c storage.Client, p storage.Pool, st userAuthState, pw, deviceKey string, claim oneTimeClaim) (AuthOutput, error) {
	name := st.Username
	if st.Fake {
		name = st.Name
	}
	u, err := s.verifyPassword(ctx, c, p, name, pw)
	if err != nil {
		return AuthOutput{}, err
	}
	if u.Sub != st.Sub {
		return AuthOutput{}, errSessionExpired
	}
	if st.Hosted {
		return s.hostedAfterPassword(ctx, c, p, u, claim)
	}
	return s.afterPassword(ctx, c, p, u, deviceKey, claim)
}

// respondUserAuth answers the challenges of choice-based sign-in. It
// reports false for a challenge that is not one of its steps: EMAIL_OTP
// and SMS_OTP are also MFA challenges, which a Session not sealed here
// belongs to.
func (s *Service) respondUserAuth(ctx context.Context, c storage.Client, p storage.Pool, in RespondToAuthChallengeInput, hosted bool) (AuthOutput, bool, error) {
	cr := in.ChallengeResponses
	switch in.ChallengeName {
	case challengeSelect, factorPassword, challengePasswordSRP:
	case factorEmailOTP, factorSMSOTP:
		var st userAuthState
		if s.sealer.open(sealUserAuth, p.ID+"|"+c.ClientID, in.Session, sessionTTL(c), s.now(), &st) != nil {
			return AuthOutput{}, false, nil
		}
	default:
		return AuthOutput{}, false, nil
	}
	st, u, err := s.openUserAuth(ctx, c, p, in.Session, in.ChallengeName, cr["USERNAME"])
	if err != nil {
		return AuthOutput{}, true, err
	}
	if st.Hosted != hosted {
		return AuthOutput{}, true, errSessionExpired
	}
	claim := s.sessionClaim(c, in.Session)
	switch in.ChallengeName {
	case challengeSelect:
		out, err := s.selectFactor(ctx, c, p, st, u, cr, claim)
		return out, true, err
	case factorPassword:
		if cr["PASSWORD"] == "" {
			return AuthOutput{}, true, invalidParam("Missing required parameter PASSWORD")
		}
		out, err := s.userAuthPassword(ctx, c, p, st, cr["PASSWORD"], cr["DEVICE_KEY"], claim)
		return out, true, err
	case challengePasswordSRP:
		if cr["SRP_A"] == "" {
			return AuthOutput{}, true, invalidParam("Missing required parameter SRP_A")
		}
		out, err := s.startFactor(ctx, c, p, st, u, challengePasswordSRP, cr, claim)
		return out, true, err
	}
	out, err := s.verifySignInCode(ctx, c, p, st, u, in.ChallengeName, cr)
	return out, true, err
}

// selectFactor answers SELECT_CHALLENGE: ANSWER names one of the factors
// the user can use now.
func (s *Service) selectFactor(ctx context.Context, c storage.Client, p storage.Pool, st userAuthState, u storage.User, cr map[string]string, claim oneTimeClaim) (AuthOutput, error) {
	answer := cr["ANSWER"]
	if answer == "" {
		return AuthOutput{}, invalidParam("Missing required parameter ANSWER")
	}
	avail := decoyFactors(p)
	if !st.Fake {
		var err error
		if avail, err = s.firstFactors(ctx, p, u); err != nil {
			return AuthOutput{}, err
		}
	}
	if !contains(avail, answer) {
		return AuthOutput{}, invalidParam("The challenge %.64q is not available for this user: choose one of AvailableChallenges.", answer)
	}
	return s.startFactor(ctx, c, p, st, u, answer, cr, claim)
}
