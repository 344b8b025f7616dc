package demo

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"sort"
	"strings"
	"time"
)

// maxTokenSize bounds what the claims view decodes.
const maxTokenSize = 64 << 10

var errMalformedToken = errors.New("malformed token")

// claim is one row of the claims tables.
type claim struct {
	Name, Value string
	Note        string // e.g. the time a numeric date stands for
}

// decodeClaims reads a JWT's payload for display. The middleware verified
// the token already; this only decodes it.
func decodeClaims(raw string) (map[string]any, error) {
	if len(raw) > maxTokenSize {
		return nil, errMalformedToken
	}
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return nil, errMalformedToken
	}
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return nil, errMalformedToken
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil || m == nil || dec.More() {
		return nil, errMalformedToken
	}
	return m, nil
}

// timeClaims are JWT NumericDate claims, shown with their time too.
var timeClaims = map[string]bool{"exp": true, "iat": true, "nbf": true, "auth_time": true}

// tokenClaims are a token's claims sorted by name, nil when it cannot be
// decoded.
func tokenClaims(raw string) []claim {
	m, err := decodeClaims(raw)
	if err != nil {
		return nil
	}
	out := make([]claim, 0, len(m))
	for k, v := range m {
		c := claim{Name: k, Value: claimValue(v)}
		if n, ok := v.(json.Number); ok && timeClaims[k] {
			if secs, err := n.Int64(); err == nil {
				c.Note = stamp(time.Unix(secs, 0))
			}
		}
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func claimValue(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case json.Number:
		return v.String()
	case []any:
		parts := make([]string, len(v))
		for i, e := range v {
			parts[i] = claimValue(e)
		}
		return strings.Join(parts, ", ")
	}
	b, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return string(b)
}
