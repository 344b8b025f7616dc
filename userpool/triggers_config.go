package userpool

import (
	"context"
	"errors"

	"github.com/cognate-auth/cognate/storage"
)

// LambdaConfigType is Cognito's LambdaConfigType: each member, where
// Cognito takes a Lambda function's ARN, takes the URL of a webhook.
type LambdaConfigType struct {
	PreSignUp                   string                        `json:"PreSignUp,omitempty"`
	CustomMessage               string                        `json:"CustomMessage,omitempty"`
	PostConfirmation            string                        `json:"PostConfirmation,omitempty"`
	PreAuthentication           string                        `json:"PreAuthentication,omitempty"`
	PostAuthentication          string                        `json:"PostAuthentication,omitempty"`
	DefineAuthChallenge         string                        `json:"DefineAuthChallenge,omitempty"`
	CreateAuthChallenge         string                        `json:"CreateAuthChallenge,omitempty"`
	VerifyAuthChallengeResponse string                        `json:"VerifyAuthChallengeResponse,omitempty"`
	PreTokenGeneration          string                        `json:"PreTokenGeneration,omitempty"`
	PreTokenGenerationConfig    *PreTokenGenerationConfigType `json:"PreTokenGenerationConfig,omitempty"`
	UserMigration               string                        `json:"UserMigration,omitempty"`
}

// PreTokenGenerationConfigType chooses the pre token generation event's
// version (V1_0, V2_0, V3_0) and its webhook.
type PreTokenGenerationConfigType struct {
	LambdaVersion string `json:"LambdaVersion"`
	LambdaArn     string `json:"LambdaArn"`
}

// Pre token generation event versions.
const (
	tokenHookV1 = "V1_0"
	tokenHookV2 = "V2_0"
	tokenHookV3 = "V3_0"
)

// lambdaSettings checks a LambdaConfig and returns what the pool stores
// (nil for none).
func (s *Service) lambdaSettings(in *LambdaConfigType) (*storage.LambdaConfig, error) {
	if in == nil {
		return nil, nil
	}
	lc := storage.LambdaConfig{
		PreSignUp: in.PreSignUp, CustomMessage: in.CustomMessage, PostConfirmation: in.PostConfirmation,
		PreAuthentication: in.PreAuthentication, PostAuthentication: in.PostAuthentication,
		DefineAuthChallenge: in.DefineAuthChallenge, CreateAuthChallenge: in.CreateAuthChallenge,
		VerifyAuthChallengeResponse: in.VerifyAuthChallengeResponse, PreTokenGeneration: in.PreTokenGeneration,
		UserMigration: in.UserMigration,
	}
	if tc := in.PreTokenGenerationConfig; tc != nil {
		switch tc.LambdaVersion {
		case tokenHookV1, tokenHookV2, tokenHookV3:
		default:
			return nil, invalidParam("1 validation error detected: Value '%.64s' at 'lambdaConfig.preTokenGenerationConfig.lambdaVersion' failed to satisfy constraint: Member must satisfy enum value set: [V1_0, V2_0, V3_0]", tc.LambdaVersion)
		}
		if tc.LambdaArn == "" {
			return nil, invalidParam("1 validation error detected: Value at 'lambdaConfig.preTokenGenerationConfig.lambdaArn' failed to satisfy constraint: Member must not be null")
		}
		if lc.PreTokenGeneration != "" && lc.PreTokenGeneration != tc.LambdaArn {
			return nil, invalidParam("PreTokenGeneration and PreTokenGenerationConfig.LambdaArn must be the same.")
		}
		lc.PreTokenGeneration, lc.PreTokenGenerationVersion = tc.LambdaArn, tc.LambdaVersion
	}
	if lc.PreTokenGeneration != "" && lc.PreTokenGenerationVersion == "" {
		lc.PreTokenGenerationVersion = tokenHookV1
	}
	fields := []struct{ name, url string }{
		{"preSignUp", lc.PreSignUp}, {"customMessage", lc.CustomMessage}, {"postConfirmation", lc.PostConfirmation},
		{"preAuthentication", lc.PreAuthentication}, {"postAuthentication", lc.PostAuthentication},
		{"defineAuthChallenge", lc.DefineAuthChallenge}, {"createAuthChallenge", lc.CreateAuthChallenge},
		{"verifyAuthChallengeResponse", lc.VerifyAuthChallengeResponse}, {"preTokenGeneration", lc.PreTokenGeneration},
		{"userMigration", lc.UserMigration},
	}
	configured := false
	for _, f := range fields {
		if f.url == "" {
			continue
		}
		configured = true
		if len(f.url) > 2048 {
			return nil, invalidParam("1 validation error detected: Value at 'lambdaConfig.%s' failed to satisfy constraint: Member must have length less than or equal to 2048", f.name)
		}
		if s.invoker == nil {
			return nil, invalidParam("lambdaConfig.%s: this server calls no webhooks.", f.name)
		}
		if err := s.invoker.CheckURL(f.url); err != nil {
			return nil, invalidParam("lambdaConfig.%s: %v", f.name, err)
		}
	}
	custom := []string{lc.DefineAuthChallenge, lc.CreateAuthChallenge, lc.VerifyAuthChallengeResponse}
	if set := countSet(custom); set != 0 && set != len(custom) {
		return nil, invalidParam("DefineAuthChallenge, CreateAuthChallenge and VerifyAuthChallengeResponse must be configured together.")
	}
	if !configured {
		return nil, nil
	}
	return &lc, nil
}

