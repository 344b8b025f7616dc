package userpool

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/google/uuid"

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

// srpBlockTTL is how long a client has to answer PASSWORD_VERIFIER.
const srpBlockTTL = 3 * time.Minute

// timestampSkew bounds the client's TIMESTAMP against the server clock.
const timestampSkew = 5 * time.Minute

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

// srpState is what a SECRET_BLOCK carries: the session key the client
// must prove it derived, and whom it was derived for. The key is computed
// when the challenge is issued, so answering costs only an HMAC.
type srpState struct {
	Username string `json:"u"`
	Key      []byte `json:"k"`
	// Verifier fingerprints the password the key was derived from, so a
	// password changed in the meantime voids the block.
	Verifier []byte `json:"v"`
	Fake     bool   `json:"f,omitempty"`
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
	switch in.AuthFlow {
	case flowUserSRP, flowUserPassword, flowRefreshToken, flowRefresh:
	case "":
		return AuthOutput{}, invalidParam("1 validation error detected: Value at 'authFlow' failed to satisfy constraint: Member must not be null")
	default:
		return AuthOutput{}, invalidParam("Unsupported AuthFlow %.64q; supported: USER_SRP_AUTH, USER_PASSWORD_AUTH, REFRESH_TOKEN_AUTH", in.AuthFlow)
	}
	if !flowAllowed(c, in.AuthFlow) {
		return AuthOutput{}, invalidParam("%s flow not enabled for this client", in.AuthFlow)
	}
	ap := in.AuthParameters
	if in.AuthFlow == flowRefreshToken || in.AuthFlow == flowRefresh {
		if c.Settings.RefreshTokenRotation {
			return AuthOutput{}, errorf(ErrNotAuthorized, "Refresh token rotation is enabled for this client; use GetTokensFromRefreshToken")
		}
		res, err := s.refresh(ctx, c, p, ap["REFRESH_TOKEN"], func(u storage.User) error {
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
	return s.passwordAuth(ctx, c, p, ap["USERNAME"], ap["PASSWORD"])
}

// startSRP answers USER_SRP_AUTH with a PASSWORD_VERIFIER challenge. For
// an unknown user (when existence errors are prevented) it answers with a
// decoy computed from a per-name fake salt, indistinguishable to the
// caller, that can never be satisfied.
func (s *Service) startSRP(ctx context.Context, c storage.Client, p storage.Pool, name, hexA string) (AuthOutput, error) {
	if name == "" {
		return AuthOutput{}, invalidParam("Missing required parameter USERNAME")
	}
	if hexA == "" {
		return AuthOutput{}, invalidParam("Missing required parameter SRP_A")
	}
	A, err := srp.ParseA(hexA)
	if err != nil {
		return AuthOutput{}, invalidParam("SRP_A is invalid")
	}
	u, err := s.findUser(ctx, p, name)
	fake := errors.Is(err, ErrUserNotFound)
	switch {
	case fake && !preventsExistenceErrors(c):
		return AuthOutput{}, err
	case fake:
		u = s.decoyUser(p, name)
	case err != nil:
		return AuthOutput{}, err
	}
	if err := s.checkLock(u); err != nil {
		return AuthOutput{}, err
	}
	sess, err := srp.NewServerSession(u.SRPVerifier)
	if err != nil {
		return AuthOutput{}, internal("srp session", err)
	}
	key, err := sess.Key(A)
	if err != nil {
		return AuthOutput{}, invalidParam("SRP_A is invalid")
	}
	block, err := s.sealer.seal(sealSRP, p.ID+"|"+c.ClientID, s.now(), srpState{
		Username: u.Username, Key: key, Verifier: fingerprint(u.SRPVerifier), Fake: fake,
	})
	if err != nil {
		return AuthOutput{}, internal("seal srp", err)
	}
	return AuthOutput{
		ChallengeName: challengePasswordVerifier,
		ChallengeParameters: map[string]string{
			"SALT":            hex.EncodeToString(u.SRPSalt),
			"SECRET_BLOCK":    block,
			"SRP_B":           sess.BHex(),
			"USERNAME":        u.Username,
			"USER_ID_FOR_SRP": u.Username,
		},
	}, nil
}

// decoyUser derives a stable fake salt and verifier for a name that does
// not exist, so repeated probes see consistent, plausible challenges. When
// the name is an email in a pool that signs in by email, a real user's
// USER_ID_FOR_SRP is its sub, a UUID, so the decoy gets a stable fake one:
// echoing the email back would tell the caller the user does not exist.
func (s *Service) decoyUser(p storage.Pool, name string) storage.User {
	m := hmac.New(sha256.New, s.fakeKey)
	m.Write([]byte(p.ID + "\x00" + name))
	sum := m.Sum(nil)
	salt := sum[:srp.SaltSize]
	username := name
	if signsInByEmail(p) && strings.Contains(name, "@") {
		var id uuid.UUID
		copy(id[:], sum[srp.SaltSize:])
		id[6] = id[6]&0x0f | 0x40 // version 4, like uuid.NewString's subs
		id[8] = id[8]&0x3f | 0x80 // RFC 4122 variant
		username = id.String()
	}
	// The decoy's challenge can never be answered, so its verifier need
	// not come from a password: keyed pseudo-random bytes below N cost no
	// exponentiation, so a decoy challenge is no slower than a real one.
	v := make([]byte, 0, 384)
	for i := byte(0); len(v) < 384; i++ {
		m.Reset()
		m.Write([]byte{'v', i})
		m.Write(sum)
		v = m.Sum(v)
	}
	v[0] &= 0x7f // below N, whose top bit is set
	return storage.User{PoolID: p.ID, Username: username, Enabled: true, SRPSalt: salt, SRPVerifier: v[:384]}
}

func fingerprint(v []byte) []byte {
	h := sha256.Sum256(v)
	return h[:8]
}

// RespondToAuthChallenge answers a challenge from InitiateAuth.
func (s *Service) RespondToAuthChallenge(ctx context.Context, in RespondToAuthChallengeInput) (AuthOutput, error) {
	c, p, err := s.client(ctx, in.ClientId)
	if err != nil {
		return AuthOutput{}, err
	}
	cr := in.ChallengeResponses
	if err := checkSecretHash(c, cr["USERNAME"], cr["SECRET_HASH"]); err != nil {
		return AuthOutput{}, err
	}
	switch in.ChallengeName {
	case challengePasswordVerifier:
		return s.verifySRP(ctx, c, p, cr)
	case challengeNewPassword:
		return s.completeNewPassword(ctx, c, p, in.Session, cr)
	case "":
		return AuthOutput{}, invalidParam("1 validation error detected: Value at 'challengeName' failed to satisfy constraint: Member must not be null")
	default:
		return AuthOutput{}, invalidParam("Unsupported challenge %.64q", in.ChallengeName)
	}
}

func (s *Service) verifySRP(ctx context.Context, c storage.Client, p storage.Pool, cr map[string]string) (AuthOutput, error) {
	blockB64, ts, sig := cr["PASSWORD_CLAIM_SECRET_BLOCK"], cr["TIMESTAMP"], cr["PASSWORD_CLAIM_SIGNATURE"]
	for name, v := range map[string]string{"PASSWORD_CLAIM_SECRET_BLOCK": blockB64, "TIMESTAMP": ts, "PASSWORD_CLAIM_SIGNATURE": sig, "USERNAME": cr["USERNAME"]} {
		if v == "" {
			return AuthOutput{}, invalidParam("Missing required parameter %s", name)
		}
	}
	var st srpState
	now := s.now()
	if err := s.sealer.open(sealSRP, p.ID+"|"+c.ClientID, blockB64, srpBlockTTL, now, &st); err != nil {
		return AuthOutput{}, errorf(ErrNotAuthorized, "Invalid session for the user, session is expired.")
	}
	when, err := srp.ParseTimestamp(ts)
	if err != nil {
		return AuthOutput{}, invalidParam("TIMESTAMP format should be EEE MMM d HH:mm:ss z yyyy in english.")
	}
	if d := now.Sub(when); d > timestampSkew || d < -timestampSkew {
		return AuthOutput{}, errorf(ErrNotAuthorized, "Incorrect username or password.")
	}
	block, _ := base64.StdEncoding.DecodeString(blockB64) // opened above, so valid
	if st.Fake || subtle.ConstantTimeCompare([]byte(cr["USERNAME"]), []byte(st.Username)) != 1 {
		return AuthOutput{}, ErrNotAuthorized
	}
	if !s.claimBlock(blockB64, now) {
		return AuthOutput{}, errorf(ErrNotAuthorized, "Invalid session for the user, session is expired.")
	}
	u, err := s.findUser(ctx, p, st.Username)
	if errors.Is(err, ErrUserNotFound) {
		return AuthOutput{}, ErrNotAuthorized
	}
	if err != nil {
		return AuthOutput{}, err
	}
	if err := s.checkLock(u); err != nil {
		return AuthOutput{}, err
	}
	ok := hmac.Equal(fingerprint(u.SRPVerifier), st.Verifier) &&
		srp.VerifySignature(st.Key, srp.PoolName(p.ID), u.Username, block, ts, sig)
	return s.finishPasswordAuth(ctx, c, p, u, ok)
}

// claimBlock marks a secret block used; a second answer to the same
// challenge is refused. Entries live as long as a block can.
func (s *Service) claimBlock(block string, now time.Time) bool {
	key := string(hashToken(block))
	s.usedMu.Lock()
	defer s.usedMu.Unlock()
	if now.After(s.nextSweep) {
		for k, exp := range s.usedBlocks {
			if now.After(exp) {
				delete(s.usedBlocks, k)
			}
		}
		s.nextSweep = now.Add(time.Minute)
	}
	if _, used := s.usedBlocks[key]; used {
		return false
	}
	s.usedBlocks[key] = now.Add(srpBlockTTL + time.Minute)
	return true
}

// passwordAuth is USER_PASSWORD_AUTH: the password is checked against the
// same SRP verifier the SRP flow uses.
func (s *Service) passwordAuth(ctx context.Context, c storage.Client, p storage.Pool, name, password string) (AuthOutput, error) {
	u, err := s.verifyPassword(ctx, c, p, name, password)
	if err != nil {
		return AuthOutput{}, err
	}
	return s.afterPassword(ctx, c, p, u)
}

// verifyPassword checks a user's password, counting failures toward the
// lockout. It returns the user only when the password is right.
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
	if errors.Is(err, ErrUserNotFound) {
		if !preventsExistenceErrors(c) {
			return u, err
		}
		// Spend what checking a real password costs, so response time
		// does not tell a missing user from a wrong password.
		d := s.decoyUser(p, name)
		srp.Verifier(srp.PoolName(p.ID), d.Username, password, d.SRPSalt)
		return u, ErrNotAuthorized
	}
	if err != nil {
		return u, err
	}
	if err := s.checkLock(u); err != nil {
		return u, err
	}
	ok := len(u.SRPVerifier) > 0 &&
		hmac.Equal(srp.Verifier(srp.PoolName(p.ID), u.Username, password, u.SRPSalt), u.SRPVerifier)
	return u, s.passwordProven(ctx, u, ok)
}

// checkLock refuses attempts while the user is locked out.
func (s *Service) checkLock(u storage.User) error {
	if s.now().Before(u.LockedUntil) {
		return errorf(ErrNotAuthorized, "Password attempts exceeded")
	}
	return nil
}

// finishPasswordAuth records the outcome of a password proof and, on
// success, answers as afterPassword does.
func (s *Service) finishPasswordAuth(ctx context.Context, c storage.Client, p storage.Pool, u storage.User, ok bool) (AuthOutput, error) {
	if err := s.passwordProven(ctx, u, ok); err != nil {
		return AuthOutput{}, err
	}
	return s.afterPassword(ctx, c, p, u)
}

// passwordProven records a password check: a failure counts toward the
// lockout (and is returned as NotAuthorizedException), a success clears
// the count.
func (s *Service) passwordProven(ctx context.Context, u storage.User, ok bool) error {
	if !ok {
		return s.recordFailure(ctx, u)
	}
	if u.FailedSignIns == 0 && u.LockedUntil.IsZero() {
		return nil
	}
	err := s.store.UpdateUser(ctx, u.PoolID, u.Username, func(u storage.User) (storage.User, error) {
		u.FailedSignIns, u.LockedUntil = 0, time.Time{}
		return u, nil
	})
	if err != nil {
		return internal("reset failures", err)
	}
	return nil
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
// error, or tokens.
func (s *Service) afterPassword(ctx context.Context, c storage.Client, p storage.Pool, u storage.User) (AuthOutput, error) {
	switch err := s.gate(u); {
	case errors.Is(err, errNewPasswordRequired):
		return s.newPasswordChallenge(c, p, u)
	case err != nil:
		return AuthOutput{}, err
	}
	res, err := s.signIn(ctx, c, p, u, grant{scope: ScopeSignInUserAdmin})
	if err != nil {
		return AuthOutput{}, err
	}
	return AuthOutput{AuthenticationResult: res}, nil
}

// recordFailure counts a wrong password and, from the last free attempt
// on, locks the user out for a doubling delay.
func (s *Service) recordFailure(ctx context.Context, u storage.User) error {
	if u.Sub == "" { // decoy: nothing to record
		return ErrNotAuthorized
	}
	lp := s.lockout
	err := s.store.UpdateUser(ctx, u.PoolID, u.Username, func(u storage.User) (storage.User, error) {
		u.FailedSignIns++
		if over := u.FailedSignIns - lp.FreeAttempts; over >= 0 {
			d := lp.MaxDelay
			if over < 30 {
				d = min(lp.BaseDelay<<over, lp.MaxDelay)
			}
			u.LockedUntil = s.now().Add(d)
		}
		return u, nil
	})
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return internal("record failure", err)
	}
	return ErrNotAuthorized
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
	res, err := s.signIn(ctx, c, p, u, grant{scope: ScopeSignInUserAdmin})
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
