package userpool

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/cognate-auth/cognate/srp"
	"github.com/cognate-auth/cognate/storage"
)

// newUser builds a user record with a password; in email pools the
// username is the sub and the email comes from the name signed up with.
func (s *Service) newUser(p storage.Pool, name, password string, attrs []AttributeType) (storage.User, error) {
	if err := checkAttributes(p, attrs); err != nil {
		return storage.User{}, err
	}
	sub := uuid.NewString()
	u := storage.User{PoolID: p.ID, Username: name, Sub: sub, Enabled: true, Status: storage.StatusUnconfirmed}
	if signsInByEmail(p) {
		if !validEmail(name) {
			return u, invalidParam("Username should be an email.")
		}
		u.Username = sub
		attrs = append(withoutAttr(attrs, "email"), AttributeType{Name: "email", Value: name})
	} else if err := checkUsername(name); err != nil {
		return u, err
	}
	applyAttributes(&u, attrs)
	u.Attributes["sub"] = sub
	if password != "" {
		if err := checkPassword(p.Settings.PasswordPolicy, password); err != nil {
			return u, err
		}
		setPassword(&u, p, password)
	}
	return u, nil
}

func withoutAttr(attrs []AttributeType, name string) []AttributeType {
	out := attrs[:0:0]
	for _, a := range attrs {
		if a.Name != name {
			out = append(out, a)
		}
	}
	return out
}

// checkUsername applies Cognito's username pattern [\p{L}\p{M}\p{S}\p{N}\p{P}]+
// with its 128-character limit.
func checkUsername(name string) error {
	if name == "" || len([]rune(name)) > 128 || strings.ContainsAny(name, " \t\r\n") {
		return invalidParam("1 validation error detected: Value at 'username' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\p{L}\\p{M}\\p{S}\\p{N}\\p{P}]+")
	}
	return nil
}

// setPassword stores a password as its SRP salt and verifier only.
func setPassword(u *storage.User, p storage.Pool, password string) {
	salt := srp.NewSalt()
	u.SRPSalt = salt
	u.SRPVerifier = srp.Verifier(srp.PoolName(p.ID), u.Username, password, salt)
	u.PasswordExpiresAt = time.Time{}
}

// SignUp registers a user and sends a confirmation code.
func (s *Service) SignUp(ctx context.Context, in SignUpInput) (SignUpOutput, error) {
	c, p, err := s.publicClient(ctx, in.ClientId, in.Username, in.SecretHash)
	if err != nil {
		return SignUpOutput{}, err
	}
	if p.Settings.AllowAdminCreateUserOnly {
		return SignUpOutput{}, errorf(ErrNotAuthorized, "SignUp is not permitted for this user pool")
	}
	if in.Password == "" && !allowsPasswordless(p) {
		return SignUpOutput{}, invalidParam("1 validation error detected: Value at 'password' failed to satisfy constraint: Member must not be null")
	}
	if err := checkClientWritable(in.UserAttributes); err != nil {
		return SignUpOutput{}, err
	}
	u, err := s.newUser(p, in.Username, in.Password, in.UserAttributes)
	if err != nil {
		return SignUpOutput{}, err
	}
	u.CreatedAt, u.UpdatedAt = s.now(), s.now()
	ctx = withClientMetadata(ctx, in.ClientMetadata)
	if err := s.preSignUp(ctx, p, c.ClientID, sourcePreSignUp, &u, attributeMap(in.ValidationData)); err != nil {
		return SignUpOutput{}, err
	}
	confirmed := u.Status == storage.StatusConfirmed
	verify := !confirmed && contains(p.Settings.AutoVerifiedAttributes, "email") && u.Attributes["email"] != ""
	out := SignUpOutput{UserSub: u.Sub, UserConfirmed: confirmed}
	var text customText
	if verify {
		if text, err = s.customMessage(ctx, p, c.ClientID, sourceMessageSignUp, u, u.Attributes["email"]); err != nil {
			return SignUpOutput{}, err
		}
	}
	err = s.sendAtomic(ctx, func(ctx context.Context, tx storage.Storage) error {
		if err := tx.CreateUser(ctx, u); err != nil {
			return err
		}
		if !verify {
			return nil
		}
		code, err := s.issueCode(ctx, tx, u, purposeSignUp, u.Attributes["email"], signUpCodeTTL)
		if err != nil {
			return err
		}
		out.CodeDeliveryDetails, err = s.queue(ctx, tx, u, KindSignUp, "email", u.Attributes["email"], code, text)
		return err
	})
	if errors.Is(err, storage.ErrAlreadyExists) {
		if signsInByEmail(p) {
			return SignUpOutput{}, ErrUsernameExists
		}
		return SignUpOutput{}, errorf(ErrUsernameExists, "User already exists")
	}
	if err != nil {
		return SignUpOutput{}, internal("create user", err)
	}
	s.log.InfoContext(ctx, "user signed up", "pool", p.ID, "client", c.ClientID, "sub", u.Sub)
	if confirmed {
		if err := s.postConfirmation(ctx, p, c.ClientID, u.Username); err != nil {
			return SignUpOutput{}, err
		}
	}
	out.Session, err = s.signUpSession(c, p, u, sealSignedUp)
	return out, err
}

