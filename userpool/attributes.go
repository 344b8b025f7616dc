package userpool

import (
	"net/mail"
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/cognate-auth/cognate/storage"
)

// standardAttributes are the OIDC attributes every Cognito pool has.
var standardAttributes = map[string]bool{
	"address": true, "birthdate": true, "email": true, "email_verified": true, "family_name": true,
	"gender": true, "given_name": true, "locale": true, "middle_name": true, "name": true,
	"nickname": true, "phone_number": true, "phone_number_verified": true, "picture": true,
	"preferred_username": true, "profile": true, "updated_at": true, "website": true, "zoneinfo": true,
}

const maxAttributeValue = 2048

var e164 = regexp.MustCompile(`^\+[1-9][0-9]{3,14}$`)

// checkAttributes validates attributes a caller wants to set: known names
// (standard, or custom ones the schema declares), bounded values and
// well-formed email and phone numbers. sub is never settable.
func checkAttributes(p storage.Pool, attrs []AttributeType) error {
	seen := make(map[string]bool, len(attrs))
	for _, a := range attrs {
		if seen[a.Name] {
			return invalidParam("Duplicate attribute name: %s", a.Name)
		}
		seen[a.Name] = true
		if !knownAttribute(p, a.Name) {
			return invalidParam("Attributes did not conform to the schema: Type for attribute {%s} could not be determined", a.Name)
		}
		if !utf8.ValidString(a.Value) || len(a.Value) > maxAttributeValue {
			return invalidParam("Attribute value for %s must be valid UTF-8 of at most %d bytes", a.Name, maxAttributeValue)
		}
		switch a.Name {
		case "email":
			if !validEmail(a.Value) {
				return invalidParam("Invalid email address format.")
			}
		case "phone_number":
			if !e164.MatchString(a.Value) {
				return invalidParam("Invalid phone number format.")
			}
		case "email_verified", "phone_number_verified":
			if a.Value != "true" && a.Value != "false" {
				return invalidParam("Attribute value for %s must be true or false", a.Name)
			}
		}
	}
	return nil
}

func knownAttribute(p storage.Pool, name string) bool {
	if standardAttributes[name] {
		return true
	}
	if !strings.HasPrefix(name, "custom:") {
		return false
	}
	for _, s := range p.Settings.Schema {
		if s.Name == name {
			return true
		}
	}
	return false
}

func validEmail(v string) bool {
	if len(v) > 254 || strings.ContainsAny(v, " \t\r\n<>") {
		return false
	}
	a, err := mail.ParseAddress(v)
	return err == nil && a.Address == v && strings.Contains(v[strings.LastIndex(v, "@"):], ".")
}

// attributeList renders attributes the way Cognito lists them: sub first,
// then by name.
// attributeMap is a list of attributes as a map (the last value of a
// repeated name wins).
func attributeMap(attrs []AttributeType) map[string]string {
	out := make(map[string]string, len(attrs))
	for _, a := range attrs {
		out[a.Name] = a.Value
	}
	return out
}

func attributeList(attrs map[string]string) []AttributeType {
	out := make([]AttributeType, 0, len(attrs))
	for k, v := range attrs {
		out = append(out, AttributeType{Name: k, Value: v})
	}
	sort.Slice(out, func(i, j int) bool {
		if (out[i].Name == "sub") != (out[j].Name == "sub") {
			return out[i].Name == "sub"
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// checkClientWritable refuses, from an app client, the attributes only an
// administrator may set: a user asserting email_verified would vouch for
// an address nobody proved (Cognito's "unauthorized attribute").
func checkClientWritable(attrs []AttributeType) error {
	for _, a := range attrs {
		if a.Name == "email_verified" || a.Name == "phone_number_verified" {
			return errorf(ErrNotAuthorized, "A client attempted to write unauthorized attribute")
		}
	}
	return nil
}

// applyUnverified sets attributes a user chose: a changed email or phone
// number loses its verification, since nobody proved the new one.
func applyUnverified(u *storage.User, attrs []AttributeType) {
	oldEmail, oldPhone := u.Attributes["email"], u.Attributes["phone_number"]
	applyAttributes(u, attrs)
	if u.Attributes["email"] != oldEmail {
		u.Attributes["email_verified"] = "false"
	}
	if u.Attributes["phone_number"] != oldPhone {
		u.Attributes["phone_number_verified"] = "false"
	}
}

// applyAttributes sets attrs on u, keeping the email alias column in step.
func applyAttributes(u *storage.User, attrs []AttributeType) {
	if u.Attributes == nil {
		u.Attributes = map[string]string{}
	}
	for _, a := range attrs {
		u.Attributes[a.Name] = a.Value
		if a.Name == "email" {
			u.Email = strings.ToLower(a.Value)
		}
	}
}
