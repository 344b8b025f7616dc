package userpool

import (
	"context"
	"errors"
	"time"

	"github.com/cognate-auth/cognate/storage"
)

// adminUser resolves a user of a pool for an admin operation.
func (s *Service) adminUser(ctx context.Context, poolID, name string) (storage.Pool, storage.User, error) {
	p, err := s.pool(ctx, poolID)
	if err != nil {
		return p, storage.User{}, err
	}
	u, err := s.findUser(ctx, p, name)
	return p, u, err
}

func userType(u storage.User) UserType {
	t := UserType{
		Username: u.Username, Attributes: attributeList(u.Attributes), Enabled: u.Enabled, UserStatus: u.Status,
		UserCreateDate: Epoch(u.CreatedAt), UserLastModifiedDate: Epoch(u.UpdatedAt),
	}
	if factorOn(u, factorSMS) {
		t.MFAOptions = []MFAOptionType{{DeliveryMedium: "SMS", AttributeName: "phone_number"}}
	}
	return t
}

// AdminCreateUser creates a confirmed-by-admin user with a temporary
// password that must be changed at first sign-in (NEW_PASSWORD_REQUIRED).
func (s *Service) AdminCreateUser(ctx context.Context, in AdminCreateUserInput) (AdminCreateUserOutput, error) {
	if err := in.validate(); err != nil {
		return AdminCreateUserOutput{}, err
	}
	p, err := s.pool(ctx, in.UserPoolId)
	if err != nil {
		return AdminCreateUserOutput{}, err
	}
	if in.MessageAction == "RESEND" {
		return s.resendTemporaryPassword(ctx, p, in)
	}
	temp := in.TemporaryPassword
	if temp == "" && allowsPasswordless(p) {
		return s.createPasswordless(ctx, p, in)
	}
	if temp == "" {
		if temp, err = generatePassword(p.Settings.PasswordPolicy); err != nil {
			return AdminCreateUserOutput{}, internal("temporary password", err)
		}
	}
	u, err := s.newUser(p, in.Username, temp, in.UserAttributes)
	if err != nil {
		return AdminCreateUserOutput{}, err
	}
	now := s.now()
	u.Status = storage.StatusForceChangePassword
	u.CreatedAt, u.UpdatedAt = now, now
	if err := s.preSignUp(withClientMetadata(ctx, in.ClientMetadata), p, "", sourcePreSignUpAdmin, &u, attributeMap(in.ValidationData)); err != nil {
		return AdminCreateUserOutput{}, err
	}
	if days := p.Settings.PasswordPolicy.TemporaryPasswordValidityDays; days > 0 {
		u.PasswordExpiresAt = now.Add(time.Duration(days) * 24 * time.Hour)
	}
	var text customText
	if in.MessageAction != "SUPPRESS" {
		if text, err = s.customMessage(withClientMetadata(ctx, in.ClientMetadata), p, "", sourceMessageAdminCreate, u, u.Attributes["email"]); err != nil {
			return AdminCreateUserOutput{}, err
		}
	}
	err = s.sendAtomic(ctx, func(ctx context.Context, tx storage.Storage) error {
		if err := tx.CreateUser(ctx, u); err != nil {
			return err
		}
		if in.MessageAction == "SUPPRESS" || u.Attributes["email"] == "" {
			return nil
		}
		_, err := s.queue(ctx, tx, u, KindAdminCreateUser, "email", u.Attributes["email"], temp, text)
		return err
	})
	if errors.Is(err, storage.ErrAlreadyExists) {
		return AdminCreateUserOutput{}, errorf(ErrUsernameExists, "User account already exists")
	} else if err != nil {
		return AdminCreateUserOutput{}, internal("create user", err)
	}
	return AdminCreateUserOutput{User: userType(u)}, nil
}