// ConfirmSignUp confirms a user with the code sent at sign-up. With
// existence errors prevented, the account's state is revealed only to a
// caller who proves the code: an unknown name, a confirmed or disabled
// user all answer like a wrong code.
func (s *Service) ConfirmSignUp(ctx context.Context, in ConfirmSignUpInput) (ConfirmSignUpOutput, error) {
	c, p, err := s.publicClient(ctx, in.ClientId, in.Username, in.SecretHash)
	if err != nil {
		return ConfirmSignUpOutput{}, err
	}
	if in.ConfirmationCode == "" {
		return ConfirmSignUpOutput{}, invalidParam("1 validation error detected: Value at 'confirmationCode' failed to satisfy constraint: Member must not be null")
	}
	u, subject, err := s.subjectOf(ctx, c, p, in.Username)
	if err != nil {
		return ConfirmSignUpOutput{}, err
	}
	if !preventsExistenceErrors(c) && u.Status != storage.StatusUnconfirmed {
		return ConfirmSignUpOutput{}, notConfirmable(u)
	}
	err = s.useCode(ctx, p.ID, u, subject, purposeSignUp, in.ConfirmationCode, func(ctx context.Context, tx storage.Storage, email string) error {
		return tx.UpdateUser(ctx, p.ID, u.Username, func(u storage.User) (storage.User, error) {
			if u.Status != storage.StatusUnconfirmed {
				return u, notConfirmable(u)
			}
			if !u.Enabled {
				return u, errorf(ErrNotAuthorized, "User is disabled.")
			}
			u.Status = storage.StatusConfirmed
			if email != "" && u.Attributes["email"] == email {
				u.Attributes["email_verified"] = "true"
			}
			u.UpdatedAt = s.now()
			return u, nil
		})
	})
	if errors.Is(err, storage.ErrAlreadyExists) {
		return ConfirmSignUpOutput{}, ErrAliasExists
	}
	if err != nil {
		return ConfirmSignUpOutput{}, err
	}
	if err := s.postConfirmation(withClientMetadata(ctx, in.ClientMetadata), p, c.ClientID, u.Username); err != nil {
		return ConfirmSignUpOutput{}, err
	}
	sess, err := s.signUpSession(c, p, u, sealConfirmed)
	return ConfirmSignUpOutput{Session: sess}, err
}

func notConfirmable(u storage.User) error {
	return errorf(ErrNotAuthorized, "User cannot be confirmed. Current status is %s", u.Status)
}

