package integration_test

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/cognate-auth/cognate/server"
)

// boundCase is one value of one member sent to an admin operation: want
// is "" for a value Cognito accepts, else a part of the
// InvalidParameterException message, which names the member.
type boundCase struct {
	name string
	want string
}

// refused asserts err against want and returns whether the call was
// refused.
func (c boundCase) check(t *testing.T, err error) bool {
	t.Helper()
	if c.want == "" {
		if err != nil {
			t.Fatalf("refused: %v", err)
		}
		return false
	}
	ae := wantErr(t, err, "InvalidParameterException")
	if !strings.Contains(ae.ErrorMessage(), c.want) {
		t.Fatalf("message %q does not contain %q", ae.ErrorMessage(), c.want)
	}
	return true
}

// Cognito's validation messages.
func atLeast(path string, value, min int64) string {
	return fmt.Sprintf("Value '%d' at '%s' failed to satisfy constraint: Member must have value greater than or equal to %d", value, path, min)
}

func atMost(path string, value, max int64) string {
	return fmt.Sprintf("Value '%d' at '%s' failed to satisfy constraint: Member must have value less than or equal to %d", value, path, max)
}

func longer(path string, n int) string {
	return fmt.Sprintf("at '%s' failed to satisfy constraint: Member must have length greater than or equal to %d", path, n)
}

func shorter(path string, n int) string {
	return fmt.Sprintf("at '%s' failed to satisfy constraint: Member must have length less than or equal to %d", path, n)
}

func enumOf(path string) string {
	return "at '" + path + "' failed to satisfy constraint: Member must satisfy enum value set: ["
}

func listOf(path string) string {
	return "at '" + path + "' failed to satisfy constraint: Member must satisfy constraint: ["
}

const tokenRange = "Invalid range for token validity."

func longURL(n int) string {
	return "https://example.com/" + strings.Repeat("a", n-len("https://example.com/"))
}

func manyURLs(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = "https://example.com/" + strconv.Itoa(i)
	}
	return out
}