func (s *Service) resendTemporaryPassword(ctx context.Context, p storage.Pool, in AdminCreateUserInput) (AdminCreateUserOutput, error) {
	u, err := s.findUser(ctx, p, in.Username)
	if err != nil {
		return AdminCreateUserOutput{}, err
	}
	if u.Status != storage.StatusForceChangePassword {
		return AdminCreateUserOutput{}, errorf(ErrUnsupportedOperation, "Resend not possible. %s status is %s instead of FORCE_CHANGE_PASSWORD", u.Username, u.Status)
	}
	temp := in.TemporaryPassword
	if temp == "" {
		if temp, err = generatePassword(p.Settings.PasswordPolicy); err != nil {
			return AdminCreateUserOutput{}, internal("temporary password", err)
		}
	} else if err := checkPassword(p.Settings.PasswordPolicy, temp); err != nil {
		return AdminCreateUserOutput{}, err
	}
	text, err := s.customMessage(withClientMetadata(ctx, in.ClientMetadata), p, "", sourceMessageAdminCreate, u, u.Attributes["email"])
	if err != nil {
		return AdminCreateUserOutput{}, err
	}
	err = s.sendAtomic(ctx, func(ctx context.Context, tx storage.Storage) error {
		err := tx.UpdateUser(ctx, p.ID, u.Username, func(x storage.User) (storage.User, error) {
			setPassword(&x, p, temp)
			if days := p.Settings.PasswordPolicy.TemporaryPasswordValidityDays; days > 0 {
				x.PasswordExpiresAt = s.now().Add(time.Duration(days) * 24 * time.Hour)
			}
			x.UpdatedAt = s.now()
			u = x
			return x, nil
		})
		if err != nil {
			return err
		}
		_, err = s.queue(ctx, tx, u, KindAdminCreateUser, "email", u.Attributes["email"], temp, text)
		return err
	})
	if err != nil {
		return AdminCreateUserOutput{}, internal("resend temporary password", err)
	}
	return AdminCreateUserOutput{User: userType(u)}, nil
}

// generatePassword returns a random password satisfying the policy.
func generatePassword(pol storage.PasswordPolicy) (string, error) {
	var out string
	for _, set := range []string{"ABCDEFGHJKLMNPQRSTUVWXYZ", "abcdefghijkmnopqrstuvwxyz", "23456789", "!@#%^&*"} {
		part, err := randomString(set, 3)
		if err != nil {
			return "", err
		}
		out += part
	}
	if extra := pol.MinimumLength - len(out); extra > 0 {
		part, err := randomString(alnum, extra)
		if err != nil {
			return "", err
		}
		out += part
	}
	return out, nil
}

// AdminGetUser describes a user.
func (s *Service) AdminGetUser(ctx context.Context, in AdminUserInput) (AdminGetUserOutput, error) {
	p, u, err := s.adminUser(ctx, in.UserPoolId, in.Username)
	if err != nil {
		return AdminGetUserOutput{}, err
	}
	t := userType(u)
	v := viewMFA(p, u)
	return AdminGetUserOutput{
		Username: t.Username, UserAttributes: t.Attributes, UserCreateDate: t.UserCreateDate,
		UserLastModifiedDate: t.UserLastModifiedDate, Enabled: t.Enabled, UserStatus: t.UserStatus,
		MFAOptions: v.options, PreferredMfaSetting: v.preferred, UserMFASettingList: v.list,
	}, nil
}

// AdminDeleteUser deletes a user with everything it owns.
func (s *Service) AdminDeleteUser(ctx context.Context, in AdminUserInput) (Empty, error) {
	p, u, err := s.adminUser(ctx, in.UserPoolId, in.Username)
	if err != nil {
		return Empty{}, err
	}
	if err := s.store.DeleteUser(ctx, p.ID, u.Username); errors.Is(err, storage.ErrNotFound) {
		return Empty{}, ErrUserNotFound
	} else if err != nil {
		return Empty{}, internal("delete user", err)
	}
	return Empty{}, nil
}

// updateAdminUser applies fn to a user resolved by an admin operation.
func (s *Service) updateAdminUser(ctx context.Context, poolID, name string, fn func(p storage.Pool, u *storage.User) error) error {
	p, u, err := s.adminUser(ctx, poolID, name)
	if err != nil {
		return err
	}
	err = s.store.UpdateUser(ctx, p.ID, u.Username, func(u storage.User) (storage.User, error) {
		if err := fn(p, &u); err != nil {
			return u, err
		}
		u.UpdatedAt = s.now()
		return u, nil
	})
	if errors.Is(err, storage.ErrNotFound) {
		return ErrUserNotFound
	}
	if err != nil {
		return internal("update user", err)
	}
	return nil
}

// AdminConfirmSignUp confirms an unconfirmed user without a code.
func (s *Service) AdminConfirmSignUp(ctx context.Context, in AdminUserInput) (Empty, error) {
	var pool storage.Pool
	var username string
	err := s.updateAdminUser(ctx, in.UserPoolId, in.Username, func(p storage.Pool, u *storage.User) error {
		if u.Status != storage.StatusUnconfirmed {
			return errorf(ErrNotAuthorized, "User cannot be confirmed. Current status is %s", u.Status)
		}
		u.Status = storage.StatusConfirmed
		pool, username = p, u.Username
		return nil
	})
	if err != nil {
		return Empty{}, err
	}
	return Empty{}, s.postConfirmation(ctx, pool, "", username)
}

