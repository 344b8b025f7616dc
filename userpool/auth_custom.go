package userpool

// CUSTOM_AUTH: sign-in driven by the define, create and verify auth
// challenge webhooks, with or without SRP first (Amplify's
// CUSTOM_WITH_SRP sends SRP_A with CHALLENGE_NAME=SRP_A). The Session
// carries the challenge history and the current challenge's private
// parameters sealed, so they never reach the client; each Session is
// answered once.

import (
	"context"
	"crypto/subtle"
	"errors"
	"time"

	"github.com/cognate-auth/cognate/storage"
)

const (
	flowCustom             = "CUSTOM_AUTH"
	challengeCustom        = "CUSTOM_CHALLENGE"
	challengeSRPA          = "SRP_A"
	sealCustom             = "custom"
	maxCustomRounds        = 16
	customClaimMarginOfTTL = time.Minute
)

// challengeRecord is one entry of the session history events carry.
type challengeRecord struct {
	ChallengeName     string  `json:"challengeName"`
	ChallengeResult   bool    `json:"challengeResult"`
	ChallengeMetadata *string `json:"challengeMetadata"`
}

// customState is what a custom-auth Session seals.
type customState struct {
	Username string            `json:"u"`
	History  []challengeRecord `json:"h"`
	Private  map[string]string `json:"p,omitempty"`
	Metadata *string           `json:"m,omitempty"`
}

// defineResponse is the define auth challenge trigger's response.
type defineResponse struct {
	ChallengeName      string `json:"challengeName"`
	IssueTokens        bool   `json:"issueTokens"`
	FailAuthentication bool   `json:"failAuthentication"`
}

// createResponse is the create auth challenge trigger's response.
type createResponse struct {
	PublicChallengeParameters  map[string]string `json:"publicChallengeParameters"`
	PrivateChallengeParameters map[string]string `json:"privateChallengeParameters"`
	ChallengeMetadata          *string           `json:"challengeMetadata"`
}

// startCustom is InitiateAuth CUSTOM_AUTH.
func (s *Service) startCustom(ctx context.Context, c storage.Client, p storage.Pool, ap map[string]string) (AuthOutput, error) {
	lc := lambdaConfig(p)
	if lc.DefineAuthChallenge == "" {
		return AuthOutput{}, invalidParam("Custom auth lambda trigger is not configured for the user pool.")
	}
	name := ap["USERNAME"]
	u, err := s.findUser(ctx, p, name)
	switch {
	case errors.Is(err, ErrUserNotFound) && preventsExistenceErrors(c):
		return AuthOutput{}, ErrNotAuthorized
	case err != nil:
		return AuthOutput{}, err
	case !u.Enabled:
		return AuthOutput{}, errorf(ErrNotAuthorized, "User is disabled.")
	case u.Status == storage.StatusUnconfirmed:
		return AuthOutput{}, ErrUserNotConfirmed
	}
	// With SRP first, startSRP runs the pre authentication trigger.
	if ap["SRP_A"] == "" {
		if err := s.preAuthentication(ctx, p, c.ClientID, u); err != nil {
			return AuthOutput{}, err
		}
	}
	st := customState{Username: u.Username, History: []challengeRecord{}}
	if ap["SRP_A"] != "" {
		st.History = append(st.History, challengeRecord{ChallengeName: challengeSRPA, ChallengeResult: true})
	}
	return s.nextCustom(ctx, c, p, u, st, ap["SRP_A"])
}

// nextCustom asks the define webhook what follows st's history, and
// answers with that: tokens, a refusal, or the next challenge.
func (s *Service) nextCustom(ctx context.Context, c storage.Client, p storage.Pool, u storage.User, st customState, srpA string) (AuthOutput, error) {
	if len(st.History) > maxCustomRounds {
		return AuthOutput{}, errorf(ErrNotAuthorized, "Incorrect username or password.")
	}
	lc := lambdaConfig(p)
	var def defineResponse
	err := s.call(ctx, hook{
		trigger: triggerDefineAuthChallenge, url: lc.DefineAuthChallenge, source: sourceDefineAuthChallenge, pool: p,
		clientID: c.ClientID, userName: u.Username,
		request: map[string]any{
			"userAttributes": hookAttributes(u), "session": st.History, "clientMetadata": clientMetadata(ctx), "userNotFound": false,
		},
		response: &def,
	})
	if err != nil {
		return AuthOutput{}, err
	}
	switch {
	case def.FailAuthentication:
		return AuthOutput{}, errorf(ErrNotAuthorized, "Incorrect username or password.")
	case def.IssueTokens:
		return s.afterPassword(ctx, c, p, u, "", oneTimeClaim{})
	case def.ChallengeName == challengePasswordVerifier && srpA != "" && len(st.History) == 1:
		out, err := s.startSRP(ctx, c, p, u.Username, srpA)
		if err != nil {
			return out, err
		}
		st.History = append(st.History, challengeRecord{ChallengeName: challengePasswordVerifier})
		out.Session, err = s.sealCustomState(c, p, st)
		return out, err
	case def.ChallengeName == challengeCustom:
		return s.createChallenge(ctx, c, p, u, st)
	}
	s.log.WarnContext(ctx, "define auth challenge answered no next step", "pool", p.ID, "challenge", def.ChallengeName)
	return AuthOutput{}, errorf(ErrInvalidLambdaResponse, "Invalid lambda response: DefineAuthChallenge must issue tokens, fail, or name CUSTOM_CHALLENGE%s.", map[bool]string{true: " or PASSWORD_VERIFIER", false: ""}[srpA != ""])
}

