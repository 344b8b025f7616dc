package eventsapi

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/cognate-auth/cognate/events"
)

// message is a decoded client message. Fields a type does not use are
// ignored, as are unknown ones (Amplify sends a legacy "payload").
type message struct {
	Type          string
	ID            string
	Channel       string
	Events        []string
	Authorization events.Headers
}

type rawMessage struct {
	Type          string                     `json:"type"`
	ID            string                     `json:"id"`
	Channel       string                     `json:"channel"`
	Events        []string                   `json:"events"`
	Authorization map[string]json.RawMessage `json:"authorization"`
}

// decodeMessage decodes a client message. On error the returned message
// still carries the type and id when they could be read, so the error can
// be answered as that operation's error.
//
// Decoding is on every message's path, so the messages clients send take
// decodeFast's single pass; whatever it is not sure of goes to
// decodeSlow, whose encoding/json semantics are the reference.
func decodeMessage(data []byte) (message, error) {
	if m, ok := decodeFast(data); ok {
		return m, nil
	}
	return decodeSlow(data)
}

// decodeSlow decodes a client message with encoding/json.
func decodeSlow(data []byte) (message, error) {
	var raw rawMessage
	err := json.Unmarshal(data, &raw)
	m := message{Type: raw.Type, ID: raw.ID, Channel: raw.Channel, Events: raw.Events}
	if err != nil {
		var typeErr *json.UnmarshalTypeError
		switch {
		case !errors.As(err, &typeErr):
			return message{}, events.BadRequest("The message is not valid JSON.")
		case typeErr.Field == "":
			return message{}, events.BadRequest("A message is a JSON object.")
		case typeErr.Field == "events" || strings.HasPrefix(typeErr.Field, "events."):
			return m, errNotStrings
		}
		return m, events.BadRequest("Field %q has the wrong type.", typeErr.Field)
	}
	if raw.Authorization != nil {
		m.Authorization = make(events.Headers, len(raw.Authorization))
		for k, v := range raw.Authorization {
			var s string
			if json.Unmarshal(v, &s) == nil {
				m.Authorization[strings.ToLower(k)] = s
			}
		}
	}
	return m, nil
}

var errNotStrings = events.BadRequest("events must be an array of strings, each a JSON document.")

// maxSkipDepth bounds the nesting of the unknown members' values the fast
// path skips. Real messages nest a level or two; deeper ones are left to
// encoding/json and its own limit.
const maxSkipDepth = 32

// maxFastHeaders bounds the authorization members the fast path takes;
// clients send a few.
const maxFastHeaders = 16

// Bits of fastDecoder.seen, one per known member, to notice duplicates.
const (
	seenType = 1 << iota
	seenID
	seenChannel
	seenEvents
	seenAuth
)

// span is a decoded string's place in fastDecoder.buf.
type span struct{ start, end int }

func (s span) in(all string) string { return all[s.start:s.end] }

// header is an authorization member: its lower-cased name and its value.
type header struct{ name, value span }

// fastDecoder decodes every string of the message into one buffer, so
// that they all share a single allocation. The spans are kept in arrays,
// on the stack: more events than a publish may carry, or more than
// maxFastHeaders headers, are left to decodeSlow.
type fastDecoder struct {
	data []byte
	pos  int
	buf  strings.Builder

	seen              uint8
	typ, id, channel  span
	events            [events.MaxEvents]span
	headers           [maxFastHeaders]header
	nEvents, nHeaders int
}

// decodeFast is decodeMessage's fast path: one pass over a client message
// that decodes what clients actually send and gives up (reports false) on
// anything else, leaving it to decodeSlow, whose encoding/json semantics
// are the reference. It must never accept what decodeSlow rejects nor
// decode anything differently, as FuzzDecodeMessage and
// FuzzDecodeFastPath check.
//
// It gives up on, among others: duplicate known members (encoding/json
// lets the last win, merging authorization objects), names that match a known one only when case is
// folded (encoding/json matches them), escaped or non-ASCII names (they
// could fold to a known one too), null or other non-string values where
// strings are expected (encoding/json leaves the field alone or reports
// the wrong type), non-string authorization values, two authorization
// names equal once lower-cased (decodeSlow keeps either, by map order),
// invalid UTF-8 and lone surrogates in decoded strings (encoding/json
// replaces them with U+FFFD), and deeply nested unknown values.
func decodeFast(data []byte) (message, bool) {
	d := fastDecoder{data: data}
	// Decoded strings are never longer than their JSON, so this is the
	// only allocation the buffer needs.
	d.buf.Grow(len(data))
	d.space()
	if !d.consume('{') || !d.members(d.member) {
		return message{}, false
	}
	d.space()
	if d.pos != len(d.data) {
		return message{}, false
	}
	return d.message()
}