func countSet(vs []string) int {
	n := 0
	for _, v := range vs {
		if v != "" {
			n++
		}
	}
	return n
}

// lambdaConfigType is a pool's LambdaConfig as Describe shows it.
func lambdaConfigType(p storage.Pool) LambdaConfigType {
	lc := lambdaConfig(p)
	t := LambdaConfigType{
		PreSignUp: lc.PreSignUp, CustomMessage: lc.CustomMessage, PostConfirmation: lc.PostConfirmation,
		PreAuthentication: lc.PreAuthentication, PostAuthentication: lc.PostAuthentication,
		DefineAuthChallenge: lc.DefineAuthChallenge, CreateAuthChallenge: lc.CreateAuthChallenge,
		VerifyAuthChallengeResponse: lc.VerifyAuthChallengeResponse, PreTokenGeneration: lc.PreTokenGeneration,
		UserMigration: lc.UserMigration,
	}
	if lc.PreTokenGeneration != "" {
		t.PreTokenGenerationConfig = &PreTokenGenerationConfigType{LambdaVersion: lc.PreTokenGenerationVersion, LambdaArn: lc.PreTokenGeneration}
	}
	return t
}

// UpdateUserPoolInput is UpdateUserPool's request. As in Cognito, a
// member left out goes back to its default; the members Cognate cannot
// change after creation (username attributes, schema) are not part of it.
type UpdateUserPoolInput struct {
	UserPoolId                  string                       `json:"UserPoolId"`
	Policies                    *PoliciesType                `json:"Policies,omitempty"`
	AutoVerifiedAttributes      []string                     `json:"AutoVerifiedAttributes,omitempty"`
	MfaConfiguration            string                       `json:"MfaConfiguration,omitempty"`
	DeletionProtection          string                       `json:"DeletionProtection,omitempty"`
	AdminCreateUserConfig       *AdminCreateUserConfig       `json:"AdminCreateUserConfig,omitempty"`
	UserAttributeUpdateSettings *UserAttributeUpdateSettings `json:"UserAttributeUpdateSettings,omitempty"`
	LambdaConfig                *LambdaConfigType            `json:"LambdaConfig,omitempty"`
	DeviceConfiguration         *DeviceConfigurationType     `json:"DeviceConfiguration,omitempty"`
}

// UpdateUserPool replaces a pool's updatable settings. The MFA factors and
// passkey settings (set by their own operations) and the immutable ones
// stay.
func (s *Service) UpdateUserPool(ctx context.Context, in UpdateUserPoolInput) (Empty, error) {
	p, err := s.pool(ctx, in.UserPoolId)
	if err != nil {
		return Empty{}, err
	}
	create := CreateUserPoolInput{
		PoolName: p.Name, Policies: in.Policies, AutoVerifiedAttributes: in.AutoVerifiedAttributes,
		MfaConfiguration: in.MfaConfiguration, DeletionProtection: in.DeletionProtection,
		AdminCreateUserConfig: in.AdminCreateUserConfig, UserAttributeUpdateSettings: in.UserAttributeUpdateSettings,
		LambdaConfig: in.LambdaConfig, DeviceConfiguration: in.DeviceConfiguration,
	}
	if err := create.validate(); err != nil {
		return Empty{}, err
	}
	set, err := poolSettings(create)
	if err != nil {
		return Empty{}, err
	}
	if set.LambdaConfig, err = s.lambdaSettings(in.LambdaConfig); err != nil {
		return Empty{}, err
	}
	err = s.store.UpdatePool(ctx, p.ID, func(p storage.Pool) (storage.Pool, error) {
		old := p.Settings
		p.Settings.PasswordPolicy = set.PasswordPolicy
		p.Settings.AutoVerifiedAttributes = set.AutoVerifiedAttributes
		if in.MfaConfiguration != "" {
			p.Settings.MFAConfiguration = set.MFAConfiguration
		}
		if in.Policies != nil && in.Policies.SignInPolicy != nil {
			p.Settings.AllowedFirstAuthFactors = set.AllowedFirstAuthFactors
		}
		p.Settings.DeletionProtection = set.DeletionProtection
		p.Settings.AllowAdminCreateUserOnly = set.AllowAdminCreateUserOnly
		p.Settings.AttributesRequireVerificationBeforeUpdate = set.AttributesRequireVerificationBeforeUpdate
		p.Settings.LambdaConfig = set.LambdaConfig
		p.Settings.DeviceConfiguration = set.DeviceConfiguration
		p.Settings.UsernameAttributes, p.Settings.Schema = old.UsernameAttributes, old.Schema
		p.UpdatedAt = s.now()
		return p, nil
	})
	if errors.Is(err, storage.ErrNotFound) {
		return Empty{}, errorf(ErrResourceNotFound, "User pool %s does not exist.", in.UserPoolId)
	}
	if err != nil {
		return Empty{}, internal("update pool", err)
	}
	s.poolCache.drop(p.ID)
	return Empty{}, nil
}
