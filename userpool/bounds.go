package userpool

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Admin requests are checked against the constraints of Cognito's API
// model (cognito-idp 2016-04-18: each member's value range, length range
// and enum) before anything is looked up or stored. Every violation is
// reported in one InvalidParameterException, worded as AWS's request
// validation words it, so that scripts written against Cognito see the
// same messages. The rules the model cannot express (token validity per
// unit, what Cognate supports) are checked where settings are built.

// span is an inclusive range: of an integer member's value, or of the
// length of a string or a list.
type span struct{ min, max int64 }

// The model's ranges of the members Cognate takes. Maxima that a request
// within cognitoapi's body limit cannot exceed (pagination tokens,
// attribute constraint strings) are left out.
var (
	accessTokenValidity  = span{1, 86400}
	idTokenValidity      = span{1, 86400}
	refreshTokenValidity = span{0, 315360000}
	authSessionValidity  = span{3, 15}
	retryGracePeriod     = span{0, 60}
	passwordMinLength    = span{6, 99}
	tempPasswordDays     = span{0, 365}
	groupPrecedence      = span{0, math.MaxInt32}
	queryLimit           = span{0, 60} // ListUsers, ListGroups, AdminListGroupsForUser
	poolQueryLimit       = span{1, 60} // ListUserPools

	nameLength         = span{1, 128} // pool, client and group names
	descriptionLength  = span{0, 2048}
	arnLength          = span{20, 2048}
	filterLength       = span{0, 256}
	searchedAttrLength = span{1, 32}
	customAttrLength   = span{1, 20}
	permissionLength   = span{1, 2048} // ReadAttributes, WriteAttributes
	providerNameLength = span{1, 32}
	redirectURLLength  = span{1, 1024}
	scopeLength        = span{1, 256}
	redirectURLCount   = span{0, 100}
	oauthFlowCount     = span{0, 3}
	scopeCount         = span{0, 50}
	schemaCount        = span{1, 50}
)

// attributeValueRange bounds the numbers in StringAttributeConstraints,
// which the model types as strings: a custom string attribute holds at
// most 2048 characters.
var attributeValueRange = span{0, maxAttributeValue}

// tokenLife is the range of lives Cognito accepts for a token, whatever
// the unit: access and id tokens 5 minutes to 1 day, refresh tokens 60
// minutes to 10 years.
type tokenLife struct{ min, max time.Duration }

var (
	accessTokenLife  = tokenLife{5 * minute, day}
	refreshTokenLife = tokenLife{hour, 3650 * day}
	unitLength       = map[string]time.Duration{"seconds": time.Second, "minutes": minute, "hours": hour, "days": day}
)

// holds reports whether n units is a life within l. It divides before it
// multiplies: the model lets n days overflow a time.Duration.
func (l tokenLife) holds(n int64, unit string) bool {
	d := unitLength[unit]
	return time.Duration(n) <= l.max/d && time.Duration(n)*d >= l.min
}

// enum is a member's allowed values, in the model's order.
type enum []string

// The model's enums of the members Cognate takes.
var (
	timeUnits          = enum{"seconds", "minutes", "hours", "days"}
	authFlows          = enum{"ADMIN_NO_SRP_AUTH", "CUSTOM_AUTH_FLOW_ONLY", "USER_PASSWORD_AUTH", "ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_CUSTOM_AUTH", "ALLOW_USER_PASSWORD_AUTH", "ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_USER_AUTH"}
	oauthFlows         = enum{"code", "implicit", "client_credentials"}
	existenceErrors    = enum{"LEGACY", "ENABLED"}
	features           = enum{"ENABLED", "DISABLED"}
	mfaModes           = enum{"OFF", "ON", "OPTIONAL"}
	deletionProtection = enum{"ACTIVE", "INACTIVE"}
	usernameAttributes = enum{"phone_number", "email"}
	aliasAttributes    = enum{"phone_number", "email", "preferred_username"}
	verifiedAttributes = enum{"phone_number", "email"}
	attributeDataTypes = enum{"String", "Number", "DateTime", "Boolean"}
	messageActions     = enum{"RESEND", "SUPPRESS"}
	deliveryMediums    = enum{"SMS", "EMAIL"}
	firstAuthFactors   = enum{factorPassword, factorEmailOTP, factorSMSOTP, factorWebAuthn}
)

func (e enum) rule() string {
	return "Member must satisfy enum value set: [" + strings.Join(e, ", ") + "]"
}

// violations collects constraint failures. Members are named by their
// path in the request, lower camel case, as AWS names them
// ("policies.passwordPolicy.minimumLength", "schema.2.member.name").
type violations []string

func (v *violations) fail(value any, path, rule string) {
	*v = append(*v, fmt.Sprintf("Value %s at '%s' failed to satisfy constraint: %s", shown(value), path, rule))
}

