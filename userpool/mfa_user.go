package userpool

// A user's MFA: the authenticator secret (AssociateSoftwareToken,
// VerifySoftwareToken), the factor preferences (SetUserMFAPreference and
// its admin twin), and how GetUser and AdminGetUser show them.

import (
	"context"
	"crypto/rand"
	"errors"
	"io"
	"time"

	"github.com/cognate-auth/cognate/internal/totp"
	"github.com/cognate-auth/cognate/storage"
)

// sealTOTPPurpose binds a sealed authenticator secret to its use; the
// bind is the pool and username, so a secret copied to another user's
// record does not open.
const sealTOTPPurpose = "totp-secret"

// sealedForever is the age limit of sealed authenticator secrets: they
// live as long as the user keeps them.
const sealedForever = 100 * 365 * 24 * time.Hour

var (
	errTOTPNotEnabled = newErr("SoftwareTokenMFANotFoundException", "Software Token MFA has not been enabled by the userPool.")
	errTOTPNotFound   = newErr("SoftwareTokenMFANotFoundException", "User has not set up software token mfa")
)

// ErrSoftwareTokenMismatch is VerifySoftwareToken's answer to a wrong
// first code of an authenticator app.
var ErrSoftwareTokenMismatch = newErr("EnableSoftwareTokenMFAException", "Code mismatch and fail enable Software Token MFA")

// AssociateSoftwareTokenInput is AssociateSoftwareToken's request: an
// access token, or the Session of an MFA_SETUP challenge.
type AssociateSoftwareTokenInput struct {
	AccessToken string `json:"AccessToken"`
	Session     string `json:"Session"`
}

// AssociateSoftwareTokenOutput carries the new secret, unpadded base32.
type AssociateSoftwareTokenOutput struct {
	SecretCode string `json:"SecretCode"`
	Session    string `json:"Session,omitempty"`
}

// VerifySoftwareTokenInput is VerifySoftwareToken's request.
type VerifySoftwareTokenInput struct {
	AccessToken        string `json:"AccessToken"`
	Session            string `json:"Session"`
	UserCode           string `json:"UserCode"`
	FriendlyDeviceName string `json:"FriendlyDeviceName"`
}

// VerifySoftwareTokenOutput is VerifySoftwareToken's response.
type VerifySoftwareTokenOutput struct {
	Status  string `json:"Status"`
	Session string `json:"Session,omitempty"`
}

// MfaSettings is one factor's SMSMfaSettings, SoftwareTokenMfaSettings
// or EmailMfaSettings.
// A left-out PreferredMfa keeps the preference as it is.
type MfaSettings struct {
	Enabled      bool  `json:"Enabled"`
	PreferredMfa *bool `json:"PreferredMfa"`
}

// SetUserMFAPreferenceInput is SetUserMFAPreference's request.
type SetUserMFAPreferenceInput struct {
	AccessToken              string       `json:"AccessToken"`
	SMSMfaSettings           *MfaSettings `json:"SMSMfaSettings"`
	SoftwareTokenMfaSettings *MfaSettings `json:"SoftwareTokenMfaSettings"`
	EmailMfaSettings         *MfaSettings `json:"EmailMfaSettings"`
}

// AdminSetUserMFAPreferenceInput is AdminSetUserMFAPreference's request.
type AdminSetUserMFAPreferenceInput struct {
	UserPoolId               string       `json:"UserPoolId"`
	Username                 string       `json:"Username"`
	SMSMfaSettings           *MfaSettings `json:"SMSMfaSettings"`
	SoftwareTokenMfaSettings *MfaSettings `json:"SoftwareTokenMfaSettings"`
	EmailMfaSettings         *MfaSettings `json:"EmailMfaSettings"`
}

// MFAOptionType is the legacy per-user SMS MFA option Cognito still
// lists.
type MFAOptionType struct {
	DeliveryMedium string `json:"DeliveryMedium"`
	AttributeName  string `json:"AttributeName"`
}

