package events

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"unicode/utf8"
)

// This file encodes the server → client messages of the AppSync Events
// WebSocket protocol. The data frame is built by hand from two shared
// parts — a per-subscription head and a per-event tail — so that fanning
// one event out to many subscriptions encodes it once.

var kaFrame = []byte(`{"type":"ka"}`)

func ackFrame(timeoutMs int64) []byte {
	b := []byte(`{"type":"connection_ack","connectionTimeoutMs":`)
	b = strconv.AppendInt(b, timeoutMs, 10)
	return append(b, '}')
}

// dataHead is `{"type":"data","id":"<subscription id>","event":`.
func dataHead(id string) []byte {
	b := append([]byte(nil), `{"type":"data","id":`...)
	b = appendString(b, id)
	return append(b, `,"event":`...)
}

// dataTail is `"<event as a JSON string>"}`.
func dataTail(event string) []byte {
	b := make([]byte, 0, len(event)+len(event)/8+8)
	b = appendString(b, event)
	return append(b, '}')
}

// idFrame is {"type":"<typ>","id":"<id>"}.
func idFrame(typ, id string) []byte {
	b := append([]byte(nil), `{"type":"`...)
	b = append(b, typ...)
	b = append(b, `","id":`...)
	b = appendString(b, id)
	return append(b, '}')
}

// wireError is one entry of a message's "errors".
type wireError struct {
	ErrorType string `json:"errorType"`
	ErrorCode int    `json:"errorCode,omitempty"`
	Message   string `json:"message"`
}

type errorFrameJSON struct {
	Type   string      `json:"type"`
	ID     string      `json:"id,omitempty"`
	Errors []wireError `json:"errors"`
}

// errorFrame is {"type":"<typ>","id":"<id>","errors":[…]}; the id is left
// out when empty (an "error" about a message without one).
func errorFrame(typ, id string, err error) []byte {
	e := AsError(err)
	return marshal(errorFrameJSON{Type: typ, ID: id, Errors: []wireError{{ErrorType: e.Type, Message: e.Message}}})
}

// ConnectionErrorFrame is the connection_error message for err, with its
// errorCode (Amplify does not retry 400, 401 and 403).
func ConnectionErrorFrame(err error) []byte {
	e := AsError(err)
	return marshal(errorFrameJSON{Type: "connection_error", Errors: []wireError{{ErrorType: e.Type, ErrorCode: e.Code, Message: e.Message}}})
}

type publishSuccessJSON struct {
	Type string `json:"type"`
	ID   string `json:"id"`
	PublishResult
}

func publishSuccessFrame(id string, r PublishResult) []byte {
	return marshal(publishSuccessJSON{Type: "publish_success", ID: id, PublishResult: r})
}

func marshal(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		// Only strings, ints and slices of them: cannot fail.
		panic(err)
	}
	return b
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string. Invalid UTF-8 becomes U+FFFD,
// as encoding/json does; HTML characters are left alone (the frames are
// not HTML).
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 || r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			switch r {
			case utf8.RuneError:
				b = append(b, `\ufffd`...)
			case '\u2028':
				b = append(b, `\u2028`...)
			default:
				b = append(b, `\u2029`...)
			}
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// newID is a random (version 4) UUID, the shape AppSync gives event
// identifiers.
func newID() string {
	var u [16]byte
	_, _ = rand.Read(u[:])
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	var s [36]byte
	hex.Encode(s[0:8], u[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], u[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], u[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], u[8:10])
	s[23] = '-'
	hex.Encode(s[24:], u[10:])
	return string(s[:])
}
