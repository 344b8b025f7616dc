package eventsapi

import (
	"encoding/binary"
	"unicode/utf16"
	"unicode/utf8"
)

// The JSON syntax of decodeFast. Each method passes over one piece of
// the input at d.pos, reporting false when the input is not what it
// expected, or when encoding/json would decode it differently.

// plain says which bytes stand for themselves inside a JSON string:
// all but the quote, the backslash and control characters.
var plain = func() (t [256]bool) {
	for c := range t {
		t[c] = c >= 0x20 && c != '"' && c != '\\'
	}
	return t
}()

// unescape maps the byte after a backslash to the byte it stands for;
// zero for 'u' (handled apart) and for what is not an escape.
var unescape = [256]byte{
	'"': '"', '\\': '\\', '/': '/',
	'b': '\b', 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t',
}

// members decodes an object's members, after its '{' and up to its '}',
// calling value for each with the member's name and d.pos at its value.
func (d *fastDecoder) members(value func(key []byte) bool) bool {
	d.space()
	if d.consume('}') {
		return true
	}
	for {
		key, ok := d.key()
		if !ok || !d.colon() || !value(key) {
			return false
		}
		d.space()
		if d.consume('}') {
			return true
		}
		if !d.consume(',') {
			return false
		}
		d.space()
	}
}

// elements decodes an array's elements, after its '[' and up to its ']',
// calling value for each with d.pos at the element.
func (d *fastDecoder) elements(value func() bool) bool {
	d.space()
	if d.consume(']') {
		return true
	}
	for {
		if !value() {
			return false
		}
		d.space()
		if d.consume(']') {
			return true
		}
		if !d.consume(',') {
			return false
		}
		d.space()
	}
}

// key returns a member's name as it is in the input. Only names of plain
// ASCII are taken: with escapes or other letters a name could spell a
// known one in a way encoding/json matches (it folds "ſ" to "s"). Names
// in unknown members' values are rarely anything else either.
func (d *fastDecoder) key() ([]byte, bool) {
	if !d.consume('"') {
		return nil, false
	}
	data, start, i := d.data, d.pos, d.pos
	for i < len(data) && data[i] < utf8.RuneSelf && plain[data[i]] {
		i++
	}
	d.pos = i
	return data[start:i], d.consume('"')
}

// colon passes over the ':' after a member's name and the space around.
func (d *fastDecoder) colon() bool {
	d.space()
	ok := d.consume(':')
	d.space()
	return ok
}

// str decodes a string into the buffer and sets *s to its place there.
func (d *fastDecoder) str(s *span) bool {
	if !d.consume('"') {
		return false
	}
	start := d.buf.Len()
	for {
		run, ok := d.run()
		if !ok {
			return false
		}
		d.buf.Write(run)
		switch {
		case d.consume('"'):
			*s = span{start, d.buf.Len()}
			return true
		case !d.consume('\\') || !d.escape():
			return false // a control character, an invalid escape or the end
		}
	}
}

// run passes over the bytes of a string that stand for themselves and
// returns them, or false if they are not valid UTF-8. Event strings are
// most of a message's bytes: it takes eight at a time while it can.
func (d *fastDecoder) run() ([]byte, bool) {
	data, i := d.data, d.pos
	for len(data)-i >= 8 && plainASCII(binary.LittleEndian.Uint64(data[i:])) {
		i += 8
	}
	var high byte
	for i < len(data) && plain[data[i]] {
		high |= data[i]
		i++
	}
	run := data[d.pos:i]
	d.pos = i
	return run, high < utf8.RuneSelf || utf8.Valid(run)
}

// plainASCII reports whether the eight bytes of w are all ASCII bytes
// that stand for themselves in a string. Subtracting n from an ASCII byte
// sets its top bit when the byte is below n: below 0x20 for a control
// character, below 1 for a byte equal to the quote or backslash once
// XORed with it. A borrow into the next byte only comes from such a byte,
// so it cannot make a plain word look otherwise.
func plainASCII(w uint64) bool {
	const ones, tops = 0x0101010101010101, 0x8080808080808080
	control := w - 0x20*ones
	quote := (w ^ '"'*ones) - ones
	backslash := (w ^ '\\'*ones) - ones
	return ((control|quote|backslash)&^w|w)&tops == 0
}