// AdminSetUserPassword sets a permanent password, or a temporary one the
// user must change at next sign-in.
func (s *Service) AdminSetUserPassword(ctx context.Context, in AdminSetUserPasswordInput) (Empty, error) {
	p, err := s.pool(ctx, in.UserPoolId)
	if err != nil {
		return Empty{}, err
	}
	if err := checkPassword(p.Settings.PasswordPolicy, in.Password); err != nil {
		return Empty{}, err
	}
	_, u, err := s.adminUser(ctx, p.ID, in.Username)
	if err != nil {
		return Empty{}, err
	}
	// The new password also ends any lockout, in the same transaction.
	err = s.store.Atomic(ctx, func(ctx context.Context, tx storage.Storage) error {
		err := tx.UpdateUser(ctx, p.ID, u.Username, func(u storage.User) (storage.User, error) {
			setPassword(&u, p, in.Password)
			u.Status = storage.StatusConfirmed
			if !in.Permanent {
				u.Status = storage.StatusForceChangePassword
				if days := p.Settings.PasswordPolicy.TemporaryPasswordValidityDays; days > 0 {
					u.PasswordExpiresAt = s.now().Add(time.Duration(days) * 24 * time.Hour)
				}
			}
			u.UpdatedAt = s.now()
			return u, nil
		})
		if err != nil {
			return err
		}
		return clearGuesses(ctx, tx, p.ID, u.Username)
	})
	if errors.Is(err, storage.ErrNotFound) {
		return Empty{}, ErrUserNotFound
	}
	if err != nil {
		return Empty{}, internal("set password", err)
	}
	return Empty{}, nil
}

// AdminDisableUser disables a user and ends its sign-ins.
func (s *Service) AdminDisableUser(ctx context.Context, in AdminUserInput) (Empty, error) {
	var username, poolID string
	err := s.updateAdminUser(ctx, in.UserPoolId, in.Username, func(p storage.Pool, u *storage.User) error {
		u.Enabled = false
		username, poolID = u.Username, p.ID
		return nil
	})
	if err != nil {
		return Empty{}, err
	}
	return Empty{}, s.signOutEverywhere(ctx, poolID, username)
}

// AdminEnableUser enables a user.
func (s *Service) AdminEnableUser(ctx context.Context, in AdminUserInput) (Empty, error) {
	return Empty{}, s.updateAdminUser(ctx, in.UserPoolId, in.Username, func(_ storage.Pool, u *storage.User) error {
		u.Enabled = true
		return nil
	})
}

// AdminUserGlobalSignOut ends every sign-in of a user.
func (s *Service) AdminUserGlobalSignOut(ctx context.Context, in AdminUserInput) (Empty, error) {
	p, u, err := s.adminUser(ctx, in.UserPoolId, in.Username)
	if err != nil {
		return Empty{}, err
	}
	return Empty{}, s.signOutEverywhere(ctx, p.ID, u.Username)
}

// AdminResetUserPassword makes a user reset the password before signing
// in again (RESET_REQUIRED: sign-in answers PasswordResetRequiredException)
// and, when the user has a verified email, sends the code that
// ConfirmForgotPassword takes, in the same transaction. The old password
// then only earns PasswordResetRequiredException, Amplify's cue to reset.
func (s *Service) AdminResetUserPassword(ctx context.Context, in AdminUserInput) (Empty, error) {
	p, u, err := s.adminUser(ctx, in.UserPoolId, in.Username)
	if err != nil {
		return Empty{}, err
	}
	if !u.Enabled {
		return Empty{}, errorf(ErrNotAuthorized, "User is disabled.")
	}
	email := u.Attributes["email"]
	send := email != "" && u.Attributes["email_verified"] == "true"
	var text customText
	if send {
		if text, err = s.customMessage(ctx, p, "", sourceMessageForgot, u, email); err != nil {
			return Empty{}, err
		}
	}
	err = s.sendAtomic(ctx, func(ctx context.Context, tx storage.Storage) error {
		err := tx.UpdateUser(ctx, p.ID, u.Username, func(u storage.User) (storage.User, error) {
			u.Status = storage.StatusResetRequired
			u.UpdatedAt = s.now()
			return u, nil
		})
		if err != nil || !send {
			return err
		}
		code, err := s.issueCode(ctx, tx, u, purposeForgotPassword, "", forgotCodeTTL)
		if err != nil {
			return err
		}
		_, err = s.queue(ctx, tx, u, KindForgotPassword, "email", email, code, text)
		return err
	})
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return Empty{}, ErrUserNotFound
	case err != nil:
		return Empty{}, internal("reset user password", err)
	}
	return Empty{}, nil
}
