package userpool

import (
	"context"
	"crypto/hmac"
	"errors"
	"strings"

	"github.com/cognate-auth/cognate/srp"
	"github.com/cognate-auth/cognate/storage"
)

// GetUser returns the token's user and attributes.
func (s *Service) GetUser(ctx context.Context, in AccessTokenInput) (GetUserOutput, error) {
	ts, err := s.authorize(ctx, in.AccessToken)
	if err != nil {
		return GetUserOutput{}, err
	}
	v := viewMFA(ts.pool, ts.user)
	return GetUserOutput{Username: ts.user.Username, UserAttributes: attributeList(ts.user.Attributes),
		MFAOptions: v.options, PreferredMfaSetting: v.preferred, UserMFASettingList: v.list}, nil
}

// verifiable reports whether changing attr needs a code first.
func verifiable(p storage.Pool, attr string) bool {
	return attr == "email" && (contains(p.Settings.AutoVerifiedAttributes, "email") || contains(p.Settings.AttributesRequireVerificationBeforeUpdate, "email"))
}

// UpdateUserAttributes changes the caller's attributes. A new email is
// not trusted until verified: it waits as pending (the old one keeps
// working for sign-in) and a code goes to the new address.
func (s *Service) UpdateUserAttributes(ctx context.Context, in UpdateUserAttributesInput) (UpdateUserAttributesOutput, error) {
	ts, err := s.authorize(ctx, in.AccessToken)
	if err != nil {
		return UpdateUserAttributesOutput{}, err
	}
	p := ts.pool
	if len(in.UserAttributes) == 0 {
		return UpdateUserAttributesOutput{}, invalidParam("1 validation error detected: Value at 'userAttributes' failed to satisfy constraint: Member must not be null")
	}
	if err := checkAttributes(p, in.UserAttributes); err != nil {
		return UpdateUserAttributesOutput{}, err
	}
	var now, pending []AttributeType
	for _, a := range in.UserAttributes {
		switch {
		case a.Name == "email_verified" || a.Name == "phone_number_verified":
			return UpdateUserAttributesOutput{}, errorf(ErrNotAuthorized, "A client attempted to write unauthorized attribute")
		case verifiable(p, a.Name) && a.Value != ts.user.Attributes[a.Name]:
			pending = append(pending, a)
		default:
			now = append(now, a)
		}
	}
	var text customText
	if len(pending) != 0 {
		text, err = s.customMessage(withClientMetadata(ctx, in.ClientMetadata), p, ts.claims.ClientID, sourceMessageUpdateAttr, ts.user, pending[0].Value)
		if err != nil {
			return UpdateUserAttributesOutput{}, err
		}
	}
	var updated storage.User
	var out UpdateUserAttributesOutput
	err = s.sendAtomic(ctx, func(ctx context.Context, tx storage.Storage) error {
		err := tx.UpdateUser(ctx, p.ID, ts.user.Username, func(u storage.User) (storage.User, error) {
			// Pools that verify first never get here with a new email: it
			// waits as pending. Elsewhere it applies, unverified.
			applyUnverified(&u, now)
			for _, a := range pending {
				if u.PendingAttributes == nil {
					u.PendingAttributes = map[string]string{}
				}
				u.PendingAttributes[a.Name] = a.Value
			}
			u.UpdatedAt = s.now()
			updated = u
			return u, nil
		})
		if err != nil || len(pending) == 0 {
			return err
		}
		if taken, err := tx.GetUserByEmail(ctx, p.ID, strings.ToLower(pending[0].Value)); err == nil && taken.Username != updated.Username {
			return ErrAliasExists
		}
		code, err := s.issueCode(ctx, tx, updated, purposeVerifyPrefix+"email", pending[0].Value, verifyCodeTTL)
		if err != nil {
			return err
		}
		d, err := s.queue(ctx, tx, updated, KindVerifyAttribute, "email", pending[0].Value, code, text)
		if err != nil {
			return err
		}
		out.CodeDeliveryDetailsList = []CodeDeliveryDetails{*d}
		return nil
	})
	if errors.Is(err, storage.ErrAlreadyExists) {
		return UpdateUserAttributesOutput{}, ErrAliasExists
	}
	if err != nil {
		return UpdateUserAttributesOutput{}, internal("update attributes", err)
	}
	return out, nil
}