// shown renders a value the way AWS's messages quote it, cut short so that
// a huge value does not make a huge message.
func shown(value any) string {
	var s string
	switch x := value.(type) {
	case []string:
		s = "[" + strings.Join(x, ", ") + "]"
	default:
		s = fmt.Sprint(x)
	}
	if utf8.RuneCountInString(s) > 256 {
		s = string([]rune(s)[:256]) + "..."
	}
	return "'" + s + "'"
}

// err is the InvalidParameterException reporting every violation, or nil.
func (v violations) err() error {
	switch len(v) {
	case 0:
		return nil
	case 1:
		return invalidParam("1 validation error detected: %s", v[0])
	}
	return invalidParam("%d validation errors detected: %s", len(v), strings.Join(v, "; "))
}

func (v *violations) number(path string, n int64, r span) {
	switch {
	case n < r.min:
		v.fail(n, path, "Member must have value greater than or equal to "+strconv.FormatInt(r.min, 10))
	case n > r.max:
		v.fail(n, path, "Member must have value less than or equal to "+strconv.FormatInt(r.max, 10))
	}
}

// given checks a member whose zero value means it was left out: the
// request shapes hold such members as plain integers, so an explicit 0
// reads as absent and takes the default.
func (v *violations) given(path string, n int64, r span) {
	if n != 0 {
		v.number(path, n, r)
	}
}

func lengthRule(n int, r span) string {
	switch {
	case int64(n) < r.min:
		return "Member must have length greater than or equal to " + strconv.FormatInt(r.min, 10)
	case int64(n) > r.max:
		return "Member must have length less than or equal to " + strconv.FormatInt(r.max, 10)
	}
	return ""
}

// required reports a required string member left out or empty.
func (v *violations) required(path, s string) {
	if s == "" {
		*v = append(*v, fmt.Sprintf("Value null at '%s' failed to satisfy constraint: Member must not be null", path))
	}
}

// length checks a string member; an empty one is one left out (required
// reports it where it must be there).
func (v *violations) length(path, s string, r span) {
	if s == "" {
		return
	}
	if rule := lengthRule(utf8.RuneCountInString(s), r); rule != "" {
		v.fail(s, path, rule)
	}
}

// count checks a list member's length; an empty list is one left out.
func count[T any](v *violations, path string, list []T, r span) {
	if len(list) == 0 {
		return
	}
	if rule := lengthRule(len(list), r); rule != "" {
		v.fail(list, path, rule)
	}
}

// each checks the length of a string list's every element.
func (v *violations) each(path string, list []string, r span) {
	for _, s := range list {
		if rule := lengthRule(utf8.RuneCountInString(s), r); rule != "" {
			v.fail(list, path, "Member must satisfy constraint: ["+rule+"]")
			return
		}
	}
}

// oneOf checks an enum member; an empty one is one left out.
func (v *violations) oneOf(path, s string, e enum) {
	if s != "" && !slices.Contains(e, s) {
		v.fail(s, path, e.rule())
	}
}

// allOf checks a list of enum values.
func (v *violations) allOf(path string, list []string, e enum) {
	for _, s := range list {
		if !slices.Contains(e, s) {
			v.fail(list, path, "Member must satisfy constraint: ["+e.rule()+"]")
			return
		}
	}
}

func (in CreateUserPoolInput) validate() error {
	var v violations
	v.required("poolName", in.PoolName)
	v.length("poolName", in.PoolName, nameLength)
	if in.Policies != nil && in.Policies.PasswordPolicy != nil {
		pp := in.Policies.PasswordPolicy
		if pp.MinimumLength != nil {
			v.number("policies.passwordPolicy.minimumLength", int64(*pp.MinimumLength), passwordMinLength)
		}
		if pp.TemporaryPasswordValidityDays != nil {
			v.number("policies.passwordPolicy.temporaryPasswordValidityDays", int64(*pp.TemporaryPasswordValidityDays), tempPasswordDays)
		}
	}
	if in.Policies != nil && in.Policies.SignInPolicy != nil {
		v.allOf("policies.signInPolicy.allowedFirstAuthFactors", in.Policies.SignInPolicy.AllowedFirstAuthFactors, firstAuthFactors)
	}
	v.allOf("usernameAttributes", in.UsernameAttributes, usernameAttributes)
	v.allOf("aliasAttributes", in.AliasAttributes, aliasAttributes)
	v.allOf("autoVerifiedAttributes", in.AutoVerifiedAttributes, verifiedAttributes)
	v.oneOf("mfaConfiguration", in.MfaConfiguration, mfaModes)
	v.oneOf("deletionProtection", in.DeletionProtection, deletionProtection)
	if s := in.UserAttributeUpdateSettings; s != nil {
		v.allOf("userAttributeUpdateSettings.attributesRequireVerificationBeforeUpdate", s.AttributesRequireVerificationBeforeUpdate, verifiedAttributes)
	}
	count(&v, "schema", in.Schema, schemaCount)
	for i, a := range in.Schema {
		path := "schema." + strconv.Itoa(i+1) + ".member."
		// A "custom:" prefix is accepted and not counted: it is how
		// clients address the attribute afterwards.
		name := strings.TrimPrefix(a.Name, "custom:")
		v.required(path+"name", name)
		v.length(path+"name", name, customAttrLength)
		v.oneOf(path+"attributeDataType", a.AttributeDataType, attributeDataTypes)
	}
	return v.err()
}