// TestAdminBounds sends every numeric, enum and bounded member of the
// admin operations just below, at and just above its bounds in Cognito's
// model and documentation, through the SDK (raw where the SDK refuses to
// send a value). Nothing refused is stored: a refused update leaves the
// client as Describe showed it before.
func TestAdminBounds(t *testing.T) {
	t.Parallel()
	e := newEnv(t)

	t.Run("app clients", func(t *testing.T) {
		type clientCase struct {
			boundCase
			set func(*cip.CreateUserPoolClientInput)
			// createOnly marks cases whose update means something else
			// (an update without ClientName keeps the name).
			createOnly bool
		}
		validity := func(field string, n int32, unit types.TimeUnitsType) func(*cip.CreateUserPoolClientInput) {
			return func(in *cip.CreateUserPoolClientInput) {
				in.TokenValidityUnits = &types.TokenValidityUnitsType{}
				switch field {
				case "access":
					in.AccessTokenValidity, in.TokenValidityUnits.AccessToken = aws.Int32(n), unit
				case "id":
					in.IdTokenValidity, in.TokenValidityUnits.IdToken = aws.Int32(n), unit
				case "refresh":
					in.RefreshTokenValidity, in.TokenValidityUnits.RefreshToken = n, unit
				}
			}
		}
		var cases []clientCase
		add := func(name, want string, set func(*cip.CreateUserPoolClientInput)) {
			cases = append(cases, clientCase{boundCase: boundCase{name, want}, set: set})
		}
		// Access and id tokens: 1 to 86400 in the model, 5 minutes to 1 day
		// in every unit.
		for _, tok := range []string{"access", "id"} {
			path := tok + "TokenValidity"
			add(path+" -1", atLeast(path, -1, 1), validity(tok, -1, ""))
			add(path+" 1 second", tokenRange, validity(tok, 1, types.TimeUnitsTypeSeconds))
			add(path+" 299 seconds", tokenRange, validity(tok, 299, types.TimeUnitsTypeSeconds))
			add(path+" 300 seconds", "", validity(tok, 300, types.TimeUnitsTypeSeconds))
			add(path+" 86400 seconds", "", validity(tok, 86400, types.TimeUnitsTypeSeconds))
			add(path+" 86401 seconds", atMost(path, 86401, 86400), validity(tok, 86401, types.TimeUnitsTypeSeconds))
			add(path+" 4 minutes", tokenRange, validity(tok, 4, types.TimeUnitsTypeMinutes))
			add(path+" 5 minutes", "", validity(tok, 5, types.TimeUnitsTypeMinutes))
			add(path+" 1440 minutes", "", validity(tok, 1440, types.TimeUnitsTypeMinutes))
			add(path+" 1441 minutes", tokenRange, validity(tok, 1441, types.TimeUnitsTypeMinutes))
			add(path+" 1 hour", "", validity(tok, 1, types.TimeUnitsTypeHours))
			add(path+" 24 hours", "", validity(tok, 24, types.TimeUnitsTypeHours))
			add(path+" 25 hours", tokenRange, validity(tok, 25, types.TimeUnitsTypeHours))
			add(path+" 25 in the default unit", tokenRange, validity(tok, 25, ""))
			add(path+" 1 day", "", validity(tok, 1, types.TimeUnitsTypeDays))
			add(path+" 2 days", tokenRange, validity(tok, 2, types.TimeUnitsTypeDays))
			add(path+" 86400 days", tokenRange, validity(tok, 86400, types.TimeUnitsTypeDays))
			add(path+" in weeks", enumOf("tokenValidityUnits."+tok+"Token"), validity(tok, 1, "weeks"))
		}
		// Refresh tokens: 0 to 315360000 in the model (0, which the SDK
		// does not send, is the default: 30 days), 60 minutes to 10 years
		// in every unit.
		rt := "refreshTokenValidity"
		add(rt+" -1", atLeast(rt, -1, 0), validity("refresh", -1, ""))
		add(rt+" 0", "", validity("refresh", 0, types.TimeUnitsTypeDays))
		add(rt+" 3599 seconds", tokenRange, validity("refresh", 3599, types.TimeUnitsTypeSeconds))
		add(rt+" 3600 seconds", "", validity("refresh", 3600, types.TimeUnitsTypeSeconds))
		add(rt+" 315360000 seconds", "", validity("refresh", 315360000, types.TimeUnitsTypeSeconds))
		add(rt+" 315360001 seconds", atMost(rt, 315360001, 315360000), validity("refresh", 315360001, types.TimeUnitsTypeSeconds))
		add(rt+" 59 minutes", tokenRange, validity("refresh", 59, types.TimeUnitsTypeMinutes))
		add(rt+" 60 minutes", "", validity("refresh", 60, types.TimeUnitsTypeMinutes))
		add(rt+" 5256000 minutes", "", validity("refresh", 5256000, types.TimeUnitsTypeMinutes))
		add(rt+" 5256001 minutes", tokenRange, validity("refresh", 5256001, types.TimeUnitsTypeMinutes))
		add(rt+" 1 hour", "", validity("refresh", 1, types.TimeUnitsTypeHours))
		add(rt+" 87600 hours", "", validity("refresh", 87600, types.TimeUnitsTypeHours))
		add(rt+" 87601 hours", tokenRange, validity("refresh", 87601, types.TimeUnitsTypeHours))
		add(rt+" 1 day", "", validity("refresh", 1, types.TimeUnitsTypeDays))
		add(rt+" 3650 days", "", validity("refresh", 3650, types.TimeUnitsTypeDays))
		add(rt+" 3651 days", tokenRange, validity("refresh", 3651, ""))
		// Days that would overflow a nanosecond count.
		add(rt+" 315360000 days", tokenRange, validity("refresh", 315360000, types.TimeUnitsTypeDays))
		add(rt+" in fortnights", enumOf("tokenValidityUnits.refreshToken"), validity("refresh", 1, "fortnights"))

		session := func(n int32) func(*cip.CreateUserPoolClientInput) {
			return func(in *cip.CreateUserPoolClientInput) { in.AuthSessionValidity = aws.Int32(n) }
		}
		add("authSessionValidity 2", atLeast("authSessionValidity", 2, 3), session(2))
		add("authSessionValidity 3", "", session(3))
		add("authSessionValidity 15", "", session(15))
		add("authSessionValidity 16", atMost("authSessionValidity", 16, 15), session(16))
		grace := "refreshTokenRotation.retryGracePeriodSeconds"
		add("grace -1", atLeast(grace, -1, 0), rotation(true, -1))
		add("grace 0", "", rotation(true, 0))
		add("grace 60", "", rotation(true, 60))
		add("grace 61", atMost(grace, 61, 60), rotation(true, 61))
		add("rotation feature ON", enumOf("refreshTokenRotation.feature"), func(in *cip.CreateUserPoolClientInput) {
			in.RefreshTokenRotation = &types.RefreshTokenRotationType{Feature: "ON"}
		})
		add("PreventUserExistenceErrors OFF", enumOf("preventUserExistenceErrors"), func(in *cip.CreateUserPoolClientInput) {
			in.PreventUserExistenceErrors = "OFF"
		})
		add("PreventUserExistenceErrors LEGACY", "", func(in *cip.CreateUserPoolClientInput) {
			in.PreventUserExistenceErrors = types.PreventUserExistenceErrorTypesLegacy
		})
		add("unknown auth flow", listOf("explicitAuthFlows")+"Member must satisfy enum value set: [", func(in *cip.CreateUserPoolClientInput) {
			in.ExplicitAuthFlows = []types.ExplicitAuthFlowsType{types.ExplicitAuthFlowsTypeAllowUserSrpAuth, "ALLOW_EVERYTHING"}
		})
		add("legacy auth flow", "legacy name", func(in *cip.CreateUserPoolClientInput) {
			in.ExplicitAuthFlows = []types.ExplicitAuthFlowsType{types.ExplicitAuthFlowsTypeUserPasswordAuth}
		})
		add("unknown OAuth flow", listOf("allowedOAuthFlows"), func(in *cip.CreateUserPoolClientInput) {
			in.AllowedOAuthFlows = []types.OAuthFlowType{"password"}
		})
		add("3 OAuth flows", "", func(in *cip.CreateUserPoolClientInput) {
			in.AllowedOAuthFlows = []types.OAuthFlowType{"code", "implicit", "code"}
		})
		add("4 OAuth flows", shorter("allowedOAuthFlows", 3), func(in *cip.CreateUserPoolClientInput) {
			in.AllowedOAuthFlows = []types.OAuthFlowType{"code", "implicit", "code", "implicit"}
		})
		scopes := func(n, size int) func(*cip.CreateUserPoolClientInput) {
			return func(in *cip.CreateUserPoolClientInput) {
				in.AllowedOAuthScopes = nil
				for i := range n {
					s := "api/" + strconv.Itoa(i)
					in.AllowedOAuthScopes = append(in.AllowedOAuthScopes, s+strings.Repeat("x", size-len(s)))
				}
			}
		}
		add("50 scopes", "", scopes(50, 8))
		add("51 scopes", shorter("allowedOAuthScopes", 50), scopes(51, 8))
		add("scope of 256", "", scopes(1, 256))
		add("scope of 257", listOf("allowedOAuthScopes")+"Member must have length less than or equal to 256]", scopes(1, 257))
		for _, member := range []string{"callbackURLs", "logoutURLs"} {
			set := func(list []string) func(*cip.CreateUserPoolClientInput) {
				return func(in *cip.CreateUserPoolClientInput) {
					if member == "callbackURLs" {
						in.CallbackURLs = list
					} else {
						in.LogoutURLs = list
					}
				}
			}
			add("100 "+member, "", set(manyURLs(100)))
			add("101 "+member, shorter(member, 100), set(manyURLs(101)))
			add(member+" of 1024", "", set([]string{longURL(1024)}))
			add(member+" of 1025", listOf(member)+"Member must have length less than or equal to 1024]", set([]string{longURL(1025)}))
			add(member+" empty", listOf(member)+"Member must have length greater than or equal to 1]", set([]string{""}))
		}
		add("DefaultRedirectURI of 1025", shorter("defaultRedirectURI", 1024), func(in *cip.CreateUserPoolClientInput) {
			in.CallbackURLs, in.DefaultRedirectURI = []string{longURL(1025)}, aws.String(longURL(1025))
		})
		for _, member := range []string{"readAttributes", "writeAttributes"} {
			set := func(list []string) func(*cip.CreateUserPoolClientInput) {
				return func(in *cip.CreateUserPoolClientInput) {
					if member == "readAttributes" {
						in.ReadAttributes = list
					} else {
						in.WriteAttributes = list
					}
				}
			}
			add(member+" of 2048", "", set([]string{"custom:" + strings.Repeat("a", 2041)}))
			add(member+" of 2049", listOf(member)+"Member must have length less than or equal to 2048]", set([]string{"custom:" + strings.Repeat("a", 2042)}))
			add(member+" empty", listOf(member), set([]string{"email", ""}))
		}
		idp := func(n int) func(*cip.CreateUserPoolClientInput) {
			return func(in *cip.CreateUserPoolClientInput) {
				in.SupportedIdentityProviders = []string{strings.Repeat("P", n)}
			}
		}
		add("identity provider of 32", "", idp(32))
		add("identity provider of 33", listOf("supportedIdentityProviders"), idp(33))
		name := func(n int) func(*cip.CreateUserPoolClientInput) {
			return func(in *cip.CreateUserPoolClientInput) { in.ClientName = aws.String(strings.Repeat("n", n)) }
		}
		add("clientName of 128", "", name(128))
		add("clientName of 129", shorter("clientName", 128), name(129))
		cases = append(cases, clientCase{boundCase{"clientName empty", "clientName"}, name(0), true})

		// The update path: a baseline client that every refused update
		// must leave as it was.
		base := &cip.CreateUserPoolClientInput{UserPoolId: aws.String(e.pool), ClientName: aws.String("bounds"), AccessTokenValidity: aws.Int32(2)}
		id := aws.ToString(must(e.api.CreateUserPoolClient(e.ctx, base))(t).UserPoolClient.ClientId)
		describe := func(t *testing.T) *types.UserPoolClientType {
			return must(e.api.DescribeUserPoolClient(e.ctx, &cip.DescribeUserPoolClientInput{UserPoolId: aws.String(e.pool), ClientId: aws.String(id)}))(t).UserPoolClient
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				in := &cip.CreateUserPoolClientInput{UserPoolId: aws.String(e.pool), ClientName: aws.String("c")}
				tc.set(in)
				out, err := e.api.CreateUserPoolClient(e.ctx, in)
				if !tc.check(t, err) {
					echoes(t, in, out.UserPoolClient)
				}
				if tc.createOnly {
					return
				}
				before := describe(t)
				up, err := e.api.UpdateUserPoolClient(e.ctx, updateOf(in, id))
				if !tc.check(t, err) {
					echoes(t, in, up.UserPoolClient)
					return
				}
				if after := describe(t); !reflect.DeepEqual(before, after) {
					t.Fatalf("a refused update changed the client:\nbefore %+v\nafter  %+v", before, after)
				}
			})
		}

		t.Run("exact message", func(t *testing.T) {
			_, err := e.api.UpdateUserPoolClient(e.ctx, &cip.UpdateUserPoolClientInput{
				UserPoolId: aws.String(e.pool), ClientId: aws.String(id), AccessTokenValidity: aws.Int32(-1),
			})
			wantMessage(t, err, "InvalidParameterException",
				"1 validation error detected: Value '-1' at 'accessTokenValidity' failed to satisfy constraint: Member must have value greater than or equal to 1")
			// Every violation is reported at once.
			_, err = e.api.UpdateUserPoolClient(e.ctx, &cip.UpdateUserPoolClientInput{
				UserPoolId: aws.String(e.pool), ClientId: aws.String(id), IdTokenValidity: aws.Int32(-1), AuthSessionValidity: aws.Int32(16),
			})
			wantMessage(t, err, "InvalidParameterException", "2 validation errors detected: "+
				"Value '-1' at 'idTokenValidity' failed to satisfy constraint: Member must have value greater than or equal to 1; "+
				"Value '16' at 'authSessionValidity' failed to satisfy constraint: Member must have value less than or equal to 15")
		})

		t.Run("raw", func(t *testing.T) {
			// The SDK insists on Feature; the server must too.
			body := fmt.Sprintf(`{"UserPoolId":%q,"ClientId":%q,"RefreshTokenRotation":{"RetryGracePeriodSeconds":5}}`, e.pool, id)
			before := describe(t)
			r := e.signedRaw("UpdateUserPoolClient", []byte(body))
			wantRaw(t, r, 400, "InvalidParameterException")
			if want := "Value null at 'refreshTokenRotation.feature' failed to satisfy constraint: Member must not be null"; !strings.Contains(r.msg, want) {
				t.Fatalf("message %q lacks %q", r.msg, want)
			}
			if after := describe(t); !reflect.DeepEqual(before, after) {
				t.Fatalf("a refused update changed the client: %+v", after)
			}
		})
	})

	t.Run("user pools", func(t *testing.T) {
		type poolCase struct {
			boundCase
			set func(*cip.CreateUserPoolInput)
		}
		// The SDK does not send a TemporaryPasswordValidityDays of 0: the
		// raw case below does.
		policy := func(minLen *int32, days int32) func(*cip.CreateUserPoolInput) {
			return func(in *cip.CreateUserPoolInput) {
				in.Policies = &types.UserPoolPolicyType{PasswordPolicy: &types.PasswordPolicyType{MinimumLength: minLen, TemporaryPasswordValidityDays: days}}
			}
		}
		schema := func(attrs ...types.SchemaAttributeType) func(*cip.CreateUserPoolInput) {
			return func(in *cip.CreateUserPoolInput) { in.Schema = attrs }
		}
		str := func(name, lo, hi string) types.SchemaAttributeType {
			return types.SchemaAttributeType{Name: aws.String(name), AttributeDataType: types.AttributeDataTypeString,
				StringAttributeConstraints: &types.StringAttributeConstraintsType{MinLength: aws.String(lo), MaxLength: aws.String(hi)}}
		}
		many := func(n int) func(*cip.CreateUserPoolInput) {
			var attrs []types.SchemaAttributeType
			for i := range n {
				attrs = append(attrs, types.SchemaAttributeType{Name: aws.String("a" + strconv.Itoa(i)), AttributeDataType: types.AttributeDataTypeNumber})
			}
			return schema(attrs...)
		}
		minLen, days := "policies.passwordPolicy.minimumLength", "policies.passwordPolicy.temporaryPasswordValidityDays"
		cases := []poolCase{
			{boundCase{"MinimumLength 5", atLeast(minLen, 5, 6)}, policy(aws.Int32(5), 0)},
			{boundCase{"MinimumLength 6", ""}, policy(aws.Int32(6), 0)},
			{boundCase{"MinimumLength 99", ""}, policy(aws.Int32(99), 0)},
			{boundCase{"MinimumLength 100", atMost(minLen, 100, 99)}, policy(aws.Int32(100), 0)},
			{boundCase{"TemporaryPasswordValidityDays -1", atLeast(days, -1, 0)}, policy(nil, -1)},
			{boundCase{"TemporaryPasswordValidityDays 365", ""}, policy(nil, 365)},
			{boundCase{"TemporaryPasswordValidityDays 366", atMost(days, 366, 365)}, policy(nil, 366)},
			{boundCase{"MfaConfiguration MAYBE", enumOf("mfaConfiguration")}, func(in *cip.CreateUserPoolInput) { in.MfaConfiguration = "MAYBE" }},
			{boundCase{"MfaConfiguration ON", ""}, func(in *cip.CreateUserPoolInput) { in.MfaConfiguration = types.UserPoolMfaTypeOn }},
			{boundCase{"DeletionProtection SOMETIMES", enumOf("deletionProtection")}, func(in *cip.CreateUserPoolInput) { in.DeletionProtection = "SOMETIMES" }},
			{boundCase{"DeletionProtection ACTIVE", ""}, func(in *cip.CreateUserPoolInput) { in.DeletionProtection = types.DeletionProtectionTypeActive }},
			{boundCase{"UsernameAttributes username", listOf("usernameAttributes")}, func(in *cip.CreateUserPoolInput) {
				in.UsernameAttributes = []types.UsernameAttributeType{"username"}
			}},
			{boundCase{"UsernameAttributes phone_number", "only email"}, func(in *cip.CreateUserPoolInput) {
				in.UsernameAttributes = []types.UsernameAttributeType{types.UsernameAttributeTypePhoneNumber}
			}},
			{boundCase{"AliasAttributes sub", listOf("aliasAttributes")}, func(in *cip.CreateUserPoolInput) {
				in.AliasAttributes = []types.AliasAttributeType{"sub"}
			}},
			{boundCase{"AutoVerifiedAttributes address", listOf("autoVerifiedAttributes")}, func(in *cip.CreateUserPoolInput) {
				in.AutoVerifiedAttributes = []types.VerifiedAttributeType{"address"}
			}},
			{boundCase{"AutoVerifiedAttributes phone_number", ""}, func(in *cip.CreateUserPoolInput) {
				in.AutoVerifiedAttributes = []types.VerifiedAttributeType{types.VerifiedAttributeTypePhoneNumber}
			}},
			{boundCase{"verify before update: name", listOf("userAttributeUpdateSettings.attributesRequireVerificationBeforeUpdate")}, func(in *cip.CreateUserPoolInput) {
				in.UserAttributeUpdateSettings = &types.UserAttributeUpdateSettingsType{AttributesRequireVerificationBeforeUpdate: []types.VerifiedAttributeType{"name"}}
			}},
			{boundCase{"50 schema attributes", ""}, many(50)},
			{boundCase{"51 schema attributes", shorter("schema", 50)}, many(51)},
			{boundCase{"attribute name of 20", ""}, schema(types.SchemaAttributeType{Name: aws.String(strings.Repeat("n", 20))})},
			{boundCase{"attribute name of 21", shorter("schema.1.member.name", 20)}, schema(types.SchemaAttributeType{Name: aws.String(strings.Repeat("n", 21))})},
			{boundCase{"attribute type Integer", enumOf("schema.2.member.attributeDataType")}, schema(str("ok", "0", "10"), types.SchemaAttributeType{Name: aws.String("n"), AttributeDataType: "Integer"})},
			{boundCase{"attribute lengths 0 to 2048", ""}, schema(str("bio", "0", "2048"))},
			{boundCase{"attribute MaxLength 2049", "StringAttributeConstraints"}, schema(str("bio", "0", "2049"))},
			{boundCase{"attribute MinLength -1", "StringAttributeConstraints"}, schema(str("bio", "-1", "10"))},
			{boundCase{"attribute MaxLength abc", "StringAttributeConstraints"}, schema(str("bio", "0", "abc"))},
			{boundCase{"attribute MinLength over MaxLength", "StringAttributeConstraints"}, schema(str("bio", "11", "10"))},
			{boundCase{"PoolName of 128", ""}, func(in *cip.CreateUserPoolInput) { in.PoolName = aws.String(strings.Repeat("p", 128)) }},
			{boundCase{"PoolName of 129", shorter("poolName", 128)}, func(in *cip.CreateUserPoolInput) { in.PoolName = aws.String(strings.Repeat("p", 129)) }},
			{boundCase{"PoolName empty", "poolName"}, func(in *cip.CreateUserPoolInput) { in.PoolName = aws.String("") }},
		}
		var refused []string
		for i, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				in := &cip.CreateUserPoolInput{PoolName: aws.String("bounds" + strconv.Itoa(i))}
				tc.set(in)
				out, err := e.api.CreateUserPool(e.ctx, in)
				if tc.check(t, err) {
					refused = append(refused, aws.ToString(in.PoolName))
					return
				}
				want, got := in.Policies, out.UserPool.Policies
				if want != nil && (aws.ToInt32(want.PasswordPolicy.MinimumLength) != 0 && aws.ToInt32(got.PasswordPolicy.MinimumLength) != aws.ToInt32(want.PasswordPolicy.MinimumLength) ||
					want.PasswordPolicy.TemporaryPasswordValidityDays != 0 && got.PasswordPolicy.TemporaryPasswordValidityDays != want.PasswordPolicy.TemporaryPasswordValidityDays) {
					t.Fatalf("policy %+v stored as %+v", want.PasswordPolicy, got.PasswordPolicy)
				}
			})
		}
		t.Run("TemporaryPasswordValidityDays 0", func(t *testing.T) {
			r := e.signedRaw("CreateUserPool", []byte(`{"PoolName":"days0","Policies":{"PasswordPolicy":{"TemporaryPasswordValidityDays":0}}}`))
			if r.status != 200 {
				t.Fatalf("refused: %d %s %s", r.status, r.typ, r.msg)
			}
			var out struct{ UserPool struct{ Id string } }
			if err := json.Unmarshal(r.body, &out); err != nil {
				t.Fatal(err)
			}
			d := must(e.api.DescribeUserPool(e.ctx, &cip.DescribeUserPoolInput{UserPoolId: aws.String(out.UserPool.Id)}))(t).UserPool
			// Cognito's PasswordPolicyType: a 0 is treated as left out,
			// so the pool gets the default 7 days.
			if n := d.Policies.PasswordPolicy.TemporaryPasswordValidityDays; n != 7 {
				t.Fatalf("TemporaryPasswordValidityDays 0 stored as %d, want the default 7", n)
			}
		})
		pg := cip.NewListUserPoolsPaginator(e.api, &cip.ListUserPoolsInput{MaxResults: aws.Int32(60)})
		for pg.HasMorePages() {
			for _, p := range must(pg.NextPage(e.ctx))(t).UserPools {
				if slices.Contains(refused, aws.ToString(p.Name)) {
					t.Errorf("refused pool %s was created", aws.ToString(p.Name))
				}
			}
		}
	})

	t.Run("groups", func(t *testing.T) {
		type groupCase struct {
			boundCase
			set func(*cip.CreateGroupInput)
		}
		precedence := func(n int32) func(*cip.CreateGroupInput) {
			return func(in *cip.CreateGroupInput) { in.Precedence = aws.Int32(n) }
		}
		text := func(field string, n int) func(*cip.CreateGroupInput) {
			return func(in *cip.CreateGroupInput) {
				s := aws.String(strings.Repeat("x", n))
				switch field {
				case "description":
					in.Description = s
				case "roleArn":
					in.RoleArn = s
				case "groupName":
					in.GroupName = s
				}
			}
		}
		cases := []groupCase{
			{boundCase{"Precedence -1", atLeast("precedence", -1, 0)}, precedence(-1)},
			{boundCase{"Precedence 0", ""}, precedence(0)},
			{boundCase{"Precedence 2147483647", ""}, precedence(2147483647)},
			{boundCase{"Description of 2048", ""}, text("description", 2048)},
			{boundCase{"Description of 2049", shorter("description", 2048)}, text("description", 2049)},
			{boundCase{"RoleArn of 19", longer("roleArn", 20)}, text("roleArn", 19)},
			{boundCase{"RoleArn of 20", ""}, text("roleArn", 20)},
			{boundCase{"RoleArn of 2048", ""}, text("roleArn", 2048)},
			{boundCase{"RoleArn of 2049", shorter("roleArn", 2048)}, text("roleArn", 2049)},
			{boundCase{"GroupName of 128", ""}, text("groupName", 128)},
			{boundCase{"GroupName of 129", shorter("groupName", 128)}, text("groupName", 129)},
			{boundCase{"GroupName empty", "groupName"}, text("groupName", 0)},
		}
		var refused []string
		for i, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				in := &cip.CreateGroupInput{UserPoolId: aws.String(e.pool), GroupName: aws.String("g" + strconv.Itoa(i))}
				tc.set(in)
				out, err := e.api.CreateGroup(e.ctx, in)
				if tc.check(t, err) {
					refused = append(refused, aws.ToString(in.GroupName))
					return
				}
				if in.Precedence != nil && aws.ToInt32(out.Group.Precedence) != *in.Precedence {
					t.Fatalf("precedence %d stored as %v", *in.Precedence, out.Group.Precedence)
				}
			})
		}
		t.Run("Precedence 2147483648", func(t *testing.T) {
			r := e.signedRaw("CreateGroup", fmt.Appendf(nil, `{"UserPoolId":%q,"GroupName":"huge","Precedence":2147483648}`, e.pool))
			wantRaw(t, r, 400, "InvalidParameterException")
			if want := atMost("precedence", 2147483648, 2147483647); !strings.Contains(r.msg, want) {
				t.Fatalf("message %q lacks %q", r.msg, want)
			}
			refused = append(refused, "huge")
		})
		for _, g := range must(e.api.ListGroups(e.ctx, &cip.ListGroupsInput{UserPoolId: aws.String(e.pool)}))(t).Groups {
			if slices.Contains(refused, aws.ToString(g.GroupName)) {
				t.Errorf("refused group %.20s… was created", aws.ToString(g.GroupName))
			}
		}
	})

	t.Run("lists", func(t *testing.T) {
		user := e.signUp(e.pub, "bounds@example.com")
		filter := func(n int) *string {
			head := `email = "`
			return aws.String(head + strings.Repeat("x", n-len(head)-1) + `"`)
		}
		type listCase struct {
			boundCase
			call func() error
		}
		var cases []listCase
		for _, n := range []int32{-1, 0, 60, 61} {
			want := ""
			switch n {
			case -1:
				want = atLeast("limit", -1, 0)
			case 61:
				want = atMost("limit", 61, 60)
			}
			cases = append(cases,
				listCase{boundCase{"ListUsers Limit " + fmt.Sprint(n), want}, func() error {
					_, err := e.api.ListUsers(e.ctx, &cip.ListUsersInput{UserPoolId: aws.String(e.pool), Limit: aws.Int32(n)})
					return err
				}},
				listCase{boundCase{"ListGroups Limit " + fmt.Sprint(n), want}, func() error {
					_, err := e.api.ListGroups(e.ctx, &cip.ListGroupsInput{UserPoolId: aws.String(e.pool), Limit: aws.Int32(n)})
					return err
				}},
				listCase{boundCase{"AdminListGroupsForUser Limit " + fmt.Sprint(n), want}, func() error {
					_, err := e.api.AdminListGroupsForUser(e.ctx, &cip.AdminListGroupsForUserInput{UserPoolId: aws.String(e.pool), Username: aws.String(user), Limit: aws.Int32(n)})
					return err
				}},
			)
		}
		for _, n := range []int32{0, 1, 60, 61} {
			want := ""
			switch n {
			case 0:
				want = atLeast("maxResults", 0, 1)
			case 61:
				want = atMost("maxResults", 61, 60)
			}
			cases = append(cases, listCase{boundCase{"ListUserPools MaxResults " + fmt.Sprint(n), want}, func() error {
				_, err := e.api.ListUserPools(e.ctx, &cip.ListUserPoolsInput{MaxResults: aws.Int32(n)})
				return err
			}})
		}
		for _, tc := range []struct {
			name string
			in   *cip.ListUsersInput
			want string
		}{
			{"Filter of 256", &cip.ListUsersInput{Filter: filter(256)}, ""},
			{"Filter of 257", &cip.ListUsersInput{Filter: filter(257)}, shorter("filter", 256)},
			{"AttributesToGet of 32", &cip.ListUsersInput{AttributesToGet: []string{strings.Repeat("a", 32)}}, ""},
			{"AttributesToGet of 33", &cip.ListUsersInput{AttributesToGet: []string{strings.Repeat("a", 33)}}, listOf("attributesToGet")},
			{"AttributesToGet empty", &cip.ListUsersInput{AttributesToGet: []string{""}}, listOf("attributesToGet")},
		} {
			tc.in.UserPoolId = aws.String(e.pool)
			cases = append(cases, listCase{boundCase{tc.name, tc.want}, func() error {
				_, err := e.api.ListUsers(e.ctx, tc.in)
				return err
			}})
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) { tc.check(t, tc.call()) })
		}
	})
}