// DeleteUserAttributes removes attributes; required and username
// attributes stay.
func (s *Service) DeleteUserAttributes(ctx context.Context, in DeleteUserAttributesInput) (Empty, error) {
	ts, err := s.authorize(ctx, in.AccessToken)
	if err != nil {
		return Empty{}, err
	}
	if len(in.UserAttributeNames) == 0 {
		return Empty{}, invalidParam("1 validation error detected: Value at 'userAttributeNames' failed to satisfy constraint: Member must not be null")
	}
	for _, n := range in.UserAttributeNames {
		if n == "sub" || (n == "email" && signsInByEmail(ts.pool)) {
			return Empty{}, invalidParam("Cannot delete attribute %s.", n)
		}
		if !knownAttribute(ts.pool, n) {
			return Empty{}, invalidParam("Attribute %.64q does not exist in the schema.", n)
		}
	}
	err = s.store.UpdateUser(ctx, ts.pool.ID, ts.user.Username, func(u storage.User) (storage.User, error) {
		for _, n := range in.UserAttributeNames {
			delete(u.Attributes, n)
			delete(u.PendingAttributes, n)
			if n == "email" {
				u.Email = ""
				delete(u.Attributes, "email_verified")
			}
		}
		u.UpdatedAt = s.now()
		return u, nil
	})
	if err != nil {
		return Empty{}, internal("delete attributes", err)
	}
	return Empty{}, nil
}

// GetUserAttributeVerificationCode sends a code for the attribute's
// pending value, or its current one.
func (s *Service) GetUserAttributeVerificationCode(ctx context.Context, in GetUserAttributeVerificationCodeInput) (CodeDeliveryOutput, error) {
	ts, err := s.authorize(ctx, in.AccessToken)
	if err != nil {
		return CodeDeliveryOutput{}, err
	}
	if in.AttributeName != "email" {
		return CodeDeliveryOutput{}, invalidParam("Only email can be verified by code.")
	}
	value := ts.user.PendingAttributes["email"]
	if value == "" {
		value = ts.user.Attributes["email"]
	}
	text, err := s.customMessage(withClientMetadata(ctx, in.ClientMetadata), ts.pool, ts.claims.ClientID, sourceMessageVerifyAttr, ts.user, value)
	if err != nil {
		return CodeDeliveryOutput{}, err
	}
	var out CodeDeliveryOutput
	err = s.sendAtomic(ctx, func(ctx context.Context, tx storage.Storage) error {
		code, err := s.issueCode(ctx, tx, ts.user, purposeVerifyPrefix+"email", value, verifyCodeTTL)
		if err != nil {
			return err
		}
		out.CodeDeliveryDetails, err = s.queue(ctx, tx, ts.user, KindVerifyAttribute, "email", value, code, text)
		return err
	})
	return out, err
}

