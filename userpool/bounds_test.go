package userpool

import (
	"errors"
	"strings"
	"testing"
)

func ptr[T any](v T) *T { return &v }

func TestValidateMessages(t *testing.T) {
	tests := []struct {
		name string
		in   interface{ validate() error }
		want string // "" for a valid request
	}{
		{"client ok", CreateUserPoolClientInput{ClientSettingsInput: ClientSettingsInput{ClientName: "c", AccessTokenValidity: 1, AuthSessionValidity: 15}}, ""},
		{"zero is left out", CreateUserPoolClientInput{ClientSettingsInput: ClientSettingsInput{ClientName: "c"}}, ""},
		{"negative access validity", CreateUserPoolClientInput{ClientSettingsInput: ClientSettingsInput{ClientName: "c", AccessTokenValidity: -1}},
			"1 validation error detected: Value '-1' at 'accessTokenValidity' failed to satisfy constraint: Member must have value greater than or equal to 1"},
		{"no client name", CreateUserPoolClientInput{},
			"1 validation error detected: Value null at 'clientName' failed to satisfy constraint: Member must not be null"},
		{"update keeps the name", UpdateUserPoolClientInput{}, ""},
		{"every violation", UpdateUserPoolClientInput{ClientSettingsInput: ClientSettingsInput{
			RefreshTokenValidity: 315360001, IdTokenValidity: 86401,
			TokenValidityUnits:   &TokenValidityUnitsType{IdToken: "weeks"},
			RefreshTokenRotation: &RefreshTokenRotationType{RetryGracePeriodSeconds: 61},
		}}, "5 validation errors detected: " +
			"Value '315360001' at 'refreshTokenValidity' failed to satisfy constraint: Member must have value less than or equal to 315360000; " +
			"Value '86401' at 'idTokenValidity' failed to satisfy constraint: Member must have value less than or equal to 86400; " +
			"Value 'weeks' at 'tokenValidityUnits.idToken' failed to satisfy constraint: Member must satisfy enum value set: [seconds, minutes, hours, days]; " +
			"Value null at 'refreshTokenRotation.feature' failed to satisfy constraint: Member must not be null; " +
			"Value '61' at 'refreshTokenRotation.retryGracePeriodSeconds' failed to satisfy constraint: Member must have value less than or equal to 60"},
		{"auth flows", UpdateUserPoolClientInput{ClientSettingsInput: ClientSettingsInput{ExplicitAuthFlows: []string{"ALLOW_USER_SRP_AUTH", "NOPE"}}},
			"1 validation error detected: Value '[ALLOW_USER_SRP_AUTH, NOPE]' at 'explicitAuthFlows' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value set: [ADMIN_NO_SRP_AUTH, CUSTOM_AUTH_FLOW_ONLY, USER_PASSWORD_AUTH, ALLOW_ADMIN_USER_PASSWORD_AUTH, ALLOW_CUSTOM_AUTH, ALLOW_USER_PASSWORD_AUTH, ALLOW_USER_SRP_AUTH, ALLOW_REFRESH_TOKEN_AUTH, ALLOW_USER_AUTH]]"},
		{"long value cut short", UpdateUserPoolClientInput{ClientSettingsInput: ClientSettingsInput{DefaultRedirectURI: strings.Repeat("u", 2000)}},
			"1 validation error detected: Value '" + strings.Repeat("u", 256) + "...' at 'defaultRedirectURI' failed to satisfy constraint: Member must have length less than or equal to 1024"},
		{"pool ok", CreateUserPoolInput{PoolName: "p", Policies: &PoliciesType{PasswordPolicy: &PasswordPolicyType{MinimumLength: ptr(99), TemporaryPasswordValidityDays: ptr(0)}}}, ""},
		{"password policy", CreateUserPoolInput{PoolName: "p", Policies: &PoliciesType{PasswordPolicy: &PasswordPolicyType{MinimumLength: ptr(5), TemporaryPasswordValidityDays: ptr(366)}}},
			"2 validation errors detected: " +
				"Value '5' at 'policies.passwordPolicy.minimumLength' failed to satisfy constraint: Member must have value greater than or equal to 6; " +
				"Value '366' at 'policies.passwordPolicy.temporaryPasswordValidityDays' failed to satisfy constraint: Member must have value less than or equal to 365"},
		{"schema", CreateUserPoolInput{PoolName: "p", Schema: []SchemaAttributeType{{Name: "custom:" + strings.Repeat("n", 20)}, {Name: "x", AttributeDataType: "Number"}}}, ""},
		{"schema names", CreateUserPoolInput{PoolName: "p", Schema: []SchemaAttributeType{{Name: "custom:"}, {Name: strings.Repeat("n", 21)}}},
			"2 validation errors detected: Value null at 'schema.1.member.name' failed to satisfy constraint: Member must not be null; " +
				"Value '" + strings.Repeat("n", 21) + "' at 'schema.2.member.name' failed to satisfy constraint: Member must have length less than or equal to 20"},
		{"group", CreateGroupInput{GroupName: "g", RoleArn: "arn:aws:iam::1:role/r", Precedence: ptr(int64(0))}, ""},
		{"group precedence", CreateGroupInput{GroupName: "g", Precedence: ptr(int64(1) << 31)},
			"1 validation error detected: Value '2147483648' at 'precedence' failed to satisfy constraint: Member must have value less than or equal to 2147483647"},
		{"group arn", CreateGroupInput{GroupName: "g", RoleArn: "arn:aws:iam::1:r"},
			"1 validation error detected: Value 'arn:aws:iam::1:r' at 'roleArn' failed to satisfy constraint: Member must have length greater than or equal to 20"},
		{"list users", ListUsersInput{Limit: 61, AttributesToGet: []string{"email", ""}},
			"2 validation errors detected: Value '[email, ]' at 'attributesToGet' failed to satisfy constraint: Member must satisfy constraint: [Member must have length greater than or equal to 1]; " +
				"Value '61' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 60"},
		{"list groups", ListGroupsInput{Limit: -1},
			"1 validation error detected: Value '-1' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 0"},
		{"list pools", ListUserPoolsInput{},
			"1 validation error detected: Value '0' at 'maxResults' failed to satisfy constraint: Member must have value greater than or equal to 1"},
	}
	for _, tt := range tests {
		err := tt.in.validate()
		if tt.want == "" {
			if err != nil {
				t.Errorf("%s: %v", tt.name, err)
			}
			continue
		}
		var e *Error
		if !errors.As(err, &e) || e.Type != ErrInvalidParameter.Type || e.Message != tt.want {
			t.Errorf("%s:\n got %v\nwant %s", tt.name, err, tt.want)
		}
	}
}

