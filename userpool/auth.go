package userpool

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/cognate-auth/cognate/srp"
	"github.com/cognate-auth/cognate/storage"
)

// Auth flows and challenges.
const (
	flowUserSRP      = "USER_SRP_AUTH"
	flowUserPassword = "USER_PASSWORD_AUTH"
	flowRefreshToken = "REFRESH_TOKEN_AUTH"
	flowRefresh      = "REFRESH_TOKEN"

	challengePasswordVerifier = "PASSWORD_VERIFIER"
	challengeNewPassword      = "NEW_PASSWORD_REQUIRED"
)

// Sealed-state purposes; each binds a sealed value to one use.
const (
	sealSRP         = "srp"
	sealNewPassword = "new-password"
)

// defaultFlows are the flows a client allows when it lists none
// (Cognito's default).
var defaultFlows = []string{"ALLOW_USER_SRP_AUTH", "ALLOW_CUSTOM_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"}

func flowAllowed(c storage.Client, flow string) bool {
	if flow == flowRefresh {
		flow = flowRefreshToken
	}
	flows := c.Settings.ExplicitAuthFlows
	if len(flows) == 0 {
		flows = defaultFlows
	}
	return contains(flows, "ALLOW_"+flow)
}

type newPasswordState struct {
	Username string `json:"u"`
}

// InitiateAuth starts a sign-in.
func (s *Service) InitiateAuth(ctx context.Context, in InitiateAuthInput) (AuthOutput, error) {
	c, p, err := s.client(ctx, in.ClientId)
	if err != nil {
		return AuthOutput{}, err
	}
	ctx = withClientMetadata(ctx, in.ClientMetadata)
	switch in.AuthFlow {
	case flowUserSRP, flowUserPassword, flowRefreshToken, flowRefresh, flowUserAuth, flowCustom:
	case "":
		return AuthOutput{}, invalidParam("1 validation error detected: Value at 'authFlow' failed to satisfy constraint: Member must not be null")
	default:
		return AuthOutput{}, invalidParam("Unsupported AuthFlow %.64q; supported: USER_SRP_AUTH, USER_PASSWORD_AUTH, REFRESH_TOKEN_AUTH, USER_AUTH, CUSTOM_AUTH", in.AuthFlow)
	}
	if !flowAllowed(c, in.AuthFlow) {
		return AuthOutput{}, invalidParam("%s flow not enabled for this client", in.AuthFlow)
	}
	ap := in.AuthParameters
	if in.AuthFlow == flowRefreshToken || in.AuthFlow == flowRefresh {
		if c.Settings.RefreshTokenRotation {
			return AuthOutput{}, errorf(ErrNotAuthorized, "Refresh token rotation is enabled for this client; use GetTokensFromRefreshToken")
		}
		res, err := s.refresh(ctx, c, p, ap["REFRESH_TOKEN"], ap["DEVICE_KEY"], func(u storage.User) error {
			return checkSecretHash(c, u.Username, ap["SECRET_HASH"])
		})
		return AuthOutput{AuthenticationResult: res}, err
	}
	if err := checkSecretHash(c, ap["USERNAME"], ap["SECRET_HASH"]); err != nil {
		return AuthOutput{}, err
	}
	if in.AuthFlow == flowUserSRP {
		return s.startSRP(ctx, c, p, ap["USERNAME"], ap["SRP_A"])
	}
	if in.AuthFlow == flowUserAuth {
		return s.startUserAuth(ctx, c, p, ap, in.Session, false)
	}
	if in.AuthFlow == flowCustom {
		return s.startCustom(ctx, c, p, ap)
	}
	return s.passwordAuth(ctx, c, p, ap["USERNAME"], ap["PASSWORD"], ap["DEVICE_KEY"])
}

