package sqlite

import (
	"encoding/json"
	"slices"
	"strings"
	"unicode/utf8"
)

// Attribute maps are stored as the JSON text json.Marshal makes of them:
// an object with sorted keys, no white space, and only a few characters
// escaped. Most maps need no escape at all, and for those encodeMap and
// decodeMap below write and read that text directly, skipping encoding/json's
// reflection; decoded keys and values share the text's memory instead of
// being allocated one by one. Anything else (an escape, white space, a
// non-string value, text that is not valid UTF-8) goes through
// encoding/json, so both give exactly what encoding/json gives.

// encodeMap encodes an attribute map as JSON, nil as {}.
func encodeMap(m map[string]string) (string, error) {
	if m == nil {
		return "{}", nil
	}
	if s, ok := encodePlainMap(m); ok {
		return s, nil
	}
	b, err := json.Marshal(m)
	return string(b), err
}

// decodeMap decodes what encodeMap encodes, always to a non-nil map so
// that updaters can assign into it.
func decodeMap(s string) (map[string]string, error) {
	if m, ok := decodePlainMap(s); ok {
		return m, nil
	}
	m := map[string]string{}
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return nil, err
	}
	return m, nil
}

// encodePlainMap returns json.Marshal's encoding of m, or false if a key
// or value has a character json.Marshal would escape.
func encodePlainMap(m map[string]string) (string, bool) {
	var buf [16]string
	keys := buf[:0]
	size := len("{}") + len(m) - 1 // braces and commas
	for k, v := range m {
		if !plainJSON(k) || !plainJSON(v) {
			return "", false
		}
		keys = append(keys, k)
		size += len(`"":""`) + len(k) + len(v)
	}
	if len(keys) == 0 {
		return "{}", true
	}
	slices.Sort(keys) // json.Marshal sorts map keys so
	var b strings.Builder
	b.Grow(size)
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('"')
		b.WriteString(k)
		b.WriteString(`":"`)
		b.WriteString(m[k])
		b.WriteByte('"')
	}
	b.WriteByte('}')
	return b.String(), true
}

// plainJSON reports whether json.Marshal writes s between its quotes as
// it is: valid UTF-8 without control characters, quotes, backslashes, the
// HTML characters <, > and &, or the line and paragraph separators U+2028
// and U+2029.
func plainJSON(s string) bool {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
				return false
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 || r == '\u2028' || r == '\u2029' {
			return false
		}
		i += size
	}
	return true
}

// decodePlainMap decodes s if it is a JSON object of strings without
// white space or escapes, as json.Unmarshal would into a map[string]string,
// and reports whether it was.
func decodePlainMap(s string) (map[string]string, bool) {
	if len(s) < 2 || s[0] != '{' || s[len(s)-1] != '}' || !utf8.ValidString(s) {
		return nil, false
	}
	var buf [32]string
	kv := buf[:0] // key, value, key, value…
	body := s[1 : len(s)-1]
	for len(body) > 0 {
		if len(kv) > 0 {
			if body[0] != ',' {
				return nil, false
			}
			body = body[1:]
		}
		k, rest, ok := plainString(body)
		if !ok || len(rest) == 0 || rest[0] != ':' {
			return nil, false
		}
		v, rest, ok := plainString(rest[1:])
		if !ok {
			return nil, false
		}
		kv = append(kv, k, v)
		body = rest
	}
	m := make(map[string]string, len(kv)/2)
	for i := 0; i < len(kv); i += 2 {
		m[kv[i]] = kv[i+1] // a repeated key keeps its last value, as in encoding/json
	}
	return m, true
}

// plainString splits a JSON string without escapes or control characters
// off the start of s, returning its contents and what follows it.
func plainString(s string) (str, rest string, ok bool) {
	if len(s) == 0 || s[0] != '"' {
		return "", "", false
	}
	for i := 1; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"':
			return s[1:i], s[i+1:], true
		case c == '\\' || c < 0x20:
			return "", "", false
		}
	}
	return "", "", false
}