func TestTokenLifeHolds(t *testing.T) {
	tests := []struct {
		life tokenLife
		n    int64
		unit string
		ok   bool
	}{
		{accessTokenLife, 299, "seconds", false},
		{accessTokenLife, 300, "seconds", true},
		{accessTokenLife, 86400, "seconds", true},
		{accessTokenLife, 86401, "seconds", false},
		{accessTokenLife, 4, "minutes", false},
		{accessTokenLife, 5, "minutes", true},
		{accessTokenLife, 1440, "minutes", true},
		{accessTokenLife, 1441, "minutes", false},
		{accessTokenLife, 1, "hours", true},
		{accessTokenLife, 24, "hours", true},
		{accessTokenLife, 25, "hours", false},
		{accessTokenLife, 1, "days", true},
		{accessTokenLife, 2, "days", false},
		{refreshTokenLife, 3599, "seconds", false},
		{refreshTokenLife, 3600, "seconds", true},
		{refreshTokenLife, 59, "minutes", false},
		{refreshTokenLife, 60, "minutes", true},
		{refreshTokenLife, 87600, "hours", true},
		{refreshTokenLife, 87601, "hours", false},
		{refreshTokenLife, 3650, "days", true},
		{refreshTokenLife, 3651, "days", false},
		// The model's largest refresh value, in days, is past what a
		// time.Duration holds.
		{refreshTokenLife, refreshTokenValidity.max, "days", false},
	}
	for _, tt := range tests {
		if got := tt.life.holds(tt.n, tt.unit); got != tt.ok {
			t.Errorf("%v holds %d %s = %v", tt.life, tt.n, tt.unit, got)
		}
	}
}

func TestClientSettingsRules(t *testing.T) {
	tests := []struct {
		name string
		in   ClientSettingsInput
		want string // a part of the message; "" for accepted settings
	}{
		{"defaults", ClientSettingsInput{}, ""},
		{"validity without unit is hours", ClientSettingsInput{AccessTokenValidity: 25}, "Invalid range for token validity. AccessTokenValidity 25 hours"},
		{"id token in days", ClientSettingsInput{IdTokenValidity: 2, TokenValidityUnits: &TokenValidityUnitsType{IdToken: "days"}}, "IdTokenValidity 2 days"},
		{"refresh in minutes", ClientSettingsInput{RefreshTokenValidity: 59, TokenValidityUnits: &TokenValidityUnitsType{RefreshToken: "minutes"}}, "RefreshTokenValidity 59 minutes"},
		{"legacy flow", ClientSettingsInput{ExplicitAuthFlows: []string{"USER_PASSWORD_AUTH"}}, "legacy name"},
	}
	for _, tt := range tests {
		_, err := clientSettings(tt.in, defaultClientSettings(), false)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: %v", tt.name, err)
		case tt.want != "" && (!errors.Is(err, ErrInvalidParameter) || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%s: %v, want %q", tt.name, err, tt.want)
		}
	}
}

func TestSchemaAttributeLengths(t *testing.T) {
	tests := []struct {
		min, max string
		ok       bool
	}{
		{"", "", true},
		{"0", "2048", true},
		{"5", "5", true},
		{"3", "", true},
		{"0", "2049", false},
		{"-1", "10", false},
		{"1.5", "10", false},
		{"0", "abc", false},
		{"11", "10", false},
	}
	for _, tt := range tests {
		a := SchemaAttributeType{Name: "bio", StringAttributeConstraints: &StringAttributeConstraints{MinLength: tt.min, MaxLength: tt.max}}
		_, err := schemaAttribute(a)
		if (err == nil) != tt.ok {
			t.Errorf("MinLength %q MaxLength %q: %v", tt.min, tt.max, err)
		}
	}
}
