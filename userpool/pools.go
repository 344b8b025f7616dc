package userpool

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/cognate-auth/cognate/storage"
)

const alnum = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

// randomString returns n characters drawn uniformly from alphabet.
func randomString(alphabet string, n int) (string, error) {
	buf := make([]byte, n)
	out := make([]byte, n)
	limit := 256 - 256%len(alphabet) // reject bytes that would bias the draw
	for i := 0; i < n; {
		if _, err := rand.Read(buf); err != nil {
			return "", err
		}
		for _, b := range buf {
			if int(b) < limit && i < n {
				out[i] = alphabet[int(b)%len(alphabet)]
				i++
			}
		}
	}
	return string(out), nil
}

// NewPoolID returns a Cognito-shaped pool id: region, "_", 9 letters or
// digits (the shape aws-jwt-verify and Amplify accept).
func NewPoolID(region string) (string, error) {
	suffix, err := randomString(alnum, 9)
	if err != nil {
		return "", err
	}
	return region + "_" + suffix, nil
}

// CreateUserPool creates a pool with a generated id in the service's
// region.
func (s *Service) CreateUserPool(ctx context.Context, in CreateUserPoolInput) (UserPoolOutput, error) {
	id, err := NewPoolID(s.region)
	if err != nil {
		return UserPoolOutput{}, internal("pool id", err)
	}
	return s.CreateUserPoolWithID(ctx, id, in)
}

// CreateUserPoolWithID creates a pool with a chosen id (configured pools).
func (s *Service) CreateUserPoolWithID(ctx context.Context, id string, in CreateUserPoolInput) (UserPoolOutput, error) {
	if err := in.validate(); err != nil {
		return UserPoolOutput{}, err
	}
	if !validPoolID(id) {
		return UserPoolOutput{}, invalidParam("Invalid user pool id %.64q: want <region>_<letters and digits>", id)
	}
	set, err := poolSettings(in)
	if err != nil {
		return UserPoolOutput{}, err
	}
	if set.LambdaConfig, err = s.lambdaSettings(in.LambdaConfig); err != nil {
		return UserPoolOutput{}, err
	}
	now := s.now()
	p := storage.Pool{ID: id, Name: in.PoolName, CreatedAt: now, UpdatedAt: now, Settings: set}
	if err := s.store.CreatePool(ctx, p); errors.Is(err, storage.ErrAlreadyExists) {
		return UserPoolOutput{}, invalidParam("User pool %s already exists.", id)
	} else if err != nil {
		return UserPoolOutput{}, internal("create pool", err)
	}
	if err := s.keys.EnsurePoolKeys(ctx, id); err != nil {
		return UserPoolOutput{}, internal("pool keys", err)
	}
	return UserPoolOutput{UserPool: poolType(p)}, nil
}

func validPoolID(id string) bool {
	region, suffix, ok := strings.Cut(id, "_")
	if !ok || region == "" || suffix == "" || len(id) > 55 {
		return false
	}
	for _, r := range region {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return false
		}
	}
	return strings.Trim(suffix, alnum) == ""
}