func newTOTPSecret() ([]byte, error) {
	b := make([]byte, totp.SecretSize)
	_, err := io.ReadFull(rand.Reader, b)
	return b, err
}

func (s *Service) sealTOTP(poolID, username string, secret []byte) (string, error) {
	return s.sealer.seal(sealTOTPPurpose, poolID+"|"+username, s.now(), secret)
}

func (s *Service) openTOTP(poolID, username, sealed string) ([]byte, error) {
	var secret []byte
	err := s.sealer.open(sealTOTPPurpose, poolID+"|"+username, sealed, sealedForever, s.now(), &secret)
	return secret, err
}

// AssociateSoftwareToken makes a new authenticator secret. With an access
// token it waits on the user, unverified, for VerifySoftwareToken; with
// an MFA_SETUP Session it travels, sealed, in the Session returned.
func (s *Service) AssociateSoftwareToken(ctx context.Context, in AssociateSoftwareTokenInput) (AssociateSoftwareTokenOutput, error) {
	if (in.AccessToken == "") == (in.Session == "") {
		return AssociateSoftwareTokenOutput{}, invalidParam("Exactly one of AccessToken and Session is required.")
	}
	secret, err := newTOTPSecret()
	if err != nil {
		return AssociateSoftwareTokenOutput{}, internal("totp secret", err)
	}
	code := totp.Encoding.EncodeToString(secret)
	if in.Session != "" {
		sess, err := s.associateInSetup(ctx, in.Session, code)
		return AssociateSoftwareTokenOutput{SecretCode: code, Session: sess}, err
	}
	ts, err := s.authorize(ctx, in.AccessToken)
	if err != nil {
		return AssociateSoftwareTokenOutput{}, err
	}
	if !ts.pool.Settings.SoftwareTokenMFAEnabled {
		return AssociateSoftwareTokenOutput{}, errTOTPNotEnabled
	}
	sealed, err := s.sealTOTP(ts.pool.ID, ts.user.Username, secret)
	if err != nil {
		return AssociateSoftwareTokenOutput{}, internal("seal totp", err)
	}
	err = s.updateUserMFA(ctx, ts.pool.ID, ts.user.Username, func(m *storage.UserMFA) error {
		m.TOTPPending = sealed
		return nil
	})
	if err != nil {
		return AssociateSoftwareTokenOutput{}, err
	}
	return AssociateSoftwareTokenOutput{SecretCode: code}, nil
}

// VerifySoftwareToken checks a first code from the authenticator. With
// an access token the secret becomes the user's (TOTP MFA is then turned
// on with SetUserMFAPreference); with a Session it becomes the user's
// enabled factor and the Session returned completes MFA_SETUP.
func (s *Service) VerifySoftwareToken(ctx context.Context, in VerifySoftwareTokenInput) (VerifySoftwareTokenOutput, error) {
	if (in.AccessToken == "") == (in.Session == "") {
		return VerifySoftwareTokenOutput{}, invalidParam("Exactly one of AccessToken and Session is required.")
	}
	if len(in.UserCode) != totp.Digits {
		return VerifySoftwareTokenOutput{}, invalidParam("1 validation error detected: Value at 'userCode' failed to satisfy constraint: Member must have length less than or equal to 6")
	}
	if len(in.FriendlyDeviceName) > 131072 {
		return VerifySoftwareTokenOutput{}, invalidParam("FriendlyDeviceName is too long.")
	}
	if in.Session != "" {
		sess, err := s.verifyInSetup(ctx, in.Session, in.UserCode, in.FriendlyDeviceName)
		if err != nil {
			return VerifySoftwareTokenOutput{}, err
		}
		return VerifySoftwareTokenOutput{Status: "SUCCESS", Session: sess}, nil
	}
	ts, err := s.authorize(ctx, in.AccessToken)
	if err != nil {
		return VerifySoftwareTokenOutput{}, err
	}
	if ts.user.MFA.TOTPPending == "" {
		return VerifySoftwareTokenOutput{}, errTOTPNotFound
	}
	err = s.checkTOTP(ctx, ts.pool.ID, ts.user.Username, in.UserCode, s.pendingTOTP(ts.pool.ID, ts.user.Username), func(m *storage.UserMFA) {
		m.TOTPSecret, m.TOTPPending, m.TOTPDeviceName = m.TOTPPending, "", in.FriendlyDeviceName
	})
	if errors.Is(err, errMFAMismatch) {
		return VerifySoftwareTokenOutput{}, ErrSoftwareTokenMismatch
	}
	if err != nil {
		return VerifySoftwareTokenOutput{}, err
	}
	return VerifySoftwareTokenOutput{Status: "SUCCESS"}, nil
}

