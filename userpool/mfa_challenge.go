package userpool

// The MFA challenges of a sign-in: SOFTWARE_TOKEN_MFA, SMS_MFA,
// EMAIL_OTP, SELECT_MFA_TYPE and MFA_SETUP (TOTP through
// AssociateSoftwareToken/VerifySoftwareToken with the Session, or email).
// Each challenge's Session is sealed, bound to the pool, client and user,
// lives as long as the client's AuthSessionValidity, and is claimed once
// when answered right.

import (
	"context"
	"crypto/hmac"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/cognate-auth/cognate/internal/totp"
	"github.com/cognate-auth/cognate/storage"
)

// Challenge names of the MFA steps that are not a factor's own.
const (
	challengeSelectMFA = "SELECT_MFA_TYPE"
	challengeMFASetup  = "MFA_SETUP"
)

// sealMFA is the purpose of MFA challenge Sessions.
const sealMFA = "mfa"

// purposeMFA is the stored code of an SMS_MFA or EMAIL_OTP challenge;
// its Value is the address it went to.
const purposeMFA = "mfa"

// mfaCodeTTL is how long an emailed or texted sign-in code lives
// (Cognito's three minutes).
const mfaCodeTTL = 3 * time.Minute

var (
	// errMFAMismatch answers a wrong MFA code, in Cognito's words.
	errMFAMismatch = errorf(ErrCodeMismatch, "Invalid code or auth state for the user.")
	// errMFALocked answers any MFA code while the user is locked out.
	errMFALocked = errorf(ErrNotAuthorized, "Too many invalid credentials attempts. User temporarily locked. Please try again after few seconds.")
	// errSessionUser answers a Session used for a user it was not issued
	// to, or for a challenge it does not answer.
	errSessionUser = errorf(ErrNotAuthorized, "Invalid session for the user.")
)

// mfaSecret counts wrong MFA codes (TOTP, email, SMS) per user.
var mfaSecret = secret{"mfa/", errMFALocked, errMFAMismatch}

// mfaState is what an MFA challenge's Session carries.
type mfaState struct {
	Username  string   `json:"u"`
	Challenge string   `json:"c"`
	Choices   []string `json:"o,omitempty"`
	// Secret is, during TOTP setup, the base32 secret being set up.
	Secret string `json:"s,omitempty"`
	// Verified marks an MFA_SETUP whose TOTP VerifySoftwareToken accepted.
	Verified bool `json:"v,omitempty"`
	// Email is, during email setup, the address being set up.
	Email string `json:"e,omitempty"`
	// Device is the DEVICE_KEY the first factor came with, for
	// finishSignIn.
	Device string `json:"d,omitempty"`
	// Hosted marks a sign-in on the managed login pages: it ends in the
	// browser's login session (LoginRespond), never in tokens from the
	// JSON API, and the other way round.
	Hosted bool `json:"h,omitempty"`
}

func mfaBind(p storage.Pool, c storage.Client) string { return p.ID + "|" + c.ClientID }

func (s *Service) sealMFAState(p storage.Pool, c storage.Client, st mfaState) (string, error) {
	sess, err := s.sealer.seal(sealMFA, mfaBind(p, c), s.now(), st)
	if err != nil {
		return "", internal("seal session", err)
	}
	// The client id leads, in the clear: AssociateSoftwareToken and
	// VerifySoftwareToken get a Session and no ClientId, and the seal is
	// bound to the client.
	return c.ClientID + "." + sess, nil
}

// openMFAState opens a Session for the challenge named; a Session of
// another challenge is refused as another user's would be.
func (s *Service) openMFAState(p storage.Pool, c storage.Client, session, challenge string) (mfaState, error) {
	var st mfaState
	if session == "" {
		return st, invalidParam("Missing required parameter Session")
	}
	clientID, sealed, ok := strings.Cut(session, ".")
	if !ok || clientID != c.ClientID {
		return st, errSessionExpired
	}
	if err := s.sealer.open(sealMFA, mfaBind(p, c), sealed, sessionTTL(c), s.now(), &st); err != nil {
		return st, errSessionExpired
	}
	if st.Challenge != challenge {
		return st, errSessionUser
	}
	return st, nil
}