// updateOf is the UpdateUserPoolClient request with the settings of in.
func updateOf(in *cip.CreateUserPoolClientInput, id string) *cip.UpdateUserPoolClientInput {
	return &cip.UpdateUserPoolClientInput{
		UserPoolId: in.UserPoolId, ClientId: aws.String(id), ClientName: in.ClientName,
		RefreshTokenValidity: in.RefreshTokenValidity, AccessTokenValidity: in.AccessTokenValidity, IdTokenValidity: in.IdTokenValidity,
		TokenValidityUnits: in.TokenValidityUnits, ReadAttributes: in.ReadAttributes, WriteAttributes: in.WriteAttributes,
		ExplicitAuthFlows: in.ExplicitAuthFlows, SupportedIdentityProviders: in.SupportedIdentityProviders,
		CallbackURLs: in.CallbackURLs, LogoutURLs: in.LogoutURLs, DefaultRedirectURI: in.DefaultRedirectURI,
		AllowedOAuthFlows: in.AllowedOAuthFlows, AllowedOAuthScopes: in.AllowedOAuthScopes,
		AllowedOAuthFlowsUserPoolClient: in.AllowedOAuthFlowsUserPoolClient, PreventUserExistenceErrors: in.PreventUserExistenceErrors,
		EnableTokenRevocation: in.EnableTokenRevocation, AuthSessionValidity: in.AuthSessionValidity, RefreshTokenRotation: in.RefreshTokenRotation,
	}
}