// errTOTPWrong is checkTOTP's updater refusing a code.
var errTOTPWrong = errors.New("totp code refused")

// totpSource finds, in a user's MFA state, the secret a code is checked
// against; nil when there is none.
type totpSource func(storage.UserMFA) []byte

// verifiedTOTP is the user's verified secret.
func (s *Service) verifiedTOTP(poolID, username string) totpSource {
	return func(m storage.UserMFA) []byte { return s.openedTOTP(poolID, username, m.TOTPSecret) }
}

// pendingTOTP is the secret associated and not yet verified.
func (s *Service) pendingTOTP(poolID, username string) totpSource {
	return func(m storage.UserMFA) []byte { return s.openedTOTP(poolID, username, m.TOTPPending) }
}

func (s *Service) openedTOTP(poolID, username, sealed string) []byte {
	if sealed == "" {
		return nil
	}
	secret, err := s.openTOTP(poolID, username, sealed)
	if err != nil {
		return nil
	}
	return secret
}

// checkTOTP checks code against the secret source finds and, in the
// same atomic update of the user, records its time step as the last
// accepted and applies onOK: of two uses of one code, on any nodes, one
// wins, and no code older than an accepted one is taken. Wrong codes
// count toward the user's MFA lockout.
func (s *Service) checkTOTP(ctx context.Context, poolID, username, code string, source totpSource, onOK func(*storage.UserMFA)) error {
	g, err := s.startGuess(ctx, mfaSecret, poolID, username)
	if err != nil {
		return err
	}
	var ok bool
	err = s.store.UpdateUser(ctx, poolID, username, func(u storage.User) (storage.User, error) {
		ok = false
		secret := source(u.MFA)
		if secret == nil {
			return u, errTOTPWrong
		}
		step, match := totp.Check(secret, code, s.now(), u.MFA.TOTPLastStep)
		if !match {
			return u, errTOTPWrong
		}
		ok = true
		u.MFA.TOTPLastStep = step
		if onOK != nil {
			onOK(&u.MFA)
		}
		u.UpdatedAt = s.now()
		return u, nil
	})
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return errSessionUser
	case err != nil && !errors.Is(err, errTOTPWrong):
		return internal("check totp", err)
	}
	return g.settle(ctx, s.store, ok)
}

// updateUserMFA applies fn to a user's MFA state.
func (s *Service) updateUserMFA(ctx context.Context, poolID, username string, fn func(*storage.UserMFA) error) error {
	err := s.store.UpdateUser(ctx, poolID, username, func(u storage.User) (storage.User, error) {
		if err := fn(&u.MFA); err != nil {
			return u, err
		}
		u.UpdatedAt = s.now()
		return u, nil
	})
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return ErrUserNotFound
	case err != nil:
		return internal("update user mfa", err)
	}
	return nil
}

// SetUserMFAPreference turns the caller's factors on or off and picks
// the preferred one.
func (s *Service) SetUserMFAPreference(ctx context.Context, in SetUserMFAPreferenceInput) (Empty, error) {
	ts, err := s.authorize(ctx, in.AccessToken)
	if err != nil {
		return Empty{}, err
	}
	return Empty{}, s.setMFAPreference(ctx, ts.pool, ts.user.Username, false, in.SMSMfaSettings, in.SoftwareTokenMfaSettings, in.EmailMfaSettings)
}