// mfaChallenge issues st's challenge to u, sending a code for SMS_MFA
// and EMAIL_OTP (to st.Email, when set, instead of u's: email setup).
func (s *Service) mfaChallenge(ctx context.Context, c storage.Client, p storage.Pool, u storage.User, st mfaState) (AuthOutput, error) {
	st.Username = u.Username
	params := map[string]string{"USER_ID_FOR_SRP": u.Username}
	switch st.Challenge {
	case factorSMS, factorEmail:
		d, err := s.sendMFACode(ctx, p, u, st.Challenge, st.Email)
		if err != nil {
			return AuthOutput{}, err
		}
		params["CODE_DELIVERY_DELIVERY_MEDIUM"] = d.DeliveryMedium
		params["CODE_DELIVERY_DESTINATION"] = d.Destination
	case challengeSelectMFA:
		b, _ := json.Marshal(st.Choices)
		params["MFAS_CAN_CHOOSE"] = string(b)
	case challengeMFASetup:
		b, _ := json.Marshal(st.Choices)
		params["MFAS_CAN_SETUP"] = string(b)
	}
	sess, err := s.sealMFAState(p, c, st)
	if err != nil {
		return AuthOutput{}, err
	}
	return AuthOutput{ChallengeName: st.Challenge, Session: sess, ChallengeParameters: params}, nil
}

// sendMFACode stores a fresh sign-in code (replacing any earlier one)
// and queues it, in one transaction, to u's phone for SMS_MFA or to
// email (u's when empty) for EMAIL_OTP. Sends are limited per user like
// every code's.
func (s *Service) sendMFACode(ctx context.Context, p storage.Pool, u storage.User, factor, email string) (*CodeDeliveryDetails, error) {
	kind, attr, dest := KindMFAEmail, "email", email
	if dest == "" {
		dest = u.Attributes["email"]
	}
	if factor == factorSMS {
		kind, attr, dest = KindMFASMS, "phone_number", u.Attributes["phone_number"]
	}
	text, err := s.customMessage(ctx, p, "", sourceMessageAuth, u, dest)
	if err != nil {
		return nil, err
	}
	var d *CodeDeliveryDetails
	err = s.sendAtomic(ctx, func(ctx context.Context, tx storage.Storage) error {
		if err := s.countSend(ctx, tx, p.ID, purposeMFA, u.Username); err != nil {
			return err
		}
		code, err := s.issueCode(ctx, tx, u, purposeMFA, dest, mfaCodeTTL)
		if err != nil {
			return err
		}
		d, err = s.queue(ctx, tx, u, kind, attr, dest, code, text)
		return err
	})
	return d, err
}

// respondMFA answers an MFA challenge.
func (s *Service) respondMFA(ctx context.Context, c storage.Client, p storage.Pool, challenge, session string, cr map[string]string, hosted bool) (AuthOutput, error) {
	st, err := s.openMFAState(p, c, session, challenge)
	if err != nil {
		return AuthOutput{}, err
	}
	if st.Hosted != hosted {
		return AuthOutput{}, errSessionExpired
	}
	u, err := s.sessionUser(ctx, p, st, cr["USERNAME"])
	if err != nil {
		return AuthOutput{}, err
	}
	if err := s.gate(u); err != nil {
		return AuthOutput{}, errSessionUser
	}
	claim := s.sessionClaim(c, session)
	switch challenge {
	case factorTOTP:
		if err := s.checkTOTP(ctx, p.ID, u.Username, cr["SOFTWARE_TOKEN_MFA_CODE"], s.verifiedTOTP(p.ID, u.Username), nil); err != nil {
			return AuthOutput{}, err
		}
	case factorSMS, factorEmail:
		if err := s.useMFACode(ctx, p, u, st, mfaCodeAnswer(challenge, cr)); err != nil {
			return AuthOutput{}, err
		}
	case challengeSelectMFA:
		answer := cr["ANSWER"]
		if !contains(st.Choices, answer) {
			return AuthOutput{}, invalidParam("Invalid ANSWER %.32q: the challenge offers %v", answer, st.Choices)
		}
		if err := s.claimAlone(ctx, claim); err != nil {
			return AuthOutput{}, errSessionExpired
		}
		return s.mfaChallenge(ctx, c, p, u, mfaState{Challenge: answer, Device: st.Device, Hosted: st.Hosted})
	case challengeMFASetup:
		if !st.Verified {
			return s.setupEmail(ctx, c, p, u, st, cr["EMAIL"], claim)
		}
	}
	if hosted {
		if err := s.claimAlone(ctx, claim); err != nil {
			return AuthOutput{}, errSessionExpired
		}
		return AuthOutput{signedIn: u.Username}, nil
	}
	return s.finishSignIn(ctx, c, p, u, st.Device, claim)
}