// echoes asserts that an accepted client stores the numbers it was sent;
// a refresh validity of 0 is Cognito's default, 30 days.
func echoes(t *testing.T, in *cip.CreateUserPoolClientInput, got *types.UserPoolClientType) {
	t.Helper()
	same := func(member string, want, got *int32) {
		if want != nil && aws.ToInt32(got) != *want {
			t.Errorf("%s %d stored as %d", member, *want, aws.ToInt32(got))
		}
	}
	same("AccessTokenValidity", in.AccessTokenValidity, got.AccessTokenValidity)
	same("IdTokenValidity", in.IdTokenValidity, got.IdTokenValidity)
	if want := in.RefreshTokenValidity; want == 0 && got.RefreshTokenValidity != 30 || want != 0 && got.RefreshTokenValidity != want {
		t.Errorf("RefreshTokenValidity %d stored as %d", want, got.RefreshTokenValidity)
	}
	same("AuthSessionValidity", in.AuthSessionValidity, got.AuthSessionValidity)
	if r := in.RefreshTokenRotation; r != nil {
		same("RetryGracePeriodSeconds", r.RetryGracePeriodSeconds, got.RefreshTokenRotation.RetryGracePeriodSeconds)
	}
}

// TestConfigFileBounds: the config file feeds the same operations, so an
// out-of-range value in it stops the server with the same message.
func TestConfigFileBounds(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, pool, client, want string
	}{
		{"access token validity", `"PoolName": "p"`, `"AccessTokenValidity": -1`, atLeast("accessTokenValidity", -1, 1)},
		{"token life", `"PoolName": "p"`, `"IdTokenValidity": 2, "TokenValidityUnits": {"IdToken": "days"}`, tokenRange},
		{"password length", `"PoolName": "p", "Policies": {"PasswordPolicy": {"MinimumLength": 100}}`, `"AuthSessionValidity": 3`, atMost("policies.passwordPolicy.minimumLength", 100, 99)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "cognate.json")
			conf := `{"UserPools": [{"Id": "us-east-1_bounds", ` + tc.pool + `, "Clients": [{"ClientId": "boundsclient", "ClientName": "web", ` + tc.client + `}]}]}`
			if err := os.WriteFile(file, []byte(conf), 0o600); err != nil {
				t.Fatal(err)
			}
			srv, err := server.New(t.Context(), server.Config{DataDir: t.TempDir(), ConfigFile: file, Out: io.Discard})
			if err == nil {
				srv.Close()
				t.Fatal("the server started")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q lacks %q", err, tc.want)
			}
		})
	}
}
