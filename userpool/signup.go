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
	if in.Password == "" {
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
	verify := contains(p.Settings.AutoVerifiedAttributes, "email") && u.Attributes["email"] != ""
	var code string
	err = s.store.Atomic(ctx, func(ctx context.Context, tx storage.Storage) error {
		if err := tx.CreateUser(ctx, u); err != nil {
			return err
		}
		if !verify {
			return nil
		}
		code, err = s.issueCode(ctx, tx, u, purposeSignUp, u.Attributes["email"], signUpCodeTTL)
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
	out := SignUpOutput{UserSub: u.Sub}
	if verify {
		if out.CodeDeliveryDetails, err = s.deliver(ctx, u, KindSignUp, "email", u.Attributes["email"], code); err != nil {
			return SignUpOutput{}, err
		}
	}
	s.log.InfoContext(ctx, "user signed up", "pool", p.ID, "client", c.ClientID, "sub", u.Sub)
	return out, nil
}

// ConfirmSignUp confirms a user with the code sent at sign-up.
func (s *Service) ConfirmSignUp(ctx context.Context, in ConfirmSignUpInput) (Empty, error) {
	c, p, err := s.publicClient(ctx, in.ClientId, in.Username, in.SecretHash)
	if err != nil {
		return Empty{}, err
	}
	if in.ConfirmationCode == "" {
		return Empty{}, invalidParam("1 validation error detected: Value at 'confirmationCode' failed to satisfy constraint: Member must not be null")
	}
	u, err := s.findUser(ctx, p, in.Username)
	if errors.Is(err, ErrUserNotFound) && preventsExistenceErrors(c) {
		return Empty{}, ErrCodeMismatch
	}
	if err != nil {
		return Empty{}, err
	}
	if u.Status != storage.StatusUnconfirmed {
		return Empty{}, errorf(ErrNotAuthorized, "User cannot be confirmed. Current status is %s", u.Status)
	}
	err = s.useCode(ctx, u, purposeSignUp, in.ConfirmationCode, func(ctx context.Context, tx storage.Storage, email string) error {
		return tx.UpdateUser(ctx, p.ID, u.Username, func(u storage.User) (storage.User, error) {
			u.Status = storage.StatusConfirmed
			if email != "" && u.Attributes["email"] == email {
				u.Attributes["email_verified"] = "true"
			}
			u.UpdatedAt = s.now()
			return u, nil
		})
	})
	if errors.Is(err, storage.ErrAlreadyExists) {
		return Empty{}, ErrAliasExists
	}
	return Empty{}, err
}

// ResendConfirmationCode sends a new sign-up code; the old one stops
// working.
func (s *Service) ResendConfirmationCode(ctx context.Context, in ResendConfirmationCodeInput) (CodeDeliveryOutput, error) {
	c, p, err := s.publicClient(ctx, in.ClientId, in.Username, in.SecretHash)
	if err != nil {
		return CodeDeliveryOutput{}, err
	}
	u, err := s.findUser(ctx, p, in.Username)
	if errors.Is(err, ErrUserNotFound) && preventsExistenceErrors(c) {
		return CodeDeliveryOutput{CodeDeliveryDetails: fakeDelivery(in.Username)}, nil
	}
	if err != nil {
		return CodeDeliveryOutput{}, err
	}
	if u.Status != storage.StatusUnconfirmed {
		return CodeDeliveryOutput{}, invalidParam("User is already confirmed.")
	}
	email := u.Attributes["email"]
	code, err := s.issueCode(ctx, s.store, u, purposeSignUp, email, signUpCodeTTL)
	if err != nil {
		return CodeDeliveryOutput{}, err
	}
	d, err := s.deliver(ctx, u, KindSignUp, "email", email, code)
	return CodeDeliveryOutput{CodeDeliveryDetails: d}, err
}

// preventsExistenceErrors is on unless the client turned it off (LEGACY).
func preventsExistenceErrors(c storage.Client) bool {
	return c.Settings.PreventUserExistenceErrors != "LEGACY"
}

// fakeDelivery answers as if a code went out, so a caller cannot tell
// whether the user exists.
func fakeDelivery(name string) *CodeDeliveryDetails {
	dest := "***"
	if strings.Contains(name, "@") {
		dest = maskEmail(name)
	}
	return &CodeDeliveryDetails{Destination: dest, DeliveryMedium: "EMAIL", AttributeName: "email"}
}
