package userpool

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/cognate-auth/cognate/storage"
)

// DefaultPasswordPolicy is Cognito's default.
var DefaultPasswordPolicy = storage.PasswordPolicy{
	MinimumLength:                 8,
	RequireUppercase:              true,
	RequireLowercase:              true,
	RequireNumbers:                true,
	RequireSymbols:                true,
	TemporaryPasswordValidityDays: 7,
}

// cognitoSymbols are the characters Cognito counts as symbols.
const cognitoSymbols = "^$*.[]{}()?\"!@#%&/\\,><':;|_~`=+- "

// maxPasswordLen is Cognito's limit; it also bounds SRP hashing work.
const maxPasswordLen = 256

// checkPassword returns an InvalidPasswordException that spells out every
// unmet rule, so a user learns the policy from one attempt.
func checkPassword(p storage.PasswordPolicy, pw string) error {
	if pw == "" {
		return invalidParam("1 validation error detected: Value at 'password' failed to satisfy constraint: Member must not be null")
	}
	if !utf8.ValidString(pw) || utf8.RuneCountInString(pw) > maxPasswordLen {
		return invalidParam("1 validation error detected: Value at 'password' failed to satisfy constraint: Member must have length less than or equal to %d", maxPasswordLen)
	}
	if strings.TrimSpace(pw) != pw {
		return errorf(ErrInvalidPassword, "Password does not conform to policy: Password must not begin or end with a space")
	}
	var problems []string
	if utf8.RuneCountInString(pw) < p.MinimumLength {
		problems = append(problems, "Password not long enough")
	}
	var upper, lower, digit, symbol bool
	for _, r := range pw {
		switch {
		case unicode.IsUpper(r):
			upper = true
		case unicode.IsLower(r):
			lower = true
		case r >= '0' && r <= '9':
			digit = true
		case strings.ContainsRune(cognitoSymbols, r):
			symbol = true
		}
	}
	if p.RequireUppercase && !upper {
		problems = append(problems, "Password must have uppercase characters")
	}
	if p.RequireLowercase && !lower {
		problems = append(problems, "Password must have lowercase characters")
	}
	if p.RequireNumbers && !digit {
		problems = append(problems, "Password must have numeric characters")
	}
	if p.RequireSymbols && !symbol {
		problems = append(problems, "Password must have symbol characters")
	}
	if len(problems) == 0 {
		return nil
	}
	return errorf(ErrInvalidPassword, "Password does not conform to policy: %s", strings.Join(problems, "; "))
}