// AdminSetUserMFAPreference is SetUserMFAPreference for an administrator.
// Turning TOTP off here also forgets the authenticator secret: the
// lost-phone case, where the user must associate a new one.
func (s *Service) AdminSetUserMFAPreference(ctx context.Context, in AdminSetUserMFAPreferenceInput) (Empty, error) {
	p, u, err := s.adminUser(ctx, in.UserPoolId, in.Username)
	if err != nil {
		return Empty{}, err
	}
	return Empty{}, s.setMFAPreference(ctx, p, u.Username, true, in.SMSMfaSettings, in.SoftwareTokenMfaSettings, in.EmailMfaSettings)
}

func (s *Service) setMFAPreference(ctx context.Context, p storage.Pool, username string, admin bool, sms, soft, email *MfaSettings) error {
	err := s.store.UpdateUser(ctx, p.ID, username, func(u storage.User) (storage.User, error) {
		for _, f := range []struct {
			factor string
			set    *MfaSettings
		}{{factorSMS, sms}, {factorTOTP, soft}, {factorEmail, email}} {
			if f.set == nil {
				continue
			}
			if err := applyFactor(p, &u, f.factor, *f.set, admin); err != nil {
				return u, err
			}
		}
		u.UpdatedAt = s.now()
		return u, nil
	})
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return ErrUserNotFound
	case err != nil:
		return internal("set mfa preference", err)
	}
	return nil
}

// applyFactor applies one factor's settings to u.
func applyFactor(p storage.Pool, u *storage.User, factor string, set MfaSettings, admin bool) error {
	m := &u.MFA
	preferred := set.PreferredMfa != nil && *set.PreferredMfa
	on := set.Enabled || preferred
	if on {
		if !contains(poolFactors(p), factor) {
			return invalidParam("%s is not enabled for the user pool.", factor)
		}
		switch {
		case factor == factorTOTP && m.TOTPSecret == "":
			return invalidParam("User has not verified software token mfa")
		case factor == factorSMS && u.Attributes["phone_number"] == "":
			return invalidParam("User does not have delivery config set to turn on SMS_MFA")
		case factor == factorEmail && u.Attributes["email"] == "":
			return invalidParam("User does not have delivery config set to turn on EMAIL_OTP")
		}
	}
	switch factor {
	case factorSMS:
		m.SMSEnabled = on
	case factorTOTP:
		m.TOTPEnabled = on
		if !on && admin {
			m.TOTPSecret, m.TOTPPending, m.TOTPDeviceName, m.TOTPLastStep = "", "", "", 0
		}
	case factorEmail:
		m.EmailEnabled = on
	}
	switch {
	case preferred:
		m.Preferred = factor
	case m.Preferred == factor && (!on || set.PreferredMfa != nil):
		m.Preferred = ""
	}
	return nil
}

// userFactors are the factors u has turned on that p still offers, in
// Cognito's order.
func userFactors(p storage.Pool, u storage.User) []string {
	var out []string
	for _, f := range poolFactors(p) {
		if factorOn(u, f) {
			out = append(out, f)
		}
	}
	return out
}

func factorOn(u storage.User, f string) bool {
	switch f {
	case factorSMS:
		return u.MFA.SMSEnabled && u.Attributes["phone_number"] != ""
	case factorTOTP:
		return u.MFA.TOTPEnabled && u.MFA.TOTPSecret != ""
	case factorEmail:
		return u.MFA.EmailEnabled && u.Attributes["email"] != ""
	}
	return false
}

// mfaView is what GetUser and AdminGetUser show of a user's MFA.
type mfaView struct {
	options   []MFAOptionType
	preferred string
	list      []string
}

func viewMFA(p storage.Pool, u storage.User) mfaView {
	v := mfaView{list: userFactors(p, u)}
	if contains(v.list, u.MFA.Preferred) {
		v.preferred = u.MFA.Preferred
	}
	if contains(v.list, factorSMS) {
		v.options = []MFAOptionType{{DeliveryMedium: "SMS", AttributeName: "phone_number"}}
	}
	return v
}
