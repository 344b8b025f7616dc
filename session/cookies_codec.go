package session

import (
	"strings"
	"unicode/utf8"
)

// The codecs below reproduce js-cookie v3, which aws-amplify's
// CookieStorage uses, byte for byte, so a cookie written by either side
// reads the same on the other:
//
//   - names: encodeURIComponent, then # $ & + ^ ` | restored and ( )
//     escaped (so "a@b.com" travels as "a%40b.com");
//   - values: encodeURIComponent, then # $ & + / : < = > ? @ [ ] ^ ` { | }
//     restored;
//   - reading: names go through decodeURIComponent; values lose one pair
//     of surrounding quotes and have their %XX runs decoded.

const upperHex = "0123456789ABCDEF"

// uriUnreserved are the bytes encodeURIComponent leaves alone.
func uriUnreserved(c byte) bool {
	return isAlnum(c) || strings.IndexByte("-_.!~*'()", c) >= 0
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// nameKeeps and valueKeeps mark the bytes each encoding leaves alone. They
// are tables, not predicates, because a gateway encodes every forwarded
// token (kilobytes) on every request: a lookup per byte is measurably
// cheaper than a call.
var (
	nameKeeps = keepTable(func(c byte) bool {
		return (uriUnreserved(c) && c != '(' && c != ')') || strings.IndexByte("#$&+^`|", c) >= 0
	})
	valueKeeps = keepTable(func(c byte) bool {
		return uriUnreserved(c) || strings.IndexByte("#$&+/:<=>?@[]^`{|}", c) >= 0
	})
)

func keepTable(keeps func(byte) bool) *[256]bool {
	var t [256]bool
	for c := range t {
		t[c] = keeps(byte(c))
	}
	return &t
}

// encodeName is js-cookie's name encoding.
func encodeName(s string) string { return percentEncode(s, nameKeeps) }

// encodeValue is js-cookie's value encoding.
func encodeValue(s string) string { return percentEncode(s, valueKeeps) }

func percentEncode(s string, keep *[256]bool) string {
	n := 0
	for i := 0; i < len(s); i++ {
		if !keep[s[i]] {
			n++
		}
	}
	if n == 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 2*n)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if keep[c] {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(upperHex[c>>4])
		b.WriteByte(upperHex[c&15])
	}
	return b.String()
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// decodeName is decodeURIComponent: every '%' must start an escape and
// the result must be valid UTF-8, or the name is rejected (js-cookie then
// skips the cookie).
func decodeName(s string) (string, bool) {
	if strings.IndexByte(s, '%') < 0 {
		return s, true
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			b = append(b, s[i])
			continue
		}
		if i+2 >= len(s) {
			return "", false
		}
		hi, ok1 := unhex(s[i+1])
		lo, ok2 := unhex(s[i+2])
		if !ok1 || !ok2 {
			return "", false
		}
		b = append(b, hi<<4|lo)
		i += 2
	}
	if !utf8.Valid(b) {
		return "", false
	}
	return string(b), true
}

// decodeValue is js-cookie's default read converter: one pair of
// surrounding quotes is dropped, then each run of %XX escapes is decoded;
// a run that is not UTF-8 makes js-cookie skip the cookie, so it is
// rejected here too, as are raw bytes that are not UTF-8. A '%' that
// starts no escape stays as it is.
func decodeValue(s string) (string, bool) {
	if len(s) > 0 && s[0] == '"' {
		if len(s) >= 2 {
			s = s[1 : len(s)-1]
		} else {
			s = ""
		}
	}
	if !utf8.ValidString(s) {
		return "", false
	}
	if strings.IndexByte(s, '%') < 0 {
		return s, true
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		run, next := escapeRun(s, i)
		if run == nil {
			b.WriteByte(s[i])
			i++
			continue
		}
		if !utf8.Valid(run) {
			return "", false
		}
		b.Write(run)
		i = next
	}
	return b.String(), true
}

// escapeRun decodes the run of %XX escapes starting at i, or returns nil
// when none starts there.
func escapeRun(s string, i int) ([]byte, int) {
	var run []byte
	for i+2 < len(s) && s[i] == '%' {
		hi, ok1 := unhex(s[i+1])
		lo, ok2 := unhex(s[i+2])
		if !ok1 || !ok2 {
			break
		}
		run = append(run, hi<<4|lo)
		i += 3
	}
	return run, i
}