// RespondToAuthChallenge answers a challenge from InitiateAuth.
func (s *Service) RespondToAuthChallenge(ctx context.Context, in RespondToAuthChallengeInput) (AuthOutput, error) {
	c, p, err := s.client(ctx, in.ClientId)
	if err != nil {
		return AuthOutput{}, err
	}
	ctx = withClientMetadata(ctx, in.ClientMetadata)
	cr := in.ChallengeResponses
	if err := checkSecretHash(c, cr["USERNAME"], cr["SECRET_HASH"]); err != nil {
		return AuthOutput{}, err
	}
	if out, ok, err := s.respondUserAuth(ctx, c, p, in, false); ok {
		return out, err
	}
	switch in.ChallengeName {
	case challengePasswordVerifier:
		if s.isCustomSession(c, p, in.Session) {
			return s.respondCustomSRP(ctx, c, p, in.Session, cr)
		}
		return s.verifySRP(ctx, c, p, cr)
	case challengeCustom:
		return s.respondCustom(ctx, c, p, in.Session, cr)
	case challengeNewPassword:
		return s.completeNewPassword(ctx, c, p, in.Session, cr)
	case challengeDeviceSRP:
		return s.startDeviceSRP(ctx, c, p, in.Session, cr)
	case challengeDeviceVerifier:
		return s.verifyDeviceSRP(ctx, c, p, cr)
	case factorTOTP, factorSMS, factorEmail, challengeSelectMFA, challengeMFASetup:
		// EMAIL_OTP here is MFA's: choice-based sign-in's took its own
		// Sessions above (respondUserAuth).
		return s.respondMFA(ctx, c, p, in.ChallengeName, in.Session, cr, false)
	case factorSMSOTP:
		// Not a Session of choice-based sign-in (respondUserAuth).
		return AuthOutput{}, errSessionExpired
	case factorWebAuthn:
		return s.respondWebAuthn(ctx, c, p, in.Session, cr)
	case "":
		return AuthOutput{}, invalidParam("1 validation error detected: Value at 'challengeName' failed to satisfy constraint: Member must not be null")
	default:
		return AuthOutput{}, invalidParam("Unsupported challenge %.64q", in.ChallengeName)
	}
}

// passwordAuth is USER_PASSWORD_AUTH: the password is checked against the
// same SRP verifier the SRP flow uses.
func (s *Service) passwordAuth(ctx context.Context, c storage.Client, p storage.Pool, name, password, deviceKey string) (AuthOutput, error) {
	u, err := s.verifyPassword(ctx, c, p, name, password)
	if err != nil {
		return AuthOutput{}, err
	}
	return s.afterPassword(ctx, c, p, u, deviceKey, oneTimeClaim{})
}

// verifyPassword checks a user's password, counting failures toward the
// lockout. It returns the user only when the password is right. Unknown
// names (when existence errors are prevented) cost the same and are
// counted and locked the same way.
func (s *Service) verifyPassword(ctx context.Context, c storage.Client, p storage.Pool, name, password string) (storage.User, error) {
	if name == "" {
		return storage.User{}, invalidParam("Missing required parameter USERNAME")
	}
	if password == "" {
		return storage.User{}, invalidParam("Missing required parameter PASSWORD")
	}
	if len(password) > 4*maxPasswordLen {
		return storage.User{}, ErrNotAuthorized
	}
	u, err := s.findUser(ctx, p, name)
	unknown := errors.Is(err, ErrUserNotFound)
	subject := u.Username
	switch {
	case unknown && migrates(p):
		return s.migrateSignIn(ctx, c, p, name, password)
	case unknown && !preventsExistenceErrors(c):
		return u, err
	case unknown:
		subject = lookupName(p, name)
	case err != nil:
		return u, err
	default:
		if err := s.preAuthentication(ctx, p, c.ClientID, u); err != nil {
			return u, err
		}
	}
	g, err := s.startGuess(ctx, passwordSecret, p.ID, subject)
	if err != nil {
		return u, err
	}
	var ok bool
	if unknown {
		// Spend what checking a real password costs.
		d := s.decoyUser(p, name)
		srp.Verifier(srp.PoolName(p.ID), d.Username, password, d.SRPSalt)
	} else if ok, err = s.passwordMatches(ctx, p, &u, password); err != nil {
		return u, err
	}
	return u, g.settle(ctx, s.store, ok)
}

// errNewPasswordRequired is gate's answer for a user who must replace a
// temporary password; callers turn it into their challenge.
var errNewPasswordRequired = errors.New("new password required")

// gate reports why a user who proved the password may not have tokens
// yet. Account state is revealed only to a caller who proved the
// password.
func (s *Service) gate(u storage.User) error {
	switch {
	case !u.Enabled:
		return errorf(ErrNotAuthorized, "User is disabled.")
	case u.Status == storage.StatusUnconfirmed:
		return ErrUserNotConfirmed
	case u.Status == storage.StatusResetRequired:
		return ErrPasswordResetRequired
	case u.Status == storage.StatusForceChangePassword:
		if !u.PasswordExpiresAt.IsZero() && s.now().After(u.PasswordExpiresAt) {
			return errorf(ErrNotAuthorized, "Temporary password has expired and must be reset by an administrator.")
		}
		return errNewPasswordRequired
	}
	return nil
}