// escape decodes the escape sequence after a backslash into the buffer.
func (d *fastDecoder) escape() bool {
	if d.pos < len(d.data) && unescape[d.data[d.pos]] != 0 {
		d.buf.WriteByte(unescape[d.data[d.pos]])
		d.pos++
		return true
	}
	r, ok := d.unicode()
	if ok {
		d.buf.WriteRune(r)
	}
	return ok
}

// unicode decodes a \u escape, after its backslash, or two for a rune
// outside the Basic Multilingual Plane. encoding/json replaces a lone
// surrogate with U+FFFD: that is left to it.
func (d *fastDecoder) unicode() (rune, bool) {
	if !d.consume('u') {
		return 0, false
	}
	r, ok := d.hex4()
	if !ok || !utf16.IsSurrogate(r) {
		return r, ok
	}
	if !d.consume('\\') || !d.consume('u') {
		return 0, false
	}
	low, ok := d.hex4()
	r = utf16.DecodeRune(r, low)
	return r, ok && r != utf8.RuneError
}

// hex4 decodes the four hexadecimal digits of a \u escape.
func (d *fastDecoder) hex4() (rune, bool) {
	if len(d.data)-d.pos < 4 {
		return 0, false
	}
	var r rune
	for _, c := range d.data[d.pos : d.pos+4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	d.pos += 4
	return r, true
}

// skip passes over the value of an unknown member, checking its syntax
// as encoding/json would; depth is how deep in such a value it is.
func (d *fastDecoder) skip(depth int) bool {
	if d.pos >= len(d.data) || depth >= maxSkipDepth {
		return false
	}
	switch d.data[d.pos] {
	case '"':
		d.pos++
		return d.skipString()
	case '{':
		d.pos++
		return d.members(func([]byte) bool { return d.skip(depth + 1) })
	case '[':
		d.pos++
		return d.elements(func() bool { return d.skip(depth + 1) })
	case 't':
		return d.literal("true")
	case 'f':
		return d.literal("false")
	case 'n':
		return d.literal("null")
	}
	return d.number()
}

// skipString passes over a string, after its opening quote, checking
// only its syntax: its value is ignored, so encoding/json would accept
// invalid UTF-8 or lone surrogates in it.
func (d *fastDecoder) skipString() bool {
	for d.pos < len(d.data) {
		c := d.data[d.pos]
		d.pos++
		switch {
		case c == '"':
			return true
		case c < 0x20:
			return false
		case c == '\\' && !d.skipEscape():
			return false
		}
	}
	return false
}

// skipEscape passes over an escape sequence, after its backslash.
func (d *fastDecoder) skipEscape() bool {
	if d.consume('u') {
		_, ok := d.hex4()
		return ok
	}
	if d.pos < len(d.data) && unescape[d.data[d.pos]] != 0 {
		d.pos++
		return true
	}
	return false
}

// number passes over a number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (d *fastDecoder) number() bool {
	d.consume('-')
	if !d.consume('0') && !d.digits() {
		return false
	}
	if d.consume('.') && !d.digits() {
		return false
	}
	if d.consume('e') || d.consume('E') {
		if !d.consume('+') {
			d.consume('-')
		}
		return d.digits()
	}
	return true
}

// digits passes over one or more decimal digits.
func (d *fastDecoder) digits() bool {
	start := d.pos
	for d.pos < len(d.data) && '0' <= d.data[d.pos] && d.data[d.pos] <= '9' {
		d.pos++
	}
	return d.pos > start
}

// literal passes over true, false or null.
func (d *fastDecoder) literal(lit string) bool {
	if len(d.data)-d.pos < len(lit) || string(d.data[d.pos:d.pos+len(lit)]) != lit {
		return false
	}
	d.pos += len(lit)
	return true
}

// space passes over JSON's white space.
func (d *fastDecoder) space() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

// consume passes over c if it is next.
func (d *fastDecoder) consume(c byte) bool {
	if d.pos < len(d.data) && d.data[d.pos] == c {
		d.pos++
		return true
	}
	return false
}