func mfaCodeAnswer(challenge string, cr map[string]string) string {
	if challenge == factorSMS {
		return cr["SMS_MFA_CODE"]
	}
	return cr["EMAIL_OTP_CODE"]
}

// sessionUser loads the user a Session was issued to, refusing a USERNAME
// that names anyone else (by username, or by email in email pools).
func (s *Service) sessionUser(ctx context.Context, p storage.Pool, st mfaState, name string) (storage.User, error) {
	if name == "" {
		return storage.User{}, invalidParam("Missing required parameter USERNAME")
	}
	u, err := s.findUser(ctx, p, name)
	switch {
	case errors.Is(err, ErrUserNotFound):
		return u, errSessionUser
	case err != nil:
		return u, err
	case u.Username != st.Username:
		return u, errSessionUser
	}
	return u, nil
}

// useMFACode checks a code sent for an SMS_MFA or EMAIL_OTP challenge
// and marks it used; wrong ones count toward the user's MFA lockout. A
// code for email setup, once right, makes the address the user's
// verified email and email MFA the user's factor.
func (s *Service) useMFACode(ctx context.Context, p storage.Pool, u storage.User, st mfaState, submitted string) error {
	g, err := s.startGuess(ctx, mfaSecret, p.ID, u.Username)
	if err != nil {
		return err
	}
	code, err := s.store.GetCode(ctx, p.ID, u.Username, purposeMFA)
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return internal("get code", err)
	}
	if err != nil || !hmac.Equal(code.Hash, s.hashCode(code, submitted)) {
		return g.settle(ctx, s.store, false)
	}
	if !code.UsedAt.IsZero() || s.now().After(code.ExpiresAt) {
		return ErrExpiredCode
	}
	return s.store.Atomic(ctx, func(ctx context.Context, tx storage.Storage) error {
		if err := g.settle(ctx, tx, true); err != nil {
			return err
		}
		err := tx.UpdateCode(ctx, p.ID, u.Username, purposeMFA, func(now storage.Code) (storage.Code, error) {
			if !now.UsedAt.IsZero() || !hmac.Equal(now.Hash, code.Hash) {
				return now, ErrExpiredCode
			}
			now.UsedAt = s.now()
			return now, nil
		})
		if errors.Is(err, storage.ErrNotFound) {
			return ErrExpiredCode
		} else if err != nil {
			return internal("use code", err)
		}
		if st.Email == "" {
			return nil
		}
		err = tx.UpdateUser(ctx, p.ID, u.Username, func(u storage.User) (storage.User, error) {
			applyAttributes(&u, []AttributeType{{Name: "email", Value: st.Email}, {Name: "email_verified", Value: "true"}})
			u.MFA.EmailEnabled = true
			if u.MFA.Preferred == "" {
				u.MFA.Preferred = factorEmail
			}
			u.UpdatedAt = s.now()
			return u, nil
		})
		if errors.Is(err, storage.ErrAlreadyExists) {
			return ErrAliasExists
		}
		return err
	})
}