// poolSettings builds the settings of in, which validate has checked
// against the model, and checks what Cognate supports.
func poolSettings(in CreateUserPoolInput) (storage.PoolSettings, error) {
	set := storage.PoolSettings{
		UsernameAttributes:     in.UsernameAttributes,
		AutoVerifiedAttributes: in.AutoVerifiedAttributes,
		PasswordPolicy:         DefaultPasswordPolicy,
		MFAConfiguration:       "OFF",
		DeletionProtection:     in.DeletionProtection,
	}
	for _, a := range in.UsernameAttributes {
		if a != "email" {
			return set, invalidParam("UsernameAttributes: only email is supported, got %s", a)
		}
	}
	if err := applyPoolMFA(&set, in.MfaConfiguration, in.EnabledMfas); err != nil {
		return set, err
	}
	if in.Policies != nil && in.Policies.PasswordPolicy != nil {
		pp := in.Policies.PasswordPolicy
		pol := &set.PasswordPolicy
		if pp.MinimumLength != nil {
			pol.MinimumLength = *pp.MinimumLength
		}
		// An explicit policy's requirements default to off, as in
		// Cognito's model: the AWS SDKs omit a false boolean, so this is
		// the only way their callers can turn a requirement off.
		pol.RequireUppercase, pol.RequireLowercase, pol.RequireNumbers, pol.RequireSymbols = false, false, false, false
		setBool(&pol.RequireUppercase, pp.RequireUppercase)
		setBool(&pol.RequireLowercase, pp.RequireLowercase)
		setBool(&pol.RequireNumbers, pp.RequireNumbers)
		setBool(&pol.RequireSymbols, pp.RequireSymbols)
		// Cognito reads a TemporaryPasswordValidityDays of 0 as left out.
		if pp.TemporaryPasswordValidityDays != nil && *pp.TemporaryPasswordValidityDays != 0 {
			pol.TemporaryPasswordValidityDays = *pp.TemporaryPasswordValidityDays
		}
	}
	for _, a := range in.Schema {
		sa, err := schemaAttribute(a)
		if err != nil {
			return set, err
		}
		set.Schema = append(set.Schema, sa)
	}
	if in.Policies != nil && in.Policies.SignInPolicy != nil {
		set.AllowedFirstAuthFactors = in.Policies.SignInPolicy.AllowedFirstAuthFactors
	}
	if in.AdminCreateUserConfig != nil {
		set.AllowAdminCreateUserOnly = in.AdminCreateUserConfig.AllowAdminCreateUserOnly
	}
	if in.UserAttributeUpdateSettings != nil {
		set.AttributesRequireVerificationBeforeUpdate = in.UserAttributeUpdateSettings.AttributesRequireVerificationBeforeUpdate
	}
	if dc := in.DeviceConfiguration; dc != nil {
		set.DeviceConfiguration = &storage.DeviceConfiguration{
			ChallengeRequiredOnNewDevice: dc.ChallengeRequiredOnNewDevice, DeviceOnlyRememberedOnUserPrompt: dc.DeviceOnlyRememberedOnUserPrompt,
		}
	}
	return set, nil
}

func setBool(dst *bool, v *bool) {
	if v != nil {
		*dst = *v
	}
}

// schemaAttribute stores custom attributes under their full "custom:"
// name, as clients address them.
func schemaAttribute(a SchemaAttributeType) (storage.SchemaAttribute, error) {
	name := strings.TrimPrefix(a.Name, "custom:")
	if !standardAttributes[name] {
		name = "custom:" + name
	}
	sa := storage.SchemaAttribute{Name: name, AttributeDataType: a.AttributeDataType, Mutable: a.Mutable == nil || *a.Mutable, Required: a.Required}
	if sa.AttributeDataType == "" {
		sa.AttributeDataType = "String"
	}
	if c := a.StringAttributeConstraints; c != nil {
		var minOK, maxOK bool
		sa.MinLength, minOK = lengthConstraint(c.MinLength)
		sa.MaxLength, maxOK = lengthConstraint(c.MaxLength)
		if !minOK || !maxOK || sa.MaxLength > 0 && sa.MinLength > sa.MaxLength {
			return sa, invalidParam("Invalid StringAttributeConstraints for %s: MinLength and MaxLength are whole numbers from 0 to %d, and MinLength is at most MaxLength.", name, attributeValueRange.max)
		}
	}
	return sa, nil
}

// lengthConstraint reads one StringAttributeConstraints member, a number
// the model types as a string; "" is a member left out.
func lengthConstraint(s string) (int, bool) {
	if s == "" {
		return 0, true
	}
	n, err := strconv.Atoi(s)
	return n, err == nil && int64(n) >= attributeValueRange.min && int64(n) <= attributeValueRange.max
}

