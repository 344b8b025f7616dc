package userpool

import (
	"context"
	"errors"

	"github.com/cognate-auth/cognate/storage"
)

// Trigger sources (the event's triggerSource).
const (
	sourcePreSignUp            = "PreSignUp_SignUp"
	sourcePreSignUpAdmin       = "PreSignUp_AdminCreateUser"
	sourcePostConfirmation     = "PostConfirmation_ConfirmSignUp"
	sourcePreAuthentication    = "PreAuthentication_Authentication"
	sourcePostAuthentication   = "PostAuthentication_Authentication"
	sourceTokenAuthentication  = "TokenGeneration_Authentication"
	sourceTokenHosted          = "TokenGeneration_HostedAuth"
	sourceTokenRefresh         = "TokenGeneration_RefreshTokens"
	sourceTokenNewPassword     = "TokenGeneration_NewPasswordChallenge"
	sourceTokenClientCreds     = "TokenGeneration_ClientCredentials"
	sourceMigrationSignIn      = "UserMigration_Authentication"
	sourceMigrationForgot      = "UserMigration_ForgotPassword"
	sourceDefineAuthChallenge  = "DefineAuthChallenge_Authentication"
	sourceCreateAuthChallenge  = "CreateAuthChallenge_Authentication"
	sourceVerifyAuthChallenge  = "VerifyAuthChallengeResponse_Authentication"
	triggerPreSignUp           = "PreSignUp"
	triggerPostConfirmation    = "PostConfirmation"
	triggerPreAuthentication   = "PreAuthentication"
	triggerPostAuthentication  = "PostAuthentication"
	triggerPreTokenGeneration  = "PreTokenGeneration"
	triggerUserMigration       = "UserMigration"
	triggerDefineAuthChallenge = "DefineAuthChallenge"
	triggerCreateAuthChallenge = "CreateAuthChallenge"
	triggerVerifyAuthChallenge = "VerifyAuthChallengeResponse"
)

// clientMetadataKey carries a request's ClientMetadata to the triggers it
// runs, through the flows that do not otherwise need it.
type clientMetadataKey struct{}

func withClientMetadata(ctx context.Context, m map[string]string) context.Context {
	if len(m) == 0 {
		return ctx
	}
	return context.WithValue(ctx, clientMetadataKey{}, m)
}

func clientMetadata(ctx context.Context) map[string]string {
	m, _ := ctx.Value(clientMetadataKey{}).(map[string]string)
	return nonNil(m)
}

// preSignUpResponse is the pre sign-up trigger's response.
type preSignUpResponse struct {
	AutoConfirmUser bool `json:"autoConfirmUser"`
	AutoVerifyPhone bool `json:"autoVerifyPhone"`
	AutoVerifyEmail bool `json:"autoVerifyEmail"`
}

// preSignUp runs the pre sign-up trigger on a user about to be created
// and applies its answer to u. It writes nothing: a refusal leaves no
// trace.
func (s *Service) preSignUp(ctx context.Context, p storage.Pool, clientID, source string, u *storage.User, validation map[string]string) error {
	url := lambdaConfig(p).PreSignUp
	if url == "" {
		return nil
	}
	attrs := map[string]string{}
	for k, v := range u.Attributes {
		if k != "sub" {
			attrs[k] = v
		}
	}
	var resp preSignUpResponse
	err := s.call(ctx, hook{
		trigger: triggerPreSignUp, url: url, source: source, pool: p, clientID: clientID, userName: u.Username,
		request: map[string]any{
			"userAttributes": attrs, "validationData": nonNil(validation), "clientMetadata": clientMetadata(ctx),
		},
		response: &resp,
	})
	if err != nil {
		return err
	}
	if source == sourcePreSignUpAdmin || !resp.AutoConfirmUser {
		return nil
	}
	u.Status = storage.StatusConfirmed
	if resp.AutoVerifyEmail && u.Attributes["email"] != "" {
		u.Attributes["email_verified"] = "true"
	}
	if resp.AutoVerifyPhone && u.Attributes["phone_number"] != "" {
		u.Attributes["phone_number_verified"] = "true"
	}
	return nil
}

// postConfirmation runs the post confirmation trigger for a user just
// confirmed. Like Cognito, a failure is the caller's error, but the
// confirmation stands.
func (s *Service) postConfirmation(ctx context.Context, p storage.Pool, clientID, username string) error {
	url := lambdaConfig(p).PostConfirmation
	if url == "" {
		return nil
	}
	u, err := s.store.GetUser(ctx, p.ID, username)
	if errors.Is(err, storage.ErrNotFound) {
		return ErrUserNotFound
	}
	if err != nil {
		return internal("get user", err)
	}
	return s.call(ctx, hook{
		trigger: triggerPostConfirmation, url: url, source: sourcePostConfirmation, pool: p, clientID: clientID, userName: u.Username,
		request:  map[string]any{"userAttributes": hookAttributes(u), "clientMetadata": clientMetadata(ctx)},
		response: &struct{}{},
	})
}

// preAuthentication runs the pre authentication trigger for a user whose
// proof is about to be checked; its refusal ends the sign-in.
func (s *Service) preAuthentication(ctx context.Context, p storage.Pool, clientID string, u storage.User) error {
	url := lambdaConfig(p).PreAuthentication
	if url == "" {
		return nil
	}
	return s.call(ctx, hook{
		trigger: triggerPreAuthentication, url: url, source: sourcePreAuthentication, pool: p, clientID: clientID, userName: u.Username,
		request: map[string]any{
			"userAttributes": hookAttributes(u), "userNotFound": false, "validationData": map[string]string{},
		},
		response: &struct{}{},
	})
}

// postAuthentication runs the post authentication trigger for a user who
// proved who they are; its refusal withholds the tokens.
func (s *Service) postAuthentication(ctx context.Context, p storage.Pool, clientID string, u storage.User) error {
	url := lambdaConfig(p).PostAuthentication
	if url == "" {
		return nil
	}
	return s.call(ctx, hook{
		trigger: triggerPostAuthentication, url: url, source: sourcePostAuthentication, pool: p, clientID: clientID, userName: u.Username,
		request: map[string]any{
			"userAttributes": hookAttributes(u), "newDeviceUsed": false, "clientMetadata": clientMetadata(ctx),
		},
		response: &struct{}{},
	})
}