// VerifyUserAttribute confirms an attribute with its code; a pending
// value becomes the attribute's value.
func (s *Service) VerifyUserAttribute(ctx context.Context, in VerifyUserAttributeInput) (Empty, error) {
	ts, err := s.authorize(ctx, in.AccessToken)
	if err != nil {
		return Empty{}, err
	}
	if in.AttributeName != "email" {
		return Empty{}, invalidParam("Only email can be verified by code.")
	}
	if in.Code == "" {
		return Empty{}, invalidParam("1 validation error detected: Value at 'code' failed to satisfy constraint: Member must not be null")
	}
	err = s.useCode(ctx, ts.pool.ID, ts.user, ts.user.Username, purposeVerifyPrefix+"email", in.Code, func(ctx context.Context, tx storage.Storage, value string) error {
		return tx.UpdateUser(ctx, ts.pool.ID, ts.user.Username, func(u storage.User) (storage.User, error) {
			if pend, ok := u.PendingAttributes["email"]; ok && pend == value {
				delete(u.PendingAttributes, "email")
				applyAttributes(&u, []AttributeType{{Name: "email", Value: value}})
			}
			if u.Attributes["email"] != value {
				return u, ErrCodeMismatch
			}
			u.Attributes["email_verified"] = "true"
			u.UpdatedAt = s.now()
			return u, nil
		})
	})
	if errors.Is(err, storage.ErrAlreadyExists) {
		return Empty{}, ErrAliasExists
	}
	if err != nil {
		return Empty{}, internal("verify attribute", err)
	}
	return Empty{}, nil
}

// ChangePassword sets a new password after proving the old one; it counts
// toward the same lockout as sign-in.
func (s *Service) ChangePassword(ctx context.Context, in ChangePasswordInput) (Empty, error) {
	ts, err := s.authorize(ctx, in.AccessToken)
	if err != nil {
		return Empty{}, err
	}
	p, u := ts.pool, ts.user
	if in.PreviousPassword == "" {
		return Empty{}, invalidParam("1 validation error detected: Value at 'previousPassword' failed to satisfy constraint: Member must not be null")
	}
	if err := checkPassword(p.Settings.PasswordPolicy, in.ProposedPassword); err != nil {
		return Empty{}, err
	}
	if len(in.PreviousPassword) > 4*maxPasswordLen {
		return Empty{}, ErrNotAuthorized
	}
	g, err := s.startGuess(ctx, passwordSecret, p.ID, u.Username)
	if err != nil {
		return Empty{}, err
	}
	ok := hmac.Equal(srp.Verifier(srp.PoolName(p.ID), u.Username, in.PreviousPassword, u.SRPSalt), u.SRPVerifier)
	if !ok {
		return Empty{}, g.settle(ctx, s.store, false)
	}
	err = s.store.Atomic(ctx, func(ctx context.Context, tx storage.Storage) error {
		if err := g.settle(ctx, tx, true); err != nil {
			return err
		}
		if err := clearGuesses(ctx, tx, p.ID, u.Username); err != nil {
			return err
		}
		return tx.UpdateUser(ctx, p.ID, u.Username, func(u storage.User) (storage.User, error) {
			u.UpdatedAt = s.now()
			setPassword(&u, p, in.ProposedPassword)
			return u, nil
		})
	})
	if err != nil {
		return Empty{}, internal("change password", err)
	}
	return Empty{}, nil
}

// DeleteUser deletes the caller.
func (s *Service) DeleteUser(ctx context.Context, in AccessTokenInput) (Empty, error) {
	ts, err := s.authorize(ctx, in.AccessToken)
	if err != nil {
		return Empty{}, err
	}
	if err := s.store.DeleteUser(ctx, ts.pool.ID, ts.user.Username); err != nil && !errors.Is(err, storage.ErrNotFound) {
		return Empty{}, internal("delete user", err)
	}
	return Empty{}, nil
}