func poolType(p storage.Pool) UserPoolType {
	pp := p.Settings.PasswordPolicy
	t := UserPoolType{
		Id: p.ID, Name: p.Name,
		Arn:                    fmt.Sprintf("arn:aws:cognito-idp:%s:000000000000:userpool/%s", regionOf(p.ID), p.ID),
		Policies:               PoliciesType{PasswordPolicy: &PasswordPolicyType{MinimumLength: &pp.MinimumLength, RequireUppercase: &pp.RequireUppercase, RequireLowercase: &pp.RequireLowercase, RequireNumbers: &pp.RequireNumbers, RequireSymbols: &pp.RequireSymbols, TemporaryPasswordValidityDays: &pp.TemporaryPasswordValidityDays}},
		UsernameAttributes:     p.Settings.UsernameAttributes,
		AutoVerifiedAttributes: p.Settings.AutoVerifiedAttributes,
		MfaConfiguration:       p.Settings.MFAConfiguration,
		DeletionProtection:     p.Settings.DeletionProtection,
		AdminCreateUserConfig:  AdminCreateUserConfig{AllowAdminCreateUserOnly: p.Settings.AllowAdminCreateUserOnly},
		CreationDate:           Epoch(p.CreatedAt),
		LastModifiedDate:       Epoch(p.UpdatedAt),
		Domain:                 p.Settings.Domain,
		UserPoolTier:           "ESSENTIALS",
		LambdaConfig:           lambdaConfigType(p),
	}
	t.Policies.SignInPolicy = &SignInPolicyType{AllowedFirstAuthFactors: allowedFirstFactors(p)}
	// A pool created without DeletionProtection has it off, and Cognito
	// says so.
	if t.DeletionProtection == "" {
		t.DeletionProtection = "INACTIVE"
	}
	if len(p.Settings.AttributesRequireVerificationBeforeUpdate) > 0 {
		t.UserAttributeUpdateSettings = &UserAttributeUpdateSettings{AttributesRequireVerificationBeforeUpdate: p.Settings.AttributesRequireVerificationBeforeUpdate}
	}
	if dc := p.Settings.DeviceConfiguration; dc != nil {
		t.DeviceConfiguration = &DeviceConfigurationType{
			ChallengeRequiredOnNewDevice: dc.ChallengeRequiredOnNewDevice, DeviceOnlyRememberedOnUserPrompt: dc.DeviceOnlyRememberedOnUserPrompt,
		}
	}
	for _, a := range p.Settings.Schema {
		mutable := a.Mutable
		st := SchemaAttributeType{Name: a.Name, AttributeDataType: a.AttributeDataType, Mutable: &mutable, Required: a.Required}
		if a.MinLength > 0 || a.MaxLength > 0 {
			st.StringAttributeConstraints = &StringAttributeConstraints{MinLength: strconv.Itoa(a.MinLength), MaxLength: strconv.Itoa(a.MaxLength)}
		}
		t.SchemaAttributes = append(t.SchemaAttributes, st)
	}
	return t
}

func regionOf(poolID string) string {
	region, _, _ := strings.Cut(poolID, "_")
	return region
}

// DescribeUserPool describes a pool.
func (s *Service) DescribeUserPool(ctx context.Context, in UserPoolIDInput) (UserPoolOutput, error) {
	p, err := s.pool(ctx, in.UserPoolId)
	if err != nil {
		return UserPoolOutput{}, err
	}
	return UserPoolOutput{UserPool: poolType(p)}, nil
}

// ListUserPools lists pools by id; NextToken is the last id returned.
func (s *Service) ListUserPools(ctx context.Context, in ListUserPoolsInput) (ListUserPoolsOutput, error) {
	if err := in.validate(); err != nil {
		return ListUserPoolsOutput{}, err
	}
	pools, err := s.store.ListPools(ctx)
	if err != nil {
		return ListUserPoolsOutput{}, internal("list pools", err)
	}
	sort.Slice(pools, func(i, j int) bool { return pools[i].ID < pools[j].ID })
	out := ListUserPoolsOutput{UserPools: []UserPoolDescriptionType{}}
	for _, p := range pools {
		if in.NextToken != "" && p.ID <= in.NextToken {
			continue
		}
		if len(out.UserPools) == in.MaxResults {
			out.NextToken = out.UserPools[len(out.UserPools)-1].Id
			break
		}
		out.UserPools = append(out.UserPools, UserPoolDescriptionType{Id: p.ID, Name: p.Name, CreationDate: Epoch(p.CreatedAt), LastModifiedDate: Epoch(p.UpdatedAt)})
	}
	return out, nil
}

// validRedirectURL applies Cognito's rule for callback and sign-out URLs:
// absolute, no fragment, https unless the host is local.
func validRedirectURL(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Fragment != "" || strings.Contains(raw, "#") || len(raw) > 1024 {
		return false
	}
	if u.Scheme == "https" {
		return true
	}
	host := u.Hostname()
	return u.Scheme == "http" && (host == "localhost" || host == "127.0.0.1" || host == "::1")
}