// message builds the decoded message from the spans.
func (d *fastDecoder) message() (message, bool) {
	all := d.buf.String()
	m := message{Type: d.typ.in(all), ID: d.id.in(all), Channel: d.channel.in(all)}
	if d.seen&seenEvents != 0 {
		m.Events = make([]string, d.nEvents)
		for i, e := range d.events[:d.nEvents] {
			m.Events[i] = e.in(all)
		}
	}
	if d.seen&seenAuth != 0 {
		m.Authorization = make(events.Headers, d.nHeaders)
		for _, h := range d.headers[:d.nHeaders] {
			name := h.name.in(all)
			if _, dup := m.Authorization[name]; dup {
				return message{}, false
			}
			m.Authorization[name] = h.value.in(all)
		}
	}
	if m.Type == "subscribe" {
		// A subscription keeps its id and channel for as long as it
		// lasts: they should not keep the whole message's strings.
		m.ID, m.Channel = strings.Clone(m.ID), strings.Clone(m.Channel)
	}
	return m, true
}

// member decodes the value of the top-level member named key.
func (d *fastDecoder) member(key []byte) bool {
	switch string(key) {
	case "type":
		return d.once(seenType) && d.str(&d.typ)
	case "id":
		return d.once(seenID) && d.str(&d.id)
	case "channel":
		return d.once(seenChannel) && d.str(&d.channel)
	case "events":
		return d.once(seenEvents) && d.consume('[') && d.elements(d.event)
	case "authorization":
		return d.once(seenAuth) && d.consume('{') && d.members(d.header)
	}
	return !knownFold(key) && d.skip(0)
}

// once marks a known member as seen, reporting false if it already was.
func (d *fastDecoder) once(bit uint8) bool {
	if d.seen&bit != 0 {
		return false
	}
	d.seen |= bit
	return true
}

// knownFold reports whether the (ASCII) name key is a known member's
// name in another case, which encoding/json would match too.
func knownFold(key []byte) bool {
	var lower [len("authorization")]byte
	if len(key) > len(lower) {
		return false
	}
	for i, c := range key {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		lower[i] = c
	}
	switch string(lower[:len(key)]) {
	case "type", "id", "channel", "events", "authorization":
		return true
	}
	return false
}

// event decodes an element of events.
func (d *fastDecoder) event() bool {
	if d.nEvents == len(d.events) || !d.str(&d.events[d.nEvents]) {
		return false
	}
	d.nEvents++
	return true
}

// header decodes an authorization member; its name goes to the buffer
// lower-cased, as header names are matched.
func (d *fastDecoder) header(key []byte) bool {
	if d.nHeaders == len(d.headers) {
		return false
	}
	h := &d.headers[d.nHeaders]
	h.name.start = d.buf.Len()
	for _, c := range key {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		d.buf.WriteByte(c)
	}
	h.name.end = d.buf.Len()
	if !d.str(&h.value) {
		return false
	}
	d.nHeaders++
	return true
}

// handshakeHeaders are the connection's authorization headers: the
// upgrade request's headers, overridden by the JSON object of a
// "header-<base64url>" subprotocol when there is one (Amplify's way).
func handshakeHeaders(r *http.Request) (events.Headers, error) {
	h := requestHeaders(r)
	for _, p := range offeredProtocols(r) {
		enc, ok := strings.CutPrefix(p, "header-")
		if !ok {
			continue
		}
		fields, err := decodeHeaderProtocol(enc)
		if err != nil {
			return nil, err
		}
		for k, v := range fields {
			h[strings.ToLower(k)] = v
		}
	}
	return h, nil
}

func offeredProtocols(r *http.Request) []string {
	var out []string
	for _, v := range r.Header.Values("Sec-WebSocket-Protocol") {
		for p := range strings.SplitSeq(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

// decodeHeaderProtocol decodes the header- subprotocol's value: base64url
// without padding as Amplify sends it, tolerating padding and the
// standard alphabet; a JSON object whose string members are headers.
func decodeHeaderProtocol(enc string) (events.Headers, error) {
	enc = strings.TrimRight(enc, "=")
	b, err := base64.RawURLEncoding.DecodeString(enc)
	if err != nil {
		b, err = base64.RawStdEncoding.DecodeString(enc)
	}
	if err != nil {
		return nil, events.BadRequest("The header- subprotocol is not base64url: %v.", err)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, events.BadRequest("The header- subprotocol is not a JSON object.")
	}
	h := make(events.Headers, len(raw))
	for k, v := range raw {
		var s string
		if json.Unmarshal(v, &s) == nil {
			h[k] = s
		}
	}
	return h, nil
}