// ForgotPassword sends a code to reset the password with. With existence
// errors prevented, every name gets the same answer, and costs the same
// (see sendCode): a code goes out only to a user resetRefusal lets through.
func (s *Service) ForgotPassword(ctx context.Context, in ForgotPasswordInput) (CodeDeliveryOutput, error) {
	c, p, err := s.publicClient(ctx, in.ClientId, in.Username, in.SecretHash)
	if err != nil {
		return CodeDeliveryOutput{}, err
	}
	u, subject, err := s.subjectOf(ctx, c, p, in.Username)
	if (err == nil && u.Username == "" || errors.Is(err, ErrUserNotFound)) && migrates(p) {
		switch mu, merr := s.migrate(withClientMetadata(ctx, in.ClientMetadata), c, p, in.Username, ""); {
		case merr == nil:
			u, subject, err = mu, mu.Username, nil
		case !errors.Is(merr, errNotMigrated):
			return CodeDeliveryOutput{}, merr
		}
	}
	if err != nil {
		return CodeDeliveryOutput{}, err
	}
	var refusal error
	if u.Username != "" {
		refusal = resetRefusal(u)
	}
	ctx = withClientMetadata(ctx, in.ClientMetadata)
	var text customText
	if u.Username != "" && refusal == nil {
		if text, err = s.customMessage(ctx, p, c.ClientID, sourceMessageForgot, u, u.Attributes["email"]); err != nil {
			return CodeDeliveryOutput{}, err
		}
	}
	return s.sendCode(ctx, c, p, purposeForgotPassword, in.Username, u, subject, refusal, func(ctx context.Context, tx storage.Storage) (*CodeDeliveryDetails, error) {
		code, err := s.issueCode(ctx, tx, u, purposeForgotPassword, "", forgotCodeTTL)
		if err != nil {
			return nil, err
		}
		return s.queue(ctx, tx, u, KindForgotPassword, "email", u.Attributes["email"], code, text)
	})
}

// resetRefusal is why u may not be sent a reset code, in Cognito's words
// (what LEGACY clients are told), or nil.
func resetRefusal(u storage.User) error {
	email := u.Attributes["email"]
	switch {
	case !u.Enabled:
		return errorf(ErrNotAuthorized, "User is disabled.")
	case u.Status == storage.StatusForceChangePassword:
		return errorf(ErrNotAuthorized, "User password cannot be reset in the current state.")
	case email == "" || (u.Attributes["email_verified"] != "true" && u.Status != storage.StatusUnconfirmed):
		return invalidParam("Cannot reset password for the user as there is no registered/verified email or phone_number")
	}
	return nil
}

// ConfirmForgotPassword sets a new password with a ForgotPassword code.
// It also confirms an unconfirmed user (the code proves the email) and
// ends every existing sign-in.
func (s *Service) ConfirmForgotPassword(ctx context.Context, in ConfirmForgotPasswordInput) (Empty, error) {
	c, p, err := s.publicClient(ctx, in.ClientId, in.Username, in.SecretHash)
	if err != nil {
		return Empty{}, err
	}
	if in.ConfirmationCode == "" {
		return Empty{}, invalidParam("1 validation error detected: Value at 'confirmationCode' failed to satisfy constraint: Member must not be null")
	}
	if err := checkPassword(p.Settings.PasswordPolicy, in.Password); err != nil {
		return Empty{}, err
	}
	u, subject, err := s.subjectOf(ctx, c, p, in.Username)
	if err != nil {
		return Empty{}, err
	}
	err = s.useCode(ctx, p.ID, u, subject, purposeForgotPassword, in.ConfirmationCode, func(ctx context.Context, tx storage.Storage, _ string) error {
		if err := tx.UpdateUser(ctx, p.ID, u.Username, func(u storage.User) (storage.User, error) {
			// Cognito's answer for a disabled user, even with the right code.
			if !u.Enabled {
				return u, ErrCodeMismatch
			}
			u.Status = storage.StatusConfirmed
			if u.Attributes["email"] != "" {
				u.Attributes["email_verified"] = "true"
			}
			u.UpdatedAt = s.now()
			setPassword(&u, p, in.Password)
			return u, nil
		}); err != nil {
			return err
		}
		if err := clearGuesses(ctx, tx, p.ID, u.Username); err != nil {
			return err
		}
		_, err := tx.RevokeUserRefreshFamilies(ctx, p.ID, u.Username, s.now())
		return err
	})
	s.familyCache.clear() // after the commit, so no stale "live" can be re-cached
	if err != nil {
		return Empty{}, internal("confirm forgot password", err)
	}
	return Empty{}, nil
}
