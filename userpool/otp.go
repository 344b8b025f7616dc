package userpool

// One-time codes as the first factor of choice-based sign-in: EMAIL_OTP
// and SMS_OTP. A code is stored hashed like every other code (codes.go),
// goes out through the delivery queue, lives three minutes, is bound to
// the Session it was sent with, and is used once: its claim is made in
// the transaction that issues the tokens.

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"io"
	"strings"
	"time"

	"github.com/cognate-auth/cognate/storage"
)

// signInCodeTTL is how long a sign-in code is good for (Cognito's three
// minutes).
const signInCodeTTL = 3 * time.Minute

// Sign-in code lengths: Cognito's passwordless email codes have eight
// digits, its SMS codes six.
const (
	emailCodeDigits = 8
	smsCodeDigits   = 6
)

// maxCodeLen bounds a submitted code before it is hashed.
const maxCodeLen = 64

// signInCodePurpose is the stored purpose of a first-factor code.
func signInCodePurpose(factor string) string { return "sign_in:" + factor }

// sendSignInCode sends a code for factor (EMAIL_OTP or SMS_OTP) and
// answers with the challenge that asks for it. A decoy state is told of
// a simulated delivery, after the same counted send.
func (s *Service) sendSignInCode(ctx context.Context, c storage.Client, p storage.Pool, st userAuthState, u storage.User, factor string) (AuthOutput, error) {
	attr, digits := "email", emailCodeDigits
	if factor == factorSMSOTP {
		attr, digits = "phone_number", smsCodeDigits
	}
	purpose := signInCodePurpose(factor)
	details := s.fakeDelivery(p, st.Username)
	if factor == factorSMSOTP {
		details = s.fakePhoneDelivery(p, st.Username)
	}
	var text customText
	if !st.Fake {
		var err error
		if text, err = s.customMessage(ctx, p, c.ClientID, sourceMessageAuth, u, u.Attributes[attr]); err != nil {
			return AuthOutput{}, err
		}
	}
	err := s.sendAtomic(ctx, func(ctx context.Context, tx storage.Storage) error {
		if err := s.countSend(ctx, tx, p.ID, purpose, st.subject()); err != nil {
			return err
		}
		if st.Fake {
			return nil
		}
		dest := u.Attributes[attr]
		code, hash, err := s.issueDigits(ctx, tx, u, purpose, dest, signInCodeTTL, digits)
		if err != nil {
			return err
		}
		st.Code = fingerprint(hash)
		details, err = s.queue(ctx, tx, u, KindSignInCode, attr, dest, code, text)
		return err
	})
	if err != nil {
		return AuthOutput{}, err
	}
	if st.Fake {
		st.Code = make([]byte, 8)
		if _, err := io.ReadFull(rand.Reader, st.Code); err != nil {
			return AuthOutput{}, internal("decoy code", err)
		}
	}
	st.Challenge = factor
	sess, err := s.sealUserAuth(c, p, st)
	if err != nil {
		return AuthOutput{}, err
	}
	return AuthOutput{ChallengeName: factor, Session: sess, ChallengeParameters: map[string]string{
		"CODE_DELIVERY_DELIVERY_MEDIUM": details.DeliveryMedium,
		"CODE_DELIVERY_DESTINATION":     details.Destination,
	}}, nil
}

// verifySignInCode answers EMAIL_OTP or SMS_OTP. A wrong code counts
// toward the lock of the user's codes of that factor
// (CodeMismatchException, then LimitExceededException) and leaves the
// Session usable; a right one signs the user in, with no MFA after it
// (as in Cognito, a one-time code to the user's own address is the
// proof), and uses the code up.
func (s *Service) verifySignInCode(ctx context.Context, c storage.Client, p storage.Pool, st userAuthState, u storage.User, factor string, cr map[string]string) (AuthOutput, error) {
	field := factor + "_CODE"
	submitted := cr[field]
	if submitted == "" {
		return AuthOutput{}, invalidParam("Missing required parameter %s", field)
	}
	purpose := signInCodePurpose(factor)
	g, err := s.startGuess(ctx, codeSecret(purpose), p.ID, st.subject())
	if err != nil {
		return AuthOutput{}, err
	}
	var stored storage.Code
	ok := false
	if !st.Fake && len(submitted) <= maxCodeLen {
		stored, err = s.store.GetCode(ctx, p.ID, u.Username, purpose)
		switch {
		case errors.Is(err, storage.ErrNotFound):
		case err != nil:
			return AuthOutput{}, internal("get code", err)
		default:
			ok = hmac.Equal(fingerprint(stored.Hash), st.Code) && hmac.Equal(stored.Hash, s.hashCode(stored, submitted))
		}
	}
	if err := g.settle(ctx, s.store, ok); err != nil {
		return AuthOutput{}, err
	}
	if !stored.UsedAt.IsZero() || s.now().After(stored.ExpiresAt) {
		return AuthOutput{}, errSessionExpired
	}
	claim := oneTimeClaim{key: append([]byte("sign-in-code/"), stored.Hash...), until: stored.ExpiresAt.Add(srpClaimMargin)}
	switch err := s.gate(u); {
	case errors.Is(err, errNewPasswordRequired):
		if err := s.claimAlone(ctx, claim); err != nil {
			return AuthOutput{}, err
		}
		return s.newPasswordChallenge(c, p, u)
	case err != nil:
		return AuthOutput{}, err
	}
	if st.Hosted {
		if err := s.claimAlone(ctx, claim); err != nil {
			return AuthOutput{}, err
		}
		return AuthOutput{signedIn: u.Username}, nil
	}
	res, err := s.signIn(ctx, c, p, u, grant{scope: ScopeSignInUserAdmin, claim: claim, newDevice: tracksDevices(p)})
	if err != nil {
		return AuthOutput{}, err
	}
	return AuthOutput{AuthenticationResult: res}, nil
}

// maskPhone shows a phone number as Cognito does: its last four digits.
func maskPhone(phone string) string {
	if len(phone) <= 4 {
		return "+*******"
	}
	return "+" + strings.Repeat("*", max(len(phone)-5, 1)) + phone[len(phone)-4:]
}

// fakePhoneDelivery is fakeDelivery for a text message: a stable,
// plausible masked number derived from the name with a server key.
func (s *Service) fakePhoneDelivery(p storage.Pool, name string) *CodeDeliveryDetails {
	m := hmac.New(sha256.New, s.fakeKey)
	m.Write([]byte("phone\x00" + p.ID + "\x00" + name))
	sum := m.Sum(nil)
	digits := make([]byte, 4)
	for i := range digits {
		digits[i] = '0' + sum[i]%10
	}
	return &CodeDeliveryDetails{Destination: "+*******" + string(digits), DeliveryMedium: "SMS", AttributeName: "phone_number"}
}
