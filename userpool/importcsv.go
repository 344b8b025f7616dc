package userpool

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/cognate-auth/cognate/storage"
)

// csvStandardColumns are the standard attributes in the order Cognito's
// GetCSVHeader lists them.
var csvStandardColumns = []string{
	"name", "given_name", "family_name", "middle_name", "nickname", "preferred_username", "profile", "picture",
	"website", "email", "email_verified", "gender", "birthdate", "zoneinfo", "locale", "phone_number",
	"phone_number_verified", "address", "updated_at",
}

// The columns of Cognito's own.
const (
	csvUsername   = "cognito:username"
	csvMFAEnabled = "cognito:mfa_enabled"
)

// csvHeader is a pool's import header as GetCSVHeader returns it: the
// standard attributes, the pool's custom ones, then cognito:mfa_enabled
// and cognito:username.
func csvHeader(p storage.Pool) []string {
	h := slices.Clone(csvStandardColumns)
	for _, a := range p.Settings.Schema {
		if strings.HasPrefix(a.Name, "custom:") {
			h = append(h, a.Name)
		}
	}
	return append(h, csvMFAEnabled, csvUsername)
}

// errImportHeader is a file whose header is not the pool's: the whole
// job fails.
var errImportHeader = errors.New("the CSV header does not match the user pool's (GetCSVHeader)")

// csvColumns maps each column of a file's header to its position, and
// checks that the columns are exactly the pool's header, in any order,
// as Cognito requires.
func csvColumns(p storage.Pool, header []string) (map[string]int, error) {
	want := csvHeader(p)
	cols := make(map[string]int, len(header))
	for i, name := range header {
		if i == 0 {
			name = strings.TrimPrefix(name, "\ufeff") // a spreadsheet's byte-order mark
		}
		if !slices.Contains(want, name) {
			return nil, fmt.Errorf("%w: unknown column %q", errImportHeader, truncate(name, 64))
		}
		if _, dup := cols[name]; dup {
			return nil, fmt.Errorf("%w: column %q appears twice", errImportHeader, name)
		}
		cols[name] = i
	}
	for _, name := range want {
		if _, ok := cols[name]; !ok {
			return nil, fmt.Errorf("%w: column %q is missing", errImportHeader, name)
		}
	}
	return cols, nil
}

// rowError is why a row did not import; skipped rows name users that
// exist already.
type rowError struct {
	msg     string
	skipped bool
}

func (e *rowError) Error() string { return e.msg }

func rowFailed(format string, args ...any) *rowError {
	return &rowError{msg: fmt.Sprintf(format, args...)}
}

// csvUser builds the user of one data row, following Cognito's rules:
// cognito:username and cognito:mfa_enabled required, booleans true or
// false, email (phone_number) required when email_verified
// (phone_number_verified) is true, at least one of the pool's
// auto-verified attributes verified, the pool's required attributes
// present, every value valid as AdminCreateUser would check it. The user
// has no password: RESET_REQUIRED.
func csvUser(p storage.Pool, cols map[string]int, rec []string) (storage.User, error) {
	if len(rec) != len(cols) {
		return storage.User{}, rowFailed("the row has %d columns, the header %d", len(rec), len(cols))
	}
	get := func(name string) string { return rec[cols[name]] }
	name := get(csvUsername)
	if name == "" {
		return storage.User{}, rowFailed("cognito:username is required")
	}
	if err := checkUsername(name); err != nil {
		return storage.User{}, rowFailed("invalid cognito:username")
	}
	switch strings.ToLower(get(csvMFAEnabled)) {
	case "false":
	case "true":
		return storage.User{}, rowFailed("cognito:mfa_enabled true is not supported: import with false, then set the user's MFA (AdminSetUserMFAPreference)")
	default:
		return storage.User{}, rowFailed("cognito:mfa_enabled must be true or false")
	}
	var attrs []AttributeType
	for col := range cols {
		v := get(col)
		if v == "" || col == csvUsername || col == csvMFAEnabled {
			continue
		}
		if col == "email_verified" || col == "phone_number_verified" {
			v = strings.ToLower(v)
		}
		attrs = append(attrs, AttributeType{Name: col, Value: v})
	}
	slices.SortFunc(attrs, func(a, b AttributeType) int { return strings.Compare(a.Name, b.Name) })
	if err := checkAttributes(p, attrs); err != nil {
		var e *Error
		if errors.As(err, &e) {
			return storage.User{}, rowFailed("%s", e.Message)
		}
		return storage.User{}, err
	}
	verified := func(attr string) bool { return strings.ToLower(get(attr+"_verified")) == "true" }
	for _, attr := range []string{"email", "phone_number"} {
		if verified(attr) && get(attr) == "" {
			return storage.User{}, rowFailed("%s_verified is true but %s is empty", attr, attr)
		}
	}
	if auto := p.Settings.AutoVerifiedAttributes; len(auto) > 0 && !slices.ContainsFunc(auto, verified) {
		return storage.User{}, rowFailed("none of the pool's auto-verified attributes (%s) is verified: set %s_verified to true",
			strings.Join(auto, ", "), auto[0])
	}
	for _, a := range p.Settings.Schema {
		if a.Required && get(a.Name) == "" {
			return storage.User{}, rowFailed("the pool requires %s", a.Name)
		}
	}
	sub := uuid.NewString()
	u := storage.User{PoolID: p.ID, Username: name, Sub: sub, Enabled: true, Status: storage.StatusResetRequired}
	if signsInByEmail(p) {
		// The username of an email pool is the sub; the email is the
		// name users sign in with.
		if get("email") == "" {
			return storage.User{}, rowFailed("the pool signs in by email: email is required")
		}
		u.Username = sub
	}
	applyAttributes(&u, attrs)
	u.Attributes["sub"] = sub
	return u, nil
}
