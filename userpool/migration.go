package userpool

// Lazy user migration: a user unknown to the pool who signs in with a
// password (USER_PASSWORD_AUTH, the managed login page) or asks for a
// password reset is looked up by the pool's user migration webhook, which
// checks them against the system they come from; a user it vouches for is
// created with the attributes and status it returns, in the same request.

import (
	"context"
	"errors"
	"strings"

	"github.com/cognate-auth/cognate/storage"
)

// migrationResponse is the user migration trigger's response.
type migrationResponse struct {
	UserAttributes         map[string]string `json:"userAttributes"`
	FinalUserStatus        string            `json:"finalUserStatus"`
	MessageAction          string            `json:"messageAction"`
	DesiredDeliveryMediums []string          `json:"desiredDeliveryMediums"`
	ForceAliasCreation     bool              `json:"forceAliasCreation"`
	EnableSMSMFA           bool              `json:"enableSMSMFA"`
}

// errNotMigrated is the migration webhook's refusal: the user is unknown
// to the old system too (or the password is wrong there), and the caller
// answers as for any unknown user.
var errNotMigrated = errors.New("user not migrated")

// migrates reports whether the pool migrates unknown users.
func migrates(p storage.Pool) bool { return lambdaConfig(p).UserMigration != "" }

// migrateSignIn is verifyPassword for a name the pool does not know, in a
// pool that migrates users: the webhook checks the password, counted
// toward the name's lockout like any guess.
func (s *Service) migrateSignIn(ctx context.Context, c storage.Client, p storage.Pool, name, password string) (storage.User, error) {
	g, err := s.startGuess(ctx, passwordSecret, p.ID, lookupName(p, name))
	if err != nil {
		return storage.User{}, err
	}
	u, err := s.migrate(ctx, c, p, name, password)
	if errors.Is(err, errNotMigrated) {
		if err := g.settle(ctx, s.store, false); err != nil {
			return u, err
		}
		if preventsExistenceErrors(c) {
			return u, ErrNotAuthorized
		}
		return u, ErrUserNotFound
	}
	if err != nil {
		return u, err
	}
	return u, g.settle(ctx, s.store, true)
}

// migrate asks the webhook about name (with the password on sign-in, ""
// for a password reset) and creates the user it returns. A user created
// meanwhile by a concurrent request is returned as stored.
func (s *Service) migrate(ctx context.Context, c storage.Client, p storage.Pool, name, password string) (storage.User, error) {
	source, req := sourceMigrationForgot, map[string]any{"validationData": map[string]string{}, "clientMetadata": clientMetadata(ctx)}
	if password != "" {
		source = sourceMigrationSignIn
		req["password"] = password
	}
	var resp migrationResponse
	err := s.call(ctx, hook{
		trigger: triggerUserMigration, url: lambdaConfig(p).UserMigration, source: source, pool: p, clientID: c.ClientID,
		userName: name, request: req, response: &resp,
	})
	if errors.Is(err, ErrUserLambdaValidation) {
		return storage.User{}, errNotMigrated
	}
	if err != nil {
		return storage.User{}, err
	}
	u, err := s.migratedUser(p, name, password, resp)
	if err != nil {
		s.log.WarnContext(ctx, "user migration answer refused", "pool", p.ID, "err", err)
		return storage.User{}, err
	}
	err = s.store.CreateUser(ctx, u)
	if errors.Is(err, storage.ErrAlreadyExists) {
		return s.findUser(ctx, p, name)
	}
	if err != nil {
		return storage.User{}, internal("create migrated user", err)
	}
	s.log.InfoContext(ctx, "user migrated", "pool", p.ID, "client", c.ClientID, "sub", u.Sub, "source", source)
	return u, nil
}

// migratedUser builds the user a migration answer describes.
func (s *Service) migratedUser(p storage.Pool, name, password string, resp migrationResponse) (storage.User, error) {
	bad := func(format string, args ...any) error {
		return errorf(ErrInvalidLambdaResponse, "Invalid lambda response: "+format, args...)
	}
	status := storage.StatusConfirmed
	switch resp.FinalUserStatus {
	case "", "CONFIRMED":
	case "RESET_REQUIRED":
		status = storage.StatusResetRequired
	default:
		return storage.User{}, bad("finalUserStatus must be CONFIRMED or RESET_REQUIRED.")
	}
	if password == "" {
		status = storage.StatusResetRequired
	}
	switch resp.MessageAction {
	case "", "SUPPRESS", "RESEND":
	default:
		return storage.User{}, bad("messageAction must be SUPPRESS or RESEND.")
	}
	var attrs []AttributeType
	for k, v := range resp.UserAttributes {
		if k == "sub" || k == "username" || k == "email_verified" || k == "phone_number_verified" || strings.HasPrefix(k, "cognito:") {
			continue
		}
		attrs = append(attrs, AttributeType{Name: k, Value: v})
	}
	if signsInByEmail(p) {
		name = strings.ToLower(name)
		if e, ok := resp.UserAttributes["email"]; ok && !strings.EqualFold(e, name) {
			return storage.User{}, bad("the email attribute must be the name signed in with.")
		}
	}
	u, err := s.newUser(p, name, "", attrs)
	var e *Error
	if errors.As(err, &e) {
		return storage.User{}, bad("%s", e.Message)
	}
	if err != nil {
		return storage.User{}, err
	}
	for _, a := range []string{"email_verified", "phone_number_verified"} {
		if v, ok := resp.UserAttributes[a]; ok {
			u.Attributes[a] = v
		}
	}
	u.Status = status
	if password != "" {
		setPassword(&u, p, password)
	}
	u.CreatedAt, u.UpdatedAt = s.now(), s.now()
	return u, nil
}