// ResendConfirmationCode sends a new sign-up code; the old one stops
// working. With existence errors prevented, every name gets the same
// answer, and costs the same: a code goes out only to an enabled,
// unconfirmed user with an email, and everyone else is told of a
// simulated delivery.
func (s *Service) ResendConfirmationCode(ctx context.Context, in ResendConfirmationCodeInput) (CodeDeliveryOutput, error) {
	c, p, err := s.publicClient(ctx, in.ClientId, in.Username, in.SecretHash)
	if err != nil {
		return CodeDeliveryOutput{}, err
	}
	u, subject, err := s.subjectOf(ctx, c, p, in.Username)
	if err != nil {
		return CodeDeliveryOutput{}, err
	}
	email := u.Attributes["email"]
	var refusal error
	switch {
	case u.Username == "":
	case u.Status != storage.StatusUnconfirmed:
		refusal = invalidParam("User is already confirmed.")
	case !u.Enabled:
		refusal = errorf(ErrNotAuthorized, "User is disabled.")
	case email == "":
		refusal = invalidParam("User has no value for email to send a code to.")
	}
	ctx = withClientMetadata(ctx, in.ClientMetadata)
	var text customText
	if u.Username != "" && refusal == nil {
		if text, err = s.customMessage(ctx, p, c.ClientID, sourceMessageResend, u, email); err != nil {
			return CodeDeliveryOutput{}, err
		}
	}
	return s.sendCode(ctx, c, p, purposeSignUp, in.Username, u, subject, refusal, func(ctx context.Context, tx storage.Storage) (*CodeDeliveryDetails, error) {
		code, err := s.issueCode(ctx, tx, u, purposeSignUp, email, signUpCodeTTL)
		if err != nil {
			return nil, err
		}
		return s.queue(ctx, tx, u, KindSignUp, "email", email, code, text)
	})
}

// sendCode is the common end of ResendConfirmationCode and
// ForgotPassword: in one transaction it counts the request (see
// countSend) and, for a user with no refusal, runs send. A user with a
// refusal, or no user (u is zero), gets the refusal (LEGACY clients) or
// a simulated delivery named after what the caller typed.
func (s *Service) sendCode(ctx context.Context, c storage.Client, p storage.Pool, purpose, name string, u storage.User, subject string, refusal error,
	send func(ctx context.Context, tx storage.Storage) (*CodeDeliveryDetails, error)) (CodeDeliveryOutput, error) {
	deliverable := u.Username != "" && refusal == nil
	if !deliverable && !preventsExistenceErrors(c) {
		return CodeDeliveryOutput{}, refusal
	}
	out := CodeDeliveryOutput{CodeDeliveryDetails: s.fakeDelivery(p, name)}
	err := s.sendAtomic(ctx, func(ctx context.Context, tx storage.Storage) error {
		if err := s.countSend(ctx, tx, p.ID, purpose, subject); err != nil {
			return err
		}
		if !deliverable {
			return nil
		}
		var err error
		out.CodeDeliveryDetails, err = send(ctx, tx)
		return err
	})
	if err != nil {
		return CodeDeliveryOutput{}, err
	}
	return out, nil
}

// subjectOf resolves what an unsigned operation calls a user: the user
// and its username, or, when existence errors are prevented and no user
// has the name, the zero User and the name as a lookup matches it.
func (s *Service) subjectOf(ctx context.Context, c storage.Client, p storage.Pool, name string) (storage.User, string, error) {
	u, err := s.findUser(ctx, p, name)
	switch {
	case err == nil:
		return u, u.Username, nil
	case errors.Is(err, ErrUserNotFound) && preventsExistenceErrors(c):
		return storage.User{}, lookupName(p, name), nil
	}
	return u, "", err
}

// preventsExistenceErrors is on unless the client turned it off (LEGACY).
func preventsExistenceErrors(c storage.Client) bool {
	return c.Settings.PreventUserExistenceErrors != "LEGACY"
}