func (in ListUserPoolsInput) validate() error {
	var v violations
	v.number("maxResults", int64(in.MaxResults), poolQueryLimit)
	return v.err()
}

func (in CreateUserPoolClientInput) validate() error {
	var v violations
	v.required("clientName", in.ClientName)
	in.ClientSettingsInput.check(&v)
	return v.err()
}

func (in UpdateUserPoolClientInput) validate() error {
	var v violations
	in.ClientSettingsInput.check(&v)
	return v.err()
}

// check adds the violations of the members CreateUserPoolClient and
// UpdateUserPoolClient share.
func (in ClientSettingsInput) check(v *violations) {
	v.length("clientName", in.ClientName, nameLength)
	v.number("refreshTokenValidity", in.RefreshTokenValidity, refreshTokenValidity)
	v.given("accessTokenValidity", in.AccessTokenValidity, accessTokenValidity)
	v.given("idTokenValidity", in.IdTokenValidity, idTokenValidity)
	if u := in.TokenValidityUnits; u != nil {
		v.oneOf("tokenValidityUnits.accessToken", u.AccessToken, timeUnits)
		v.oneOf("tokenValidityUnits.idToken", u.IdToken, timeUnits)
		v.oneOf("tokenValidityUnits.refreshToken", u.RefreshToken, timeUnits)
	}
	v.each("readAttributes", in.ReadAttributes, permissionLength)
	v.each("writeAttributes", in.WriteAttributes, permissionLength)
	v.allOf("explicitAuthFlows", in.ExplicitAuthFlows, authFlows)
	v.each("supportedIdentityProviders", in.SupportedIdentityProviders, providerNameLength)
	count(v, "callbackURLs", in.CallbackURLs, redirectURLCount)
	v.each("callbackURLs", in.CallbackURLs, redirectURLLength)
	count(v, "logoutURLs", in.LogoutURLs, redirectURLCount)
	v.each("logoutURLs", in.LogoutURLs, redirectURLLength)
	v.length("defaultRedirectURI", in.DefaultRedirectURI, redirectURLLength)
	count(v, "allowedOAuthFlows", in.AllowedOAuthFlows, oauthFlowCount)
	v.allOf("allowedOAuthFlows", in.AllowedOAuthFlows, oauthFlows)
	count(v, "allowedOAuthScopes", in.AllowedOAuthScopes, scopeCount)
	v.each("allowedOAuthScopes", in.AllowedOAuthScopes, scopeLength)
	v.oneOf("preventUserExistenceErrors", in.PreventUserExistenceErrors, existenceErrors)
	v.given("authSessionValidity", in.AuthSessionValidity, authSessionValidity)
	if r := in.RefreshTokenRotation; r != nil {
		v.required("refreshTokenRotation.feature", r.Feature)
		v.oneOf("refreshTokenRotation.feature", r.Feature, features)
		v.number("refreshTokenRotation.retryGracePeriodSeconds", r.RetryGracePeriodSeconds, retryGracePeriod)
	}
}

func (in AdminCreateUserInput) validate() error {
	var v violations
	v.oneOf("messageAction", in.MessageAction, messageActions)
	v.allOf("desiredDeliveryMediums", in.DesiredDeliveryMediums, deliveryMediums)
	return v.err()
}

func (in CreateGroupInput) validate() error {
	var v violations
	v.required("groupName", in.GroupName)
	v.length("groupName", in.GroupName, nameLength)
	v.length("description", in.Description, descriptionLength)
	v.length("roleArn", in.RoleArn, arnLength)
	if in.Precedence != nil {
		v.number("precedence", *in.Precedence, groupPrecedence)
	}
	return v.err()
}

func (in ListGroupsInput) validate() error {
	var v violations
	v.number("limit", int64(in.Limit), queryLimit)
	return v.err()
}

func (in AdminListGroupsForUserInput) validate() error {
	var v violations
	v.number("limit", int64(in.Limit), queryLimit)
	return v.err()
}

func (in ListUsersInput) validate() error {
	var v violations
	v.each("attributesToGet", in.AttributesToGet, searchedAttrLength)
	v.number("limit", int64(in.Limit), queryLimit)
	v.length("filter", in.Filter, filterLength)
	return v.err()
}