// createChallenge asks the create webhook for a CUSTOM_CHALLENGE.
func (s *Service) createChallenge(ctx context.Context, c storage.Client, p storage.Pool, u storage.User, st customState) (AuthOutput, error) {
	var cr createResponse
	err := s.call(ctx, hook{
		trigger: triggerCreateAuthChallenge, url: lambdaConfig(p).CreateAuthChallenge, source: sourceCreateAuthChallenge, pool: p,
		clientID: c.ClientID, userName: u.Username,
		request: map[string]any{
			"userAttributes": hookAttributes(u), "challengeName": challengeCustom, "session": st.History,
			"clientMetadata": clientMetadata(ctx), "userNotFound": false,
		},
		response: &cr,
	})
	if err != nil {
		return AuthOutput{}, err
	}
	st.Private, st.Metadata = cr.PrivateChallengeParameters, cr.ChallengeMetadata
	sess, err := s.sealCustomState(c, p, st)
	if err != nil {
		return AuthOutput{}, err
	}
	params := map[string]string{}
	for k, v := range cr.PublicChallengeParameters {
		params[k] = v
	}
	params["USERNAME"] = u.Username
	return AuthOutput{ChallengeName: challengeCustom, Session: sess, ChallengeParameters: params}, nil
}

func (s *Service) sealCustomState(c storage.Client, p storage.Pool, st customState) (string, error) {
	sess, err := s.sealer.seal(sealCustom, p.ID+"|"+c.ClientID, s.now(), st)
	if err != nil {
		return "", internal("seal custom session", err)
	}
	return sess, nil
}

// openCustom opens a custom-auth Session for the user the answer names,
// and claims it: a Session is answered once.
func (s *Service) openCustom(ctx context.Context, c storage.Client, p storage.Pool, session, username string) (customState, storage.User, error) {
	var st customState
	now := s.now()
	if err := s.sealer.open(sealCustom, p.ID+"|"+c.ClientID, session, sessionTTL(c), now, &st); err != nil {
		return st, storage.User{}, errSessionExpired
	}
	if subtle.ConstantTimeCompare([]byte(username), []byte(st.Username)) != 1 {
		return st, storage.User{}, errSessionExpired
	}
	claim := oneTimeClaim{key: append([]byte("custom/"), hashToken(session)...), until: now.Add(sessionTTL(c) + customClaimMarginOfTTL)}
	if err := s.claimAlone(ctx, claim); err != nil {
		return st, storage.User{}, err
	}
	u, err := s.findUser(ctx, p, st.Username)
	if errors.Is(err, ErrUserNotFound) {
		return st, u, errSessionExpired
	}
	return st, u, err
}

// isCustomSession reports whether session is a custom-auth Session of
// this client (a PASSWORD_VERIFIER answer inside CUSTOM_WITH_SRP).
func (s *Service) isCustomSession(c storage.Client, p storage.Pool, session string) bool {
	if session == "" {
		return false
	}
	var st customState
	return s.sealer.open(sealCustom, p.ID+"|"+c.ClientID, session, sessionTTL(c), s.now(), &st) == nil
}

// respondCustomSRP answers PASSWORD_VERIFIER inside CUSTOM_WITH_SRP: a
// right password is recorded and the define webhook asked again; a wrong
// one ends the sign-in.
func (s *Service) respondCustomSRP(ctx context.Context, c storage.Client, p storage.Pool, session string, cr map[string]string) (AuthOutput, error) {
	st, _, err := s.openCustom(ctx, c, p, session, cr["USERNAME"])
	if err != nil {
		return AuthOutput{}, err
	}
	u, claim, err := s.checkSRP(ctx, c, p, cr)
	if err != nil {
		return AuthOutput{}, err
	}
	if err := s.claimAlone(ctx, claim); err != nil {
		return AuthOutput{}, err
	}
	st.History[len(st.History)-1].ChallengeResult = true
	return s.nextCustom(ctx, c, p, u, st, "")
}

// respondCustom answers CUSTOM_CHALLENGE: the verify webhook judges the
// ANSWER, the result joins the history, and the define webhook decides.
func (s *Service) respondCustom(ctx context.Context, c storage.Client, p storage.Pool, session string, cr map[string]string) (AuthOutput, error) {
	if cr["ANSWER"] == "" {
		return AuthOutput{}, invalidParam("Missing required parameter ANSWER")
	}
	st, u, err := s.openCustom(ctx, c, p, session, cr["USERNAME"])
	if err != nil {
		return AuthOutput{}, err
	}
	var vr struct {
		AnswerCorrect bool `json:"answerCorrect"`
	}
	err = s.call(ctx, hook{
		trigger: triggerVerifyAuthChallenge, url: lambdaConfig(p).VerifyAuthChallengeResponse, source: sourceVerifyAuthChallenge, pool: p,
		clientID: c.ClientID, userName: u.Username,
		request: map[string]any{
			"userAttributes": hookAttributes(u), "privateChallengeParameters": nonNil(st.Private), "challengeAnswer": cr["ANSWER"],
			"clientMetadata": clientMetadata(ctx), "userNotFound": false,
		},
		response: &vr,
	})
	if err != nil {
		return AuthOutput{}, err
	}
	st.History = append(st.History, challengeRecord{ChallengeName: challengeCustom, ChallengeResult: vr.AnswerCorrect, ChallengeMetadata: st.Metadata})
	st.Private, st.Metadata = nil, nil
	return s.nextCustom(ctx, c, p, u, st, "")
}