// setupEmail answers MFA_SETUP with an EMAIL: a code goes to it, and the
// EMAIL_OTP challenge that follows sets it up when answered.
func (s *Service) setupEmail(ctx context.Context, c storage.Client, p storage.Pool, u storage.User, st mfaState, email string, claim oneTimeClaim) (AuthOutput, error) {
	if !contains(st.Choices, factorEmail) {
		return AuthOutput{}, invalidParam("Email MFA cannot be set up for this user; set up a software token with AssociateSoftwareToken.")
	}
	if email == "" {
		return AuthOutput{}, invalidParam("Missing required parameter EMAIL")
	}
	if !validEmail(email) {
		return AuthOutput{}, invalidParam("Invalid email address format.")
	}
	if err := s.claimAlone(ctx, claim); err != nil {
		return AuthOutput{}, errSessionExpired
	}
	return s.mfaChallenge(ctx, c, p, u, mfaState{Challenge: factorEmail, Email: email, Device: st.Device, Hosted: st.Hosted})
}

// associateInSetup is AssociateSoftwareToken with an MFA_SETUP Session:
// the secret travels sealed in the Session returned, which only
// VerifySoftwareToken takes.
func (s *Service) associateInSetup(ctx context.Context, session, secret string) (string, error) {
	c, p, st, err := s.setupSession(ctx, session)
	if err != nil {
		return "", err
	}
	if !contains(st.Choices, factorTOTP) {
		return "", errTOTPNotEnabled
	}
	if err := s.claimAlone(ctx, s.sessionClaim(c, session)); err != nil {
		return "", errSessionExpired
	}
	st.Secret = secret
	return s.sealMFAState(p, c, st)
}

// verifyInSetup is VerifySoftwareToken with the Session of
// associateInSetup: a right code makes the secret the user's enabled,
// preferred factor, and the Session returned completes MFA_SETUP.
func (s *Service) verifyInSetup(ctx context.Context, session, code, deviceName string) (string, error) {
	c, p, st, err := s.setupSession(ctx, session)
	if err != nil {
		return "", err
	}
	raw, err := totp.Encoding.DecodeString(st.Secret)
	if st.Secret == "" || err != nil || st.Verified {
		return "", errSessionUser
	}
	sealed, err := s.sealTOTP(p.ID, st.Username, raw)
	if err != nil {
		return "", internal("seal totp", err)
	}
	err = s.checkTOTP(ctx, p.ID, st.Username, code, func(storage.UserMFA) []byte { return raw }, func(m *storage.UserMFA) {
		m.TOTPSecret, m.TOTPPending, m.TOTPDeviceName, m.TOTPEnabled = sealed, "", deviceName, true
		if m.Preferred == "" {
			m.Preferred = factorTOTP
		}
	})
	switch {
	case errors.Is(err, errMFAMismatch):
		return "", ErrSoftwareTokenMismatch
	case err != nil:
		return "", err
	}
	// Claimed only once right, so a mistyped code can be tried again.
	if err := s.claimAlone(ctx, s.sessionClaim(c, session)); err != nil {
		return "", errSessionExpired
	}
	st.Secret, st.Verified = "", true
	return s.sealMFAState(p, c, st)
}

// setupSession opens an MFA_SETUP Session given without a ClientId
// (AssociateSoftwareToken, VerifySoftwareToken): the client it names in
// the clear is only where to look, the seal, bound to that client, is
// the proof.
func (s *Service) setupSession(ctx context.Context, session string) (storage.Client, storage.Pool, mfaState, error) {
	clientID, _, ok := strings.Cut(session, ".")
	if !ok || clientID == "" || len(clientID) > 128 {
		return storage.Client{}, storage.Pool{}, mfaState{}, errSessionExpired
	}
	c, p, err := s.client(ctx, clientID)
	if err != nil {
		if e := unreachable("get client", err); e != nil {
			return c, p, mfaState{}, e
		}
		return c, p, mfaState{}, errSessionExpired
	}
	st, err := s.openMFAState(p, c, session, challengeMFASetup)
	return c, p, st, err
}
