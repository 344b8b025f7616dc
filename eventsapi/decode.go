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
func decodeMessage(data []byte) (message, error) {
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
