package tokenverify

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"time"
)

// Claims are a verified token's claims.
type Claims struct {
	// Raw holds every claim as encoding/json decodes it (numbers are
	// float64).
	Raw map[string]any
	// Subject is sub; Username is username (access) or cognito:username
	// (id); ClientID is client_id or, for an id token, its single aud.
	Subject, Username, Email, TokenUse, ClientID string
	// Groups is cognito:groups.
	Groups []string
	// Expires is exp; IssuedAt (iat) and AuthTime (auth_time) are zero
	// when absent.
	Expires, IssuedAt, AuthTime time.Time
}

// maxNumericDate bounds NumericDate claims (year 2200); beyond it, or
// below zero, a claim is malformed.
const maxNumericDate = 7258118400

// parseClaims decodes a verified payload: a JSON object whose registered
// and Cognito claims have their types.
func parseClaims(payload []byte) (*Claims, []string, error) {
	var raw map[string]any
	if err := json.Unmarshal(payload, &raw); err != nil || raw == nil {
		return nil, nil, fmt.Errorf("%w: payload is not a JSON object", ErrInvalid)
	}
	c := &Claims{Raw: raw}
	for _, f := range []struct {
		name string
		dst  *string
	}{
		{"sub", &c.Subject}, {"email", &c.Email}, {"token_use", &c.TokenUse}, {"client_id", &c.ClientID},
		{"username", &c.Username},
	} {
		if err := stringClaim(raw, f.name, f.dst); err != nil {
			return nil, nil, err
		}
	}
	if c.Username == "" {
		if err := stringClaim(raw, "cognito:username", &c.Username); err != nil {
			return nil, nil, err
		}
	}
	aud, err := audience(raw)
	if err != nil {
		return nil, nil, err
	}
	if c.ClientID == "" && len(aud) == 1 {
		c.ClientID = aud[0]
	}
	if c.Groups, err = stringList(raw, "cognito:groups"); err != nil {
		return nil, nil, err
	}
	for _, f := range []struct {
		name string
		dst  *time.Time
	}{{"exp", &c.Expires}, {"iat", &c.IssuedAt}, {"auth_time", &c.AuthTime}} {
		if err := timeClaim(raw, f.name, f.dst); err != nil {
			return nil, nil, err
		}
	}
	if c.Expires.IsZero() {
		return nil, nil, fmt.Errorf("%w: no exp", ErrInvalid)
	}
	return c, aud, nil
}

func stringClaim(raw map[string]any, name string, dst *string) error {
	v, ok := raw[name]
	if !ok {
		return nil
	}
	s, ok := v.(string)
	if !ok {
		return fmt.Errorf("%w: claim %s is not a string", ErrInvalid, name)
	}
	*dst = s
	return nil
}

// stringList reads a claim that is an array of strings.
func stringList(raw map[string]any, name string) ([]string, error) {
	v, ok := raw[name]
	if !ok {
		return nil, nil
	}
	list, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("%w: claim %s is not an array", ErrInvalid, name)
	}
	out := make([]string, 0, len(list))
	for _, x := range list {
		s, ok := x.(string)
		if !ok {
			return nil, fmt.Errorf("%w: claim %s holds a non-string", ErrInvalid, name)
		}
		out = append(out, s)
	}
	return out, nil
}

// audience reads aud, a string or an array of strings (RFC 7519 §4.1.3).
func audience(raw map[string]any) ([]string, error) {
	if s, ok := raw["aud"].(string); ok {
		return []string{s}, nil
	}
	return stringList(raw, "aud")
}

// timeClaim reads a NumericDate claim (seconds, possibly fractional).
func timeClaim(raw map[string]any, name string, dst *time.Time) error {
	v, ok := raw[name]
	if !ok {
		return nil
	}
	f, ok := v.(float64)
	if !ok || math.IsNaN(f) || f < 0 || f > maxNumericDate {
		return fmt.Errorf("%w: claim %s is not a valid NumericDate", ErrInvalid, name)
	}
	sec := math.Floor(f)
	*dst = time.Unix(int64(sec), int64((f-sec)*1e9))
	return nil
}

// check applies the verifier's policy to verified claims: issuer, use,
// client, and the time claims at now. It reports whether the token has
// expired; any other failure is an error.
func (v *Verifier) check(c *Claims, aud []string, now time.Time) (expired bool, err error) {
	if iss, _ := c.Raw["iss"].(string); iss != v.cfg.Issuer {
		return false, fmt.Errorf("%w: iss %.80q, want %q", ErrInvalid, iss, v.cfg.Issuer)
	}
	switch {
	case v.cfg.TokenUse != "" && c.TokenUse != v.cfg.TokenUse:
		return false, fmt.Errorf("%w: token_use %.20q, want %q", ErrInvalid, c.TokenUse, v.cfg.TokenUse)
	case c.TokenUse != "" && c.TokenUse != "access" && c.TokenUse != "id":
		return false, fmt.Errorf("%w: token_use %.20q", ErrInvalid, c.TokenUse)
	}
	if len(v.cfg.ClientIDs) > 0 && !v.clientAllowed(c, aud) {
		return false, fmt.Errorf("%w: token was issued to another client", ErrInvalid)
	}
	skew := v.skew
	var nbf time.Time
	if err := timeClaim(c.Raw, "nbf", &nbf); err != nil {
		return false, err
	}
	if !nbf.IsZero() && now.Add(skew).Before(nbf) {
		return false, fmt.Errorf("%w: not valid before %s", ErrInvalid, nbf.UTC().Format(time.RFC3339))
	}
	if !c.IssuedAt.IsZero() && now.Add(skew).Before(c.IssuedAt) {
		return false, fmt.Errorf("%w: issued in the future (%s)", ErrInvalid, c.IssuedAt.UTC().Format(time.RFC3339))
	}
	return !now.Before(c.Expires.Add(skew)), nil
}

// clientAllowed checks client_id for access tokens, aud for id tokens,
// and either for tokens without token_use (other OIDC issuers).
func (v *Verifier) clientAllowed(c *Claims, aud []string) bool {
	ok := func(id string) bool { return id != "" && slices.Contains(v.cfg.ClientIDs, id) }
	clientID, _ := c.Raw["client_id"].(string)
	switch c.TokenUse {
	case "access":
		return ok(clientID)
	case "id":
		return slices.ContainsFunc(aud, ok)
	}
	return ok(clientID) || slices.ContainsFunc(aud, ok)
}