// afterPassword answers a proven password: a challenge, an account-state
// error, or tokens. deviceKey is the DEVICE_KEY the client sent, if any.
func (s *Service) afterPassword(ctx context.Context, c storage.Client, p storage.Pool, u storage.User, deviceKey string, claim oneTimeClaim) (AuthOutput, error) {
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
	return s.afterFirstFactor(ctx, c, p, u, deviceKey, claim)
}

func (s *Service) newPasswordChallenge(c storage.Client, p storage.Pool, u storage.User) (AuthOutput, error) {
	sess, err := s.sealer.seal(sealNewPassword, p.ID+"|"+c.ClientID, s.now(), newPasswordState{Username: u.Username})
	if err != nil {
		return AuthOutput{}, internal("seal session", err)
	}
	attrs := map[string]string{}
	for k, v := range u.Attributes {
		if k != "sub" && k != "email_verified" && k != "phone_number_verified" {
			attrs[k] = v
		}
	}
	ua, _ := json.Marshal(attrs)
	return AuthOutput{
		ChallengeName: challengeNewPassword,
		Session:       sess,
		ChallengeParameters: map[string]string{
			"USER_ID_FOR_SRP":    u.Username,
			"requiredAttributes": "[]",
			"userAttributes":     string(ua),
		},
	}, nil
}

// sessionTTL is how long a challenge Session lives (AuthSessionValidity,
// in minutes, 3 by default).
func sessionTTL(c storage.Client) time.Duration {
	if m := c.Settings.AuthSessionValidity; m >= 3 && m <= 15 {
		return time.Duration(m) * time.Minute
	}
	return 3 * time.Minute
}

func (s *Service) completeNewPassword(ctx context.Context, c storage.Client, p storage.Pool, session string, cr map[string]string) (AuthOutput, error) {
	var attrs []AttributeType
	for k, v := range cr {
		if name, ok := strings.CutPrefix(k, "userAttributes."); ok {
			attrs = append(attrs, AttributeType{Name: name, Value: v})
		}
	}
	u, err := s.setNewPassword(ctx, c, p, session, cr["NEW_PASSWORD"], attrs)
	if err != nil {
		return AuthOutput{}, err
	}
	if next := nextAfterFirstFactor(p, u); next.challenge != "" {
		return s.afterFirstFactor(ctx, c, p, u, "", oneTimeClaim{})
	}
	res, err := s.signIn(ctx, c, p, u, grant{scope: ScopeSignInUserAdmin, newDevice: tracksDevices(p), source: sourceTokenNewPassword})
	if err != nil {
		return AuthOutput{}, err
	}
	return AuthOutput{AuthenticationResult: res}, nil
}

// setNewPassword answers NEW_PASSWORD_REQUIRED: the session proves the
// temporary password, pw replaces it and the user is confirmed.
func (s *Service) setNewPassword(ctx context.Context, c storage.Client, p storage.Pool, session, pw string, attrs []AttributeType) (storage.User, error) {
	var st newPasswordState
	if err := s.sealer.open(sealNewPassword, p.ID+"|"+c.ClientID, session, sessionTTL(c), s.now(), &st); err != nil {
		return storage.User{}, errorf(ErrNotAuthorized, "Invalid session for the user, session is expired.")
	}
	if pw == "" {
		return storage.User{}, invalidParam("Missing required parameter NEW_PASSWORD")
	}
	if err := checkPassword(p.Settings.PasswordPolicy, pw); err != nil {
		return storage.User{}, err
	}
	if err := checkClientWritable(attrs); err != nil {
		return storage.User{}, err
	}
	if err := checkAttributes(p, attrs); err != nil {
		return storage.User{}, err
	}
	var updated storage.User
	err := s.store.UpdateUser(ctx, p.ID, st.Username, func(u storage.User) (storage.User, error) {
		if u.Status != storage.StatusForceChangePassword {
			return u, errorf(ErrNotAuthorized, "Invalid session for the user, session is expired.")
		}
		applyUnverified(&u, attrs)
		setPassword(&u, p, pw)
		u.Status = storage.StatusConfirmed
		u.UpdatedAt = s.now()
		updated = u
		return u, nil
	})
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return updated, ErrNotAuthorized
	case errors.Is(err, storage.ErrAlreadyExists):
		return updated, ErrAliasExists
	case err != nil:
		return updated, internal("set new password", err)
	}
	return updated, nil
}
